/**
 * "Delete history…" without Firestore: which requests are refused and in what words, the first
 * instant of a person's day, and subtracting plays from a month whose log was trimmed.
 */
import { InvalidInputError } from "../../../src/errors";
import { rebuildMonths } from "../../../src/history/aggregates";
import { parseEraseRequest, startOfDay, subtractPlays } from "../../../src/history/erase";
import type { Play } from "../../../src/history/model";
import { dayOf } from "../../../src/history/read";

const refusal = (input: unknown): string => {
  try {
    parseEraseRequest(input);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return (e as Error).message;
  }
  throw new Error("accepted");
};

describe("parseEraseRequest", () => {
  it("when a range, an artist or both are given, then they are accepted as given", () => {
    expect(parseEraseRequest({ provider: "spotify", from: "2026-03-01", to: "2026-03-31" })).toEqual({
      provider: "spotify",
      from: "2026-03-01",
      to: "2026-03-31",
    });
    expect(parseEraseRequest({ provider: "spotify", artistId: "a1" })).toEqual({ provider: "spotify", artistId: "a1" });
    expect(parseEraseRequest({ provider: "spotify", from: "2026-03-01", artistId: "a1" })).toMatchObject({
      from: "2026-03-01",
      artistId: "a1",
    });
    expect(parseEraseRequest({ provider: "spotify", from: "2026-03-05", to: "2026-03-05" }).to).toBe("2026-03-05");
  });

  it("when nothing says which plays, the days are reversed, not dates, or the fields are foreign, then one sentence refuses it", () => {
    expect(refusal({ provider: "spotify" })).toBe("Say which plays to delete: a date range, an artist, or both.");
    expect(refusal(undefined)).toBe("Listening history can only be deleted for Spotify.");
    expect(refusal({ provider: "spotify", from: "2026-03-10", to: "2026-03-01" })).toBe(
      "The first day (2026-03-10) is after the last day (2026-03-01).",
    );
    expect(refusal({ provider: "spotify", from: "2026-02-30" })).toBe('"2026-02-30" is not a date written YYYY-MM-DD.');
    expect(refusal({ provider: "spotify", to: "10/03/2026" })).toBe('"10/03/2026" is not a date written YYYY-MM-DD.');
    expect(refusal({ provider: "spotify", from: 20260301 })).toBe("The first day must be a date written YYYY-MM-DD.");
    expect(refusal({ provider: "spotify", artistId: "" })).toBe("The artist must be given by its id.");
    expect(refusal({ provider: "spotify", artistId: "x".repeat(301) })).toBe("That artist id is too long.");
    expect(refusal({ provider: "instagram", artistId: "a" })).toBe(
      "Listening history can only be deleted for Spotify.",
    );
    expect(refusal({ provider: "napster", artistId: "a" })).toBe("Listening history can only be deleted for Spotify.");
    expect(refusal({ provider: "spotify", artistId: "a", uid: "someone-else" })).toBe(
      "Say which plays to delete with provider, from, to and artistId only.",
    );
    expect(refusal("everything")).toBe("Say which plays to delete with provider, from, to and artistId only.");
  });
});

describe("startOfDay", () => {
  it.each([
    ["2026-03-10", "Etc/UTC", Date.UTC(2026, 2, 10)],
    ["2026-03-10", "America/Los_Angeles", Date.UTC(2026, 2, 10, 7)], // PDT since March 8th
    ["2026-03-08", "America/Los_Angeles", Date.UTC(2026, 2, 8, 8)], // the day DST starts (at 2:00)
    ["2026-10-25", "Europe/Paris", Date.UTC(2026, 9, 24, 22)], // CEST → CET that morning
    ["2026-01-01", "Pacific/Kiritimati", Date.UTC(2025, 11, 31, 10)], // UTC+14
    ["2026-01-01", "Etc/GMT+12", Date.UTC(2026, 0, 1, 12)], // UTC−12
    ["2026-03-10", "Asia/Kolkata", Date.UTC(2026, 2, 9, 18, 30)],
  ])("when the day is %s in %s, then it starts at the instant the wall clock reads its midnight", (day, tz, want) => {
    const at = startOfDay(day, tz);
    expect(new Date(at).toISOString()).toBe(new Date(want).toISOString());
    expect(dayOf(new Date(at), tz)).toBe(day);
    expect(dayOf(new Date(at - 1), tz)).not.toBe(day);
  });
});

describe("subtractPlays", () => {
  const play = (at: number, track: string, artists: string[]): Play => ({
    provider: "spotify",
    playedAt: new Date(at),
    trackId: track,
    trackName: track,
    artists: artists.map((id) => ({ id, name: id })),
    albumId: null,
    albumName: null,
    durationMs: 60_000,
    context: null,
  });

  it("when some of a month's plays are subtracted, then the counts are those of the plays left and emptied entries go", () => {
    const T = Date.UTC(2026, 2, 10, 12);
    const all = [
      play(T, "t1", ["x"]),
      play(T + 60_000, "t2", ["x", "y"]),
      play(T + 86_400_000, "t3", ["y"]),
      play(T + 86_400_000 + 60_000, "t3", ["y"]),
    ];
    const month = rebuildMonths(all, "Etc/UTC").get("spotify-2026-03")!;
    const out = subtractPlays(month, all.slice(0, 2), "Etc/UTC");
    const left = rebuildMonths(all.slice(2), "Etc/UTC").get("spotify-2026-03")!;
    expect(out.plays).toBe(left.plays);
    expect(out.ms).toBe(left.ms);
    expect(out.days).toEqual(left.days);
    expect(out.grid).toEqual(left.grid);
    expect(Object.keys(out.artists)).toEqual(["y"]);
    expect(Object.keys(out.tracks)).toEqual(["t3"]);
    expect(out.artists.y!.plays).toBe(2);
    expect(out.artists.y!.days).toEqual({ "11": 2 });
    // The month given is left as it was.
    expect(month.plays).toBe(4);
    expect(month.artists.x!.plays).toBe(2);
  });
});
