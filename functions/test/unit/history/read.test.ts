/**
 * The pure readers of the month aggregates (history/read.ts) that the web app bundles: minutes per
 * day, top artists and tracks of a date range, first and last listens, the grid, month ranges —
 * and that the module bundles for the browser without any node-only or firebase-admin code.
 */
import { join } from "node:path";
import { buildSync } from "esbuild";
import { rebuildMonths } from "../../../src/history/aggregates";
import type { Play } from "../../../src/history/model";
import {
  addDays,
  daysBetween,
  firstLast,
  gridOf,
  minutesPerDay,
  monthsCovering,
  topInRange,
} from "../../../src/history/read";

function play(iso: string, track: string, artist: string, durationMs = 60_000): Play {
  return {
    provider: "spotify",
    playedAt: new Date(iso),
    trackId: track,
    trackName: `Song ${track}`,
    artists: [{ id: artist, name: `Artist ${artist}` }],
    albumId: null,
    albumName: null,
    durationMs,
    context: null,
  };
}

const plays = [
  play("2026-02-27T10:00:00Z", "t1", "a1", 90_000),
  play("2026-02-28T10:00:00Z", "t1", "a1"),
  play("2026-03-01T10:00:00Z", "t2", "a2"),
  play("2026-03-01T11:00:00Z", "t2", "a2"),
  play("2026-03-01T12:00:00Z", "t3", "a2"),
  play("2026-03-03T12:00:00Z", "t1", "a1"),
];
const months = [...rebuildMonths(plays, "Etc/UTC").values()];

describe("day and month ranges", () => {
  it("when days are added across months, years and leap days, then the calendar is followed", () => {
    expect(addDays("2026-02-28", 1)).toBe("2026-03-01");
    expect(addDays("2028-02-28", 1)).toBe("2028-02-29");
    expect(addDays("2026-01-01", -1)).toBe("2025-12-31");
    expect(daysBetween("2026-02-27", "2026-03-02")).toEqual(["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]);
    expect(daysBetween("2026-03-02", "2026-03-01")).toEqual([]);
    expect(monthsCovering("2025-11-15", "2026-02-01")).toEqual(["2025-11", "2025-12", "2026-01", "2026-02"]);
    expect(monthsCovering("2026-03-01", "2026-03-31")).toEqual(["2026-03"]);
    expect(() => monthsCovering("2026-3-1", "2026-03-31")).toThrow(/Invalid day/);
  });
});

describe("minutesPerDay", () => {
  it("when a range spans two months, then every day is listed, days without plays as 0", () => {
    expect(minutesPerDay(months, "2026-02-27", "2026-03-02")).toEqual([
      { day: "2026-02-27", plays: 1, ms: 90_000, minutes: 1.5 },
      { day: "2026-02-28", plays: 1, ms: 60_000, minutes: 1 },
      { day: "2026-03-01", plays: 3, ms: 180_000, minutes: 3 },
      { day: "2026-03-02", plays: 0, ms: 0, minutes: 0 },
    ]);
  });
});

describe("topInRange", () => {
  it("when the range cuts months, then only its days count, most plays first, ties by name", () => {
    expect(topInRange(months, "2026-02-28", "2026-03-03", "artists", 10)).toEqual([
      { id: "a2", name: "Artist a2", plays: 3, artists: null, albumName: null },
      { id: "a1", name: "Artist a1", plays: 2, artists: null, albumName: null },
    ]);
    const tracks = topInRange(months, "2026-02-27", "2026-03-01", "tracks", 2);
    expect(tracks.map((t) => [t.id, t.plays])).toEqual([
      ["t1", 2],
      ["t2", 2],
    ]);
    expect(tracks[0]!.artists).toBe("Artist a1");
    expect(topInRange(months, "2026-03-04", "2026-03-31", "tracks", 5)).toEqual([]);
  });
});

describe("firstLast", () => {
  it("when a track is played in several months, then its first and last play span them", () => {
    expect(firstLast(months, "tracks", "t1")).toEqual({
      name: "Song t1",
      first: Date.parse("2026-02-27T10:00:00Z"),
      last: Date.parse("2026-03-03T12:00:00Z"),
      plays: 3,
    });
    expect(firstLast(months, "artists", "a2")?.plays).toBe(3);
    expect(firstLast(months, "artists", "nobody")).toBeNull();
    expect(firstLast(months, "tracks", "constructor")).toBeNull();
  });
});

describe("gridOf", () => {
  it("when months are summed, then the grid is 7 weekdays × 24 hours, Monday first", () => {
    const grid = gridOf(months);
    expect(grid).toHaveLength(7);
    expect(grid.every((row) => row.length === 24)).toBe(true);
    // 2026-03-01 is a Sunday: 10:00, 11:00, 12:00.
    expect(grid[6]![10]! + grid[6]![11]! + grid[6]![12]!).toBe(3);
    expect(grid.flat().reduce((a, b) => a + b, 0)).toBe(plays.length);
  });
});

describe("bundling for the browser", () => {
  it("when read.ts is bundled for the browser, then it builds and carries no firebase or node code", () => {
    const out = buildSync({
      entryPoints: [join(__dirname, "../../../src/history/read.ts")],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
    });
    const code = out.outputFiles[0]!.text;
    expect(code).toContain("minutesPerDay");
    expect(code).not.toMatch(/firebase|node:|require\(/);
  });
});
