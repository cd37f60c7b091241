/** The web app's listening-history data: reading month and point documents, ranges, series, words. */
import {
  dayToSeconds,
  formatMinutes,
  gapWords,
  gridLevels,
  lastDays,
  latestPoint,
  liveMonths,
  pointSeries,
  readMonth,
  readPointMonth,
  searchNames,
} from "../../../web/src/history/data";
import { minutesPerDay, monthsCovering, topInRange } from "../../src/history/read";

const ts = (iso: string) => ({ toMillis: () => Date.parse(iso) }); // a Timestamp look-alike

const monthDoc = {
  provider: "spotify",
  month: "2026-11",
  timeZone: "Etc/UTC",
  plays: 3,
  ms: 600_000,
  days: { "29": { plays: 2, ms: 420_000 }, "30": { plays: 1, ms: 180_000 }, bad: { plays: 9, ms: 9 } },
  grid: { "6-10": 2, "0-11": 1 },
  artists: {
    a1: {
      name: "Ada",
      plays: 3,
      ms: 600_000,
      first: ts("2026-11-29T10:00:00Z"),
      last: ts("2026-11-30T11:00:00Z"),
      days: { "29": 2, "30": 1 },
    },
    broken: { name: "No times", plays: 1, ms: 1, days: {} },
  },
  tracks: {
    t1: {
      name: "Song One",
      artists: "Ada",
      albumName: null,
      plays: 2,
      ms: 420_000,
      first: ts("2026-11-29T10:00:00Z"),
      last: ts("2026-11-29T10:04:00Z"),
      days: { "29": 2 },
    },
  },
};

describe("readMonth", () => {
  it("when a play_stats document is read, then days, grid and entries with play times are kept and odd ones skipped", () => {
    const m = readMonth(monthDoc)!;
    expect(Object.keys(m.days).sort()).toEqual(["29", "30"]);
    expect(m.grid).toEqual({ "6-10": 2, "0-11": 1 });
    expect(Object.keys(m.artists)).toEqual(["a1"]);
    expect(m.tracks.t1!.artists).toBe("Ada");
  });

  it("when the document is not a month aggregate, then it reads as null", () => {
    expect(readMonth({ ...monthDoc, month: "2026-1" })).toBeNull();
    expect(readMonth({ month: "2026-11" })).toBeNull();
    expect(readMonth(null)).toBeNull();
  });

  it("when read documents go through the shared readers, then the day totals and top lists come out of them", () => {
    const m = readMonth(monthDoc)!;
    const days = minutesPerDay([m], "2026-11-28", "2026-11-30");
    expect(days.map((d) => [d.day, d.minutes])).toEqual([
      ["2026-11-28", 0],
      ["2026-11-29", 7],
      ["2026-11-30", 3],
    ]);
    expect(topInRange([m], "2026-11-30", "2026-11-30", "tracks", 5)).toEqual([]);
    expect(topInRange([m], "2026-11-29", "2026-11-30", "artists", 5).map((e) => [e.id, e.plays])).toEqual([["a1", 3]]);
  });
});

describe("ranges", () => {
  it("when the last 30 days end on Dec 2, then they start on Nov 3, and the live window reads 13 months at most", () => {
    expect(lastDays("2026-12-02", 30)).toEqual({ from: "2026-11-03", to: "2026-12-02" });
    expect(liveMonths("2026-12-02")).toEqual({ first: "2025-12", last: "2026-12" });
    expect(monthsCovering(lastDays("2026-12-31", 365).from, "2026-12-31")).toHaveLength(12);
    expect(monthsCovering(lastDays("2026-12-02", 365).from, "2026-12-02")).toHaveLength(13);
  });

  it("when a day is charted, then its x value is the UTC midnight of that day", () => {
    expect(dayToSeconds("2026-12-02")).toBe(Date.UTC(2026, 11, 2) / 1000);
  });
});

describe("daily points", () => {
  const months = [
    readPointMonth({
      provider: "instagram",
      month: "2026-11",
      days: { "30": { followers: 120 }, x: { followers: 1 } },
    })!,
    readPointMonth({ provider: "instagram", month: "2026-12", days: { "02": { followers: 125 } } })!,
  ];

  it("when a number is charted, then every day of the range has its value or null", () => {
    const series = pointSeries(months, { from: "2026-11-30", to: "2026-12-02" }, (p) =>
      typeof p.followers === "number" ? p.followers : null,
    );
    expect(series).toEqual([
      { day: "2026-11-30", value: 120 },
      { day: "2026-12-01", value: null },
      { day: "2026-12-02", value: 125 },
    ]);
    expect(latestPoint(months)?.day).toBe("2026-12-02");
  });
});

describe("words", () => {
  it("when a gap is shown, then it names both times and the window", () => {
    const text = gapWords(
      { after: new Date("2026-12-01T08:00:00Z"), before: new Date("2026-12-01T20:30:00Z"), detectedAt: null },
      50,
      "Etc/UTC",
    );
    expect(text).toMatch(
      /^Some plays between .*2026.* and .*2026.* may be missing: more than 50 plays happened between two syncs\.$/,
    );
    expect(text).toContain("8:00");
    expect(text).toContain("8:30");
  });

  it("when minutes are formatted, then an hour or more reads in hours and minutes", () => {
    expect(formatMinutes(42.4)).toBe("42 min");
    expect(formatMinutes(65)).toBe("1 h 05 min");
  });

  it("when the grid is shaded, then the largest cell is 1 and an empty grid is all 0", () => {
    expect(gridLevels([[0, 2, 4]])).toEqual([[0, 0.5, 1]]);
    expect(gridLevels([[0, 0]])).toEqual([[0, 0]]);
  });

  it("when names are searched, then artists and tracks matching by name or artist come first by plays", () => {
    const m = readMonth(monthDoc)!;
    expect(searchNames([m], "ada", 5).map((r) => [r.kind, r.id])).toEqual([
      ["artists", "a1"],
      ["tracks", "t1"],
    ]);
    expect(searchNames([m], "song", 5).map((r) => r.id)).toEqual(["t1"]);
    expect(searchNames([m], "  ", 5)).toEqual([]);
  });
});
