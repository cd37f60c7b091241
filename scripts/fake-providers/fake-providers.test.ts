/**
 * Unit tests of the fake provider server's pure parts (no sockets): the data generator, fault
 * matching, the rolling window, Graph field parsing, body breakers and the image encoder.
 * The server itself is tested over HTTP in functions/test/integration/fake-providers.test.ts.
 */
import * as jpeg from "jpeg-js";
import { FaultTable, RollingLimiter, breakOneItem, breakSchema, truncate } from "./faults";
import { jpegFor, mp4For } from "./images";
import { InstagramAccount, parseFields } from "./instagram";
import { SpotifyAccount, type Urls } from "./spotify";

const urls: Urls = { spotifyApi: "http://fake/spotify-api", cdn: "http://fake/cdn" };

describe("data generator", () => {
  test("when the same seed and id are used twice, then the playlists are identical", () => {
    const a = new SpotifyAccount("u1", 42, { playlists: 10 }, 1_700_000_000_000);
    const b = new SpotifyAccount("u1", 42, { playlists: 10 }, 1_700_000_000_000);
    expect(JSON.stringify(a.playlist(7, urls))).toBe(JSON.stringify(b.playlist(7, urls)));
    const c = new SpotifyAccount("u1", 43, { playlists: 10 }, 1_700_000_000_000);
    expect(c.playlist(7, urls).id).not.toBe(a.playlist(7, urls).id);
  });

  test("when changeItems(n) runs, then the first n items get a new snapshot and name and the rest stay", () => {
    const a = new SpotifyAccount("u1", 1, { playlists: 5 }, 0);
    const before = [0, 1, 2, 3, 4].map((i) => a.playlist(i, urls));
    expect(a.changeItems(2)).toEqual([before[0]!.id, before[1]!.id]);
    const after = [0, 1, 2, 3, 4].map((i) => a.playlist(i, urls));
    expect(after.map((p, i) => p.snapshot_id !== before[i]!.snapshot_id)).toEqual([true, true, false, false, false]);
    expect(after[0]!.name).not.toBe(before[0]!.name);
  });

  test("when sizes are out of range, then they are clamped to 0..5,000 playlists and 0..2,000 media", () => {
    expect(new SpotifyAccount("u", 1, { playlists: 9999 }, 0).playlistCount).toBe(5000);
    expect(new SpotifyAccount("u", 1, { playlists: -3 }, 0).playlistCount).toBe(0);
    expect(new InstagramAccount("1", 1, { media: 5000 }, 0).mediaCount).toBe(2000);
  });

  test("when recently played is generated, then it is newest first and before the account's creation", () => {
    const created = Date.UTC(2026, 0, 1);
    const plays = new SpotifyAccount("u", 3, { recentlyPlayed: 50 }, created).recentlyPlayed(urls);
    expect(plays).toHaveLength(50);
    expect(plays.every((p, i) => p.playedAtMs < (i === 0 ? created : plays[i - 1]!.playedAtMs))).toBe(true);
  });

  test("when an Instagram carousel is generated, then its media_url is its first child's", () => {
    const a = new InstagramAccount("17841400000000001", 5, { media: 200 }, 0);
    const carousel = Array.from({ length: 200 }, (_, i) => a.media(i)).find((m) => m.media_type === "CAROUSEL_ALBUM");
    expect(carousel?.children?.length).toBeGreaterThanOrEqual(2);
    expect(carousel!.media_url).toBe(carousel!.children![0]!.media_url);
  });
});

