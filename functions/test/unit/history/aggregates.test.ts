/**
 * The month aggregates (history/aggregates.ts): local days, months and the hour × weekday grid in
 * the person's time zone (daylight saving included), per-artist and per-track counts with first
 * and last plays, and that adding plays a commit at a time equals recomputing them from the log.
 */
import { Timestamp } from "firebase-admin/firestore";
import {
  addPlaysToMonths,
  comparable,
  dayOf,
  localSlot,
  monthOf,
  parseMonthStats,
  rebuildMonths,
} from "../../../src/history/aggregates";
import type { MonthStats, Play } from "../../../src/history/model";
import { playedAtOfId } from "../../../src/history/playLog";

function play(iso: string, track = "t1", extra: Partial<Play> = {}): Play {
  return {
    provider: "spotify",
    playedAt: new Date(iso),
    trackId: track,
    trackName: `Song ${track}`,
    artists: [{ id: `a-${track}`, name: `Artist ${track}` }],
    albumId: null,
    albumName: `Album ${track}`,
    durationMs: 200_000,
    context: null,
    ...extra,
  };
}

describe("local days, months and grid slots", () => {
  it("when a play is near midnight UTC, then its day and month are the zone's", () => {
    const at = new Date("2026-12-01T03:00:00Z");
    expect(dayOf(at, "Etc/UTC")).toBe("2026-12-01");
    expect(dayOf(at, "America/Los_Angeles")).toBe("2026-11-30");
    expect(monthOf(at, "America/Los_Angeles")).toBe("2026-11");
    expect(dayOf(new Date("2026-12-31T15:00:00Z"), "Pacific/Kiritimati")).toBe("2027-01-01");
    expect(monthOf(new Date("2026-12-31T15:00:00Z"), "Pacific/Kiritimati")).toBe("2027-01");
  });

  it("when daylight saving starts or ends in New York, then the local hour follows the clock", () => {
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT (a Sunday).
    expect(localSlot(new Date("2026-03-08T06:30:00Z"), "America/New_York")).toEqual({
      month: "2026-03",
      dd: "08",
      gridKey: "6-1",
    });
    expect(localSlot(new Date("2026-03-08T07:30:00Z"), "America/New_York").gridKey).toBe("6-3");
    // 2026-11-01: 01:00–02:00 happens twice; both count in hour 1 of that Sunday.
    expect(localSlot(new Date("2026-11-01T05:30:00Z"), "America/New_York").gridKey).toBe("6-1");
    expect(localSlot(new Date("2026-11-01T06:30:00Z"), "America/New_York").gridKey).toBe("6-1");
    expect(localSlot(new Date("2026-11-01T03:59:00Z"), "America/New_York")).toMatchObject({
      dd: "31",
      gridKey: "5-23",
    });
  });

  it("when the weekday is computed, then Monday is 0 and Sunday 6", () => {
    expect(localSlot(new Date("2026-03-09T10:00:00Z"), "Etc/UTC").gridKey).toBe("0-10"); // Monday
    expect(localSlot(new Date("2026-03-15T23:00:00Z"), "Etc/UTC").gridKey).toBe("6-23"); // Sunday
    expect(localSlot(new Date("2026-03-15T23:00:00Z"), "Europe/Berlin").gridKey).toBe("0-0"); // Monday 00:00 CET
  });
});

