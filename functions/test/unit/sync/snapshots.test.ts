import { canonicalJson, contentHash, firestoreSize } from "../../../src/sync/snapshots";
import { mapPool } from "../../../src/sync/pool";

describe("snapshot hashing and sizing", () => {
  it("when two objects differ only in key order, then their canonical JSON and hash are equal", () => {
    const a = canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } });
    const b = canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 });
    expect(a).toBe(b);
    expect(contentHash(a)).toBe(contentHash(b));
    expect(contentHash(a)).not.toBe(contentHash(canonicalJson({ b: 2 })));
  });

  it("when sizing values, then Firestore's rules are followed and unstorable shapes are Infinity", () => {
    expect(firestoreSize({ ab: "xyz", n: 5, t: true })).toBe(3 + 4 + 2 + 8 + 2 + 1);
    expect(firestoreSize([[1]])).toBe(Infinity);
    expect(firestoreSize({ __name__: 1 })).toBe(Infinity);
  });
});

describe("mapPool", () => {
  it("when mapping with a limit, then no more than the limit run at once and order is kept", async () => {
    let running = 0;
    let peak = 0;
    const out = await mapPool([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return n * 2;
    });
    expect(out).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(peak).toBe(3);
  });
});
