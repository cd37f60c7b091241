import { GeoPoint, Timestamp } from "./deps";
import { canonical, contentHash } from "./canonical";

describe("canonical document data", () => {
  it("when two maps hold the same fields in another order, then they are equal", () => {
    expect(canonical({ a: 1, b: { y: [1, "x"], x: null } })).toBe(canonical({ b: { x: null, y: [1, "x"] }, a: 1 }));
  });

  it.each<[string, unknown, unknown]>([
    ["a number and its string", { a: 1 }, { a: "1" }],
    ["array order", { a: [1, 2] }, { a: [2, 1] }],
    ["timestamps a nanosecond apart", { t: new Timestamp(1, 0) }, { t: new Timestamp(1, 1) }],
    ["bytes", { b: Buffer.from("a") }, { b: Buffer.from("b") }],
    ["a geo point and a map", { g: new GeoPoint(1, 2) }, { g: { latitude: 1, longitude: 2 } }],
    ["0 and -0", { z: 0 }, { z: -0 }],
    ["null and a missing field", { a: null }, {}],
  ])("when values differ by %s, then they are not equal", (_what, a, b) => {
    expect(canonical(a)).not.toBe(canonical(b));
    expect(contentHash(a)).not.toBe(contentHash(b));
  });
});
