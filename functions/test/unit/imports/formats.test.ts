import {
  NameIds,
  SAME_PLAY_MS,
  accountPlay,
  dedupe,
  derivedId,
  extendedPlay,
  formatOf,
  type ImportedPlay,
} from "../../../src/providers/spotify/streamingHistory";

const rules = () => ({ minPlayMs: 30_000, ids: new NameIds() });
const ext = (over: Record<string, unknown> = {}) => ({
  ts: "2024-03-01T12:00:00Z",
  platform: "android",
  ms_played: 180_000,
  conn_country: "DE",
  ip_addr: "192.0.2.1",
  master_metadata_track_name: "Blåbær ☕",
  master_metadata_album_artist_name: "Sigur Rós",
  master_metadata_album_album_name: "Takk...",
  spotify_track_uri: "spotify:track:4uLU6hMCjMI75M1A2tKUQC",
  episode_name: null,
  episode_show_name: null,
  spotify_episode_uri: null,
  audiobook_uri: null,
  reason_start: "trackdone",
  reason_end: "trackdone",
  skipped: false,
  offline: false,
  incognito_mode: false,
  ...over,
});

describe("formatOf", () => {
  it("tells the two formats apart and refuses anything else", () => {
    expect(formatOf(ext())).toBe("extended");
    expect(formatOf({ endTime: "2024-03-01 12:00", artistName: "a", trackName: "t", msPlayed: 1 })).toBe("account");
    expect(formatOf({ name: "x" })).toBeNull();
    expect(formatOf([])).toBeNull();
    expect(formatOf("ts")).toBeNull();
  });
});

describe("extendedPlay", () => {
  it("when an entry is a music play, then the play holds its names and ids and no personal field", () => {
    const r = extendedPlay(ext(), rules());
    if (!("play" in r)) throw new Error("skipped");
    expect(r.play).toMatchObject({
      provider: "spotify",
      trackId: "4uLU6hMCjMI75M1A2tKUQC",
      trackName: "Blåbær ☕",
      albumName: "Takk...",
      msPlayed: 180_000,
    });
    expect(r.play.playedAt.toISOString()).toBe("2024-03-01T12:00:00.000Z");
    expect(r.play.artists).toEqual([{ id: derivedId("artist\u0000sigur rós"), name: "Sigur Rós" }]);
    expect(JSON.stringify(r.play)).not.toMatch(/192\.0\.2\.1|DE|android/);
  });

  it("skips episodes, audiobooks, entries without a track, short plays and bad times, each by its reason", () => {
    expect(extendedPlay(ext({ spotify_episode_uri: "spotify:episode:x", spotify_track_uri: null }), rules())).toEqual({
      skip: "episode",
    });
    expect(extendedPlay(ext({ audiobook_uri: "spotify:audiobook:x", spotify_track_uri: null }), rules())).toEqual({
      skip: "audiobook",
    });
    expect(extendedPlay(ext({ spotify_track_uri: null, master_metadata_track_name: null }), rules())).toEqual({
      skip: "no-track",
    });
    expect(extendedPlay(ext({ ms_played: 29_999 }), rules())).toEqual({ skip: "short" });
    expect(extendedPlay(ext({ ms_played: 10_000 }), { ...rules(), minPlayMs: 5_000 })).toHaveProperty("play");
    expect(extendedPlay(ext({ ts: "yesterday" }), rules())).toEqual({ skip: "invalid" });
    expect(extendedPlay({ ts: 1 }, rules())).toEqual({ skip: "invalid" });
  });
});

describe("accountPlay", () => {
  const acc = (over: Record<string, unknown> = {}) => ({
    endTime: "2023-12-31 23:59",
    artistName: "Björk",
    trackName: "Jóga",
    msPlayed: 200_000,
    ...over,
  });

  it("reads the minute in UTC and gives names the log knows their ids, others a stable derived id", () => {
    const ids = new NameIds();
    ids.learnArtist("björk ", "7w29UYBi0qsHi5RTcv3lmA");
    const r = accountPlay(acc(), { minPlayMs: 30_000, ids });
    if (!("play" in r)) throw new Error("skipped");
    expect(r.play.playedAt.toISOString()).toBe("2023-12-31T23:59:00.000Z");
    expect(r.play.artists).toEqual([{ id: "7w29UYBi0qsHi5RTcv3lmA", name: "Björk" }]);
    expect(r.play.trackId).toBe(derivedId("track\u0000björk\u0000jóga"));
    expect(r.play.trackId).toMatch(/^n[A-Za-z0-9_-]{22}$/);
    ids.learnTrack("BJÖRK", "jóga", "3tSmXSxaAnU1EPGKa6NytH");
    expect((accountPlay(acc(), { minPlayMs: 30_000, ids }) as { play: ImportedPlay }).play.trackId).toBe(
      "3tSmXSxaAnU1EPGKa6NytH",
    );
  });

  it("skips unknown tracks, short plays and unreadable times", () => {
    expect(accountPlay(acc({ trackName: "Unknown Track" }), rules())).toEqual({ skip: "no-track" });
    expect(accountPlay(acc({ msPlayed: 1000 }), rules())).toEqual({ skip: "short" });
    expect(accountPlay(acc({ endTime: "2023-12-31T23:59" }), rules())).toEqual({ skip: "invalid" });
  });
});

describe("dedupe", () => {
  const play = (trackId: string, ms: number) => ({ trackId, playedAt: new Date(ms) }) as ImportedPlay;

  it("drops a play of the same track within 60 s of a known or kept one, and keeps the next", () => {
    const known = new Map([["a", [1_000_000]]]);
    const { keep, duplicates } = dedupe(
      [
        play("a", 1_000_000 + SAME_PLAY_MS - 1),
        play("a", 1_000_000 + SAME_PLAY_MS),
        play("a", 1_000_000 + SAME_PLAY_MS + 30_000),
        play("b", 1_000_000),
      ],
      known,
    );
    expect(duplicates).toBe(2);
    expect(keep.map((p) => [p.trackId, p.playedAt.getTime()])).toEqual([
      ["a", 1_060_000],
      ["b", 1_000_000],
    ]);
    // A second pass over the same plays adds nothing.
    expect(dedupe(keep, known)).toEqual({ keep: [], duplicates: 2 });
  });
});
