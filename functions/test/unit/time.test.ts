import { nextMidnight, wallClock, zoneOffsetMs } from "../../src/time";

const LA = "America/Los_Angeles";
const at = (iso: string) => new Date(iso);

describe("time zones", () => {
  it.each([
    // Standard time (UTC−8): midnight is 08:00 UTC.
    ["2026-12-01T22:00:00Z", "2026-12-02T08:00:00.000Z"],
    ["2026-12-02T07:59:59Z", "2026-12-02T08:00:00.000Z"],
    ["2026-12-02T08:00:00Z", "2026-12-03T08:00:00.000Z"],
    // Daylight saving time (UTC−7): midnight is 07:00 UTC.
    ["2026-07-01T06:59:59Z", "2026-07-01T07:00:00.000Z"],
    ["2026-07-01T07:00:00Z", "2026-07-02T07:00:00.000Z"],
    // 8 March 2026, 02:00 PST → 03:00 PDT: the day after the switch starts at 07:00 UTC.
    ["2026-03-08T08:30:00Z", "2026-03-09T07:00:00.000Z"],
    // 1 November 2026, 02:00 PDT → 01:00 PST: that day is 25 hours long.
    ["2026-11-01T07:30:00Z", "2026-11-02T08:00:00.000Z"],
  ])("when it is %s, then the next midnight in Los Angeles is %s", (now, expected) => {
    expect(nextMidnight(at(now), LA).toISOString()).toBe(expected);
  });

  it("when the next midnight is computed, then it is a midnight on the zone's wall clock, strictly later", () => {
    for (let t = Date.parse("2026-01-01T00:00:00Z"); t < Date.parse("2027-01-01T00:00:00Z"); t += 3.7 * 3_600_000) {
      const m = nextMidnight(new Date(t), LA);
      expect(m.getTime()).toBeGreaterThan(t);
      expect(m.getTime() - t).toBeLessThanOrEqual(25 * 3_600_000);
      expect(wallClock(m, LA)).toMatchObject({ hour: 0, minute: 0, second: 0 });
    }
  });

  it("when offsets are read, then Los Angeles is 8 hours behind in winter and 7 in summer, and UTC is 0", () => {
    expect(zoneOffsetMs(at("2026-01-15T12:00:00Z"), LA)).toBe(-8 * 3_600_000);
    expect(zoneOffsetMs(at("2026-06-15T12:00:00Z"), LA)).toBe(-7 * 3_600_000);
    expect(nextMidnight(at("2026-06-15T12:00:00Z"), "UTC").toISOString()).toBe("2026-06-16T00:00:00.000Z");
  });
});