describe("addPlaysToMonths", () => {
  it("when plays are added, then days, grid, artists and tracks count them with first and last plays", () => {
    const months = new Map<string, MonthStats>();
    const changed = addPlaysToMonths(
      months,
      [
        play("2026-03-09T10:00:00Z", "t1"),
        play("2026-03-09T10:30:00Z", "t1"),
        play("2026-03-10T08:00:00Z", "t2", {
          artists: [
            { id: "a-t1", name: "Artist t1" },
            { id: "a-t1", name: "Artist t1" }, // listed twice: counted once
            { id: "", name: "Local artist" }, // no id: not counted
          ],
        }),
        play("2026-04-01T00:00:00Z", "t1"),
      ],
      "Etc/UTC",
    );
    expect([...changed].sort()).toEqual(["spotify-2026-03", "spotify-2026-04"]);
    const march = months.get("spotify-2026-03")!;
    expect(march).toMatchObject({ provider: "spotify", month: "2026-03", timeZone: "Etc/UTC", plays: 3, ms: 600_000 });
    expect(march.days).toEqual({ "09": { plays: 2, ms: 400_000 }, "10": { plays: 1, ms: 200_000 } });
    expect(march.grid).toEqual({ "0-10": 2, "1-8": 1 });
    expect(Object.keys(march.artists)).toEqual(["a-t1"]);
    expect(march.artists["a-t1"]).toMatchObject({ plays: 3, ms: 600_000, days: { "09": 2, "10": 1 } });
    expect(march.artists["a-t1"]!.first.toMillis()).toBe(Date.parse("2026-03-09T10:00:00Z"));
    expect(march.artists["a-t1"]!.last.toMillis()).toBe(Date.parse("2026-03-10T08:00:00Z"));
    expect(march.tracks.t1).toMatchObject({ name: "Song t1", artists: "Artist t1", albumName: "Album t1", plays: 2 });
    expect(march.tracks.t2!.artists).toBe("Artist t1, Artist t1, Local artist");
    expect(months.get("spotify-2026-04")!.plays).toBe(1);
  });

  it("when a track was renamed, then the newest play's name wins whatever the order", () => {
    const older = play("2026-03-01T10:00:00Z", "t1", { trackName: "Old name" });
    const newer = play("2026-03-02T10:00:00Z", "t1", { trackName: "New name" });
    for (const order of [
      [older, newer],
      [newer, older],
    ]) {
      const m = rebuildMonths(order, "Etc/UTC").get("spotify-2026-03")!;
      expect(m.tracks.t1!.name).toBe("New name");
      expect(m.tracks.t1!.first.toMillis()).toBe(older.playedAt.getTime());
      expect(m.tracks.t1!.last.toMillis()).toBe(newer.playedAt.getTime());
    }
  });

  it("when plays are added commit by commit in any order, then the months equal a rebuild from the log", () => {
    // A deterministic pseudo-random month and a half of plays, late ones included.
    let seed = 42;
    const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const plays = Array.from({ length: 600 }, (_, i) =>
      play(new Date(Date.UTC(2026, 2, 1) + Math.floor(rand() * 45 * 86_400_000)).toISOString(), `t${i % 37}`, {
        durationMs: 1000 + Math.floor(rand() * 300_000),
        artists: [
          { id: `a${i % 11}`, name: `Artist ${i % 11}` },
          { id: `a${i % 5}`, name: `Artist ${i % 5}` },
        ],
      }),
    );
    for (const tz of ["Etc/UTC", "America/New_York", "Asia/Kolkata"]) {
      const full = rebuildMonths(plays, tz);
      const incremental = new Map<string, MonthStats>();
      const shuffled = [...plays].sort(() => rand() - 0.5);
      for (let i = 0; i < shuffled.length; i += 23) addPlaysToMonths(incremental, shuffled.slice(i, i + 23), tz);
      expect([...incremental.keys()].sort()).toEqual([...full.keys()].sort());
      for (const [id, m] of full) expect(comparable(incremental.get(id)!)).toEqual(comparable(m));
      const total = [...full.values()].reduce((n, m) => n + m.plays, 0);
      expect(total).toBe(600);
      const dayTotal = [...full.values()].reduce(
        (n, m) => n + Object.values(m.days).reduce((k, d) => k + d.plays, 0),
        0,
      );
      const gridTotal = [...full.values()].reduce((n, m) => n + Object.values(m.grid).reduce((k, c) => k + c, 0), 0);
      expect(dayTotal).toBe(600);
      expect(gridTotal).toBe(600);
    }
  });
});

describe("parseMonthStats and comparable", () => {
  it("when a stored month is read, then updatedAt is dropped and a malformed one is refused", () => {
    const m = rebuildMonths([play("2026-03-01T10:00:00Z")], "Etc/UTC").get("spotify-2026-03")!;
    const parsed = parseMonthStats({ ...m, updatedAt: Timestamp.now() });
    expect(parsed).not.toBeNull();
    expect(comparable(parsed!)).toEqual(comparable(m));
    expect(parseMonthStats({ ...m, plays: -1 })).toBeNull();
    expect(parseMonthStats({ provider: "spotify", month: "2026-03", plays: 1 })).toBeNull();
  });

  it("when a first play differs by a millisecond, then the comparable forms differ", () => {
    const a = rebuildMonths([play("2026-03-01T10:00:00.000Z")], "Etc/UTC").get("spotify-2026-03")!;
    const b = rebuildMonths([play("2026-03-01T10:00:00.001Z")], "Etc/UTC").get("spotify-2026-03")!;
    expect(comparable(a)).not.toEqual(comparable(b));
  });
});

describe("playedAtOfId", () => {
  it("when a play id is read, then its play time comes back; a foreign id gives null", () => {
    expect(playedAtOfId("spotify-1764650000000-4uLU6hMCjMI75M1A2tKUQC")).toBe(1_764_650_000_000);
    expect(playedAtOfId("nonsense")).toBeNull();
  });
});