describe("faults", () => {
  test("when a fault has times=2, then it fires twice and is gone", () => {
    const t = new FaultTable();
    t.add("spotify", { kind: "5xx", times: 2 });
    expect(t.take("spotify", "me", "api", "a")?.kind).toBe("5xx");
    expect(t.take("spotify", "me", "api", "a")?.kind).toBe("5xx");
    expect(t.take("spotify", "me", "api", "a")).toBeUndefined();
    expect(t.list()).toEqual([]);
  });

  test("when faults have no endpoint, then invalid_grant hits only token routes, 403 only API routes, others both", () => {
    const t = new FaultTable();
    t.add("spotify", { kind: "invalid_grant" });
    expect(t.take("spotify", "me", "api", undefined)).toBeUndefined();
    expect(t.take("spotify", "token", "token", undefined)?.kind).toBe("invalid_grant");
    t.clear();
    t.add("spotify", { kind: "403" });
    expect(t.take("spotify", "token", "token", undefined)).toBeUndefined();
    expect(t.take("spotify", "me", "api", undefined)?.kind).toBe("403");
    t.clear();
    t.add("instagram", { kind: "429" });
    expect(t.take("instagram", "cdn", "cdn", undefined)).toBeUndefined();
    expect(t.take("instagram", "authorize", "page", undefined)).toBeUndefined();
    expect(t.take("spotify", "me", "api", undefined)).toBeUndefined();
    expect(t.take("instagram", "token", "token", undefined)?.kind).toBe("429");
  });

  test("when a fault names an account and an endpoint, then only that pair matches", () => {
    const t = new FaultTable();
    t.add("spotify", { kind: "hang", accountId: "a", endpoint: "me/playlists" });
    expect(t.take("spotify", "me/playlists", "api", "b")).toBeUndefined();
    expect(t.take("spotify", "me", "api", "a")).toBeUndefined();
    expect(t.take("spotify", "me/playlists", "api", "a")?.kind).toBe("hang");
  });

  test("when a fault is malformed, then add() throws a sentence", () => {
    const t = new FaultTable();
    expect(() => t.add("spotify", { kind: "nope" as never })).toThrow(/Unknown fault kind "nope"/);
    expect(() => t.add("spotify", { kind: "5xx", times: 0 })).toThrow(/positive integer/);
  });

  test("when bodies are broken, then malformed is not JSON, schema breaks the envelope, bad-item breaks one item", () => {
    expect(() => JSON.parse(truncate('{"a":1,"b":2}') as string)).toThrow();
    expect(breakSchema({ items: [], total: 1 })).toMatchObject({ items: 12345 });
    const broken = breakOneItem({ data: [{ id: "1" }, { id: "2" }] }) as { data: { id: unknown }[] };
    expect(broken.data.map((d) => d.id)).toEqual([null, "2"]);
  });
});

describe("rolling rate limit", () => {
  test("when the budget is spent, then the next request waits until the oldest leaves the window", () => {
    const l = new RollingLimiter();
    l.set({ windowSeconds: 30, budget: 2 });
    expect(l.check(0)).toBeUndefined();
    expect(l.check(10_000)).toBeUndefined();
    expect(l.check(12_000)).toBe(18);
    expect(l.check(30_000)).toBeUndefined(); // the request at 0 left the window
    expect(l.check(30_500)).toBe(10);
    l.set(null);
    expect(l.check(30_600)).toBeUndefined();
    expect(() => l.set({ windowSeconds: 0, budget: 1 })).toThrow();
  });
});

describe("Graph fields", () => {
  test("when fields nest, then sub-fields are parsed", () => {
    const f = parseFields("id,caption,children{id,media_url},timestamp");
    expect([...f.keys()]).toEqual(["id", "caption", "children", "timestamp"]);
    expect([...(f.get("children") as Map<string, unknown>).keys()]).toEqual(["id", "media_url"]);
  });
});

describe("media bytes", () => {
  test("when a JPEG is made, then it decodes at the asked size (capped at 64 px) and differs per key", () => {
    const img = jpeg.decode(jpegFor("k1", 32));
    expect([img.width, img.height]).toEqual([32, 32]);
    expect(jpeg.decode(jpegFor("k1", 640)).width).toBe(64);
    expect(jpegFor("k1", 32).equals(jpegFor("k2", 32))).toBe(false);
    expect(jpegFor("k1", 32)).toBe(jpegFor("k1", 32)); // cached
  });

  test("when a video is made, then it starts with an ftyp box", () => {
    expect(mp4For("v").subarray(4, 8).toString("latin1")).toBe("ftyp");
  });
});
