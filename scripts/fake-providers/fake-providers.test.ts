/**
 * Unit tests of the fake provider server's pure parts (no sockets): the data generator, fault
 * matching, the rolling window, Graph field parsing, YouTube page tokens and grants, body breakers
 * and the image encoder.
 * The server itself is tested over HTTP in functions/test/integration/fake-providers.test.ts.
 */
import * as jpeg from "jpeg-js";
import { FaultTable, RollingLimiter, breakOneItem, breakSchema, truncate } from "./faults";
import { jpegFor, mp4For } from "./images";
import { InstagramAccount, parseFields } from "./instagram";
import { SpotifyAccount, type Urls } from "./spotify";
import { FakeState } from "./state";
import { YouTubeAccount, type YouTubeUrls, pageToken, readPageToken } from "./youtube";
import { isoDuration, roundSubscribers } from "./youtube/account";
import { revokeGrant, issueTokens as issueYouTubeTokens } from "./youtube/tokens";

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

describe("YouTube data", () => {
  const yt: YouTubeUrls = { cdn: "http://fake/cdn/youtube" };
  const snippet = (r: { parts: Record<string, Record<string, unknown>> }) => r.parts.snippet!;

  test("when the same seed and id are used twice, then channel, likes, subscriptions and playlists are identical", () => {
    const spec = { likedVideos: 10, subscriptions: 10, playlists: 10 };
    const a = new YouTubeAccount("1001", 42, spec, 1_700_000_000_000);
    const b = new YouTubeAccount("1001", 42, spec, 1_700_000_000_000);
    for (const [x, y] of [
      [a.channel(yt), b.channel(yt)],
      [a.likedVideo(7, yt), b.likedVideo(7, yt)],
      [a.subscription(7, yt), b.subscription(7, yt)],
      [a.playlist(7, yt), b.playlist(7, yt)],
    ]) {
      expect(JSON.stringify(x)).toBe(JSON.stringify(y));
    }
    const c = new YouTubeAccount("1001", 43, spec, 1_700_000_000_000);
    expect(c.channelId).not.toBe(a.channelId);
    expect(c.likedVideoId(0)).not.toBe(a.likedVideoId(0));
    expect(c.itemId(0)).not.toBe(a.itemId(0));
  });

  test("when lists are at their limits, then ids have YouTube's shapes and never repeat", () => {
    const a = new YouTubeAccount("1002", 5, { likedVideos: 9999, subscriptions: 9999, playlists: 9999 }, 0);
    expect([a.likedCount, a.subscriptionCount, a.playlistCount]).toEqual([5000, 2000, 1000]);
    expect(a.channelId).toMatch(/^UC[A-Za-z0-9_-]{22}$/);
    const likes = Array.from({ length: 5000 }, (_, i) => a.likedVideoId(i));
    expect(likes.every((id) => /^[A-Za-z0-9_-]{11}$/.test(id))).toBe(true);
    expect(new Set(likes).size).toBe(5000);
    const channels = Array.from(
      { length: 2000 },
      (_, i) => (snippet(a.subscription(i, yt)).resourceId as { channelId: string }).channelId,
    );
    expect(new Set(channels).size).toBe(2000);
    const playlists = Array.from({ length: 1000 }, (_, i) => a.itemId(i));
    expect(playlists.every((id) => /^PL[A-Za-z0-9_-]{32}$/.test(id))).toBe(true);
    expect(new Set(playlists).size).toBe(1000);
  });

  test("when the subscriber count is hidden, then statistics leave it out; otherwise every count is a string", () => {
    const shown = new YouTubeAccount("1003", 8, {}, 0).channel(yt)!.parts.statistics!;
    expect(shown.hiddenSubscriberCount).toBe(false);
    for (const k of ["viewCount", "subscriberCount", "videoCount"]) expect(shown[k]).toMatch(/^\d+$/);
    const hidden = new YouTubeAccount("1003", 8, { hiddenSubscriberCount: true }, 0).channel(yt)!.parts.statistics!;
    expect(hidden.hiddenSubscriberCount).toBe(true);
    expect("subscriberCount" in hidden).toBe(false);
    expect(hidden.viewCount).toBe(shown.viewCount);
  });

  test("when an account has no channel, then there is no channel resource and the summary says so", () => {
    const a = new YouTubeAccount("1004", 9, { hasChannel: false }, 0);
    expect(a.channel(yt)).toBeUndefined();
    expect(a.summary()).toMatchObject({ hasChannel: false, channelId: null });
    a.setHasChannel(true);
    expect(a.channel(yt)?.id).toBe(a.channelId);
  });

  test("when changeItems(1) runs, then the first playlist keeps its id and gets a new title, thumbnails and content", () => {
    const a = new YouTubeAccount("1005", 3, { playlists: 3 }, 0);
    const before = [0, 1, 2].map((i) => a.playlist(i, yt));
    expect(a.changeItems(1)).toEqual([before[0]!.id]);
    const after = [0, 1, 2].map((i) => a.playlist(i, yt));
    expect(after.map((p) => p.id)).toEqual(before.map((p) => p.id));
    expect(snippet(after[0]!).title).toMatch(/\(v1\)$/);
    expect(JSON.stringify(snippet(after[0]!).thumbnails)).not.toBe(JSON.stringify(snippet(before[0]!).thumbnails));
    expect(JSON.stringify(after.slice(1))).toBe(JSON.stringify(before.slice(1)));
  });

  test("when videos are liked while running, then they lead the list, the others move down, and 5,000 is the cap", () => {
    const a = new YouTubeAccount("1006", 4, { likedVideos: 3 }, 0);
    const before = [0, 1, 2].map((i) => a.likedVideoId(i));
    const added = a.likeVideos(2);
    expect(a.likedCount).toBe(5);
    expect([0, 1, 2, 3, 4].map((i) => a.likedVideoId(i))).toEqual([...added, ...before]);
    expect(added.some((id) => before.includes(id))).toBe(false);
    a.setLikedVideoCount(4999);
    a.likeVideos(10);
    expect(a.likedCount).toBe(5000);
  });

  test("when subscriptions are ordered alphabetically, then titles ascend; relevance keeps the natural order", () => {
    const a = new YouTubeAccount("1007", 6, { subscriptions: 40 }, 0);
    const titles = a.subscriptionOrder("alphabetical").map((i) => String(snippet(a.subscription(i, yt)).title));
    expect(titles).toEqual([...titles].sort((x, y) => x.localeCompare(y, "en")));
    expect(a.subscriptionOrder("relevance")).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  test("when durations and subscriber counts are written, then they follow YouTube's formats", () => {
    expect([253, 3600, 45, 93_784, 0].map(isoDuration)).toEqual(["PT4M13S", "PT1H", "PT45S", "P1DT2H3M4S", "P0D"]);
    expect([999, 123_456, 1_234_567, 1000].map(roundSubscribers)).toEqual([999, 123_000, 1_230_000, 1000]);
  });
});

describe("YouTube page tokens", () => {
  test("when a token is made, then it reads back as its offset, only for its own list", () => {
    expect(pageToken("a:videos", 5).startsWith("CAUQ")).toBe(true); // field 1 = 5, as YouTube's "CAUQAA"
    for (const offset of [0, 5, 50, 127, 128, 4999, 100_000]) {
      expect(readPageToken("a:videos", pageToken("a:videos", offset))).toBe(offset);
      expect(readPageToken("a:videos", pageToken("a:videos", offset, true))).toBe(offset);
    }
    expect(readPageToken("b:videos", pageToken("a:videos", 50))).toBeUndefined();
    expect(readPageToken("a:playlists", pageToken("a:videos", 50))).toBeUndefined();
    for (const junk of ["", "CAUQAA", "not a token", "CDIQAA==", pageToken("a:videos", 50).slice(0, -1)]) {
      expect(readPageToken("a:videos", junk)).toBeUndefined();
    }
  });
});

describe("YouTube grants", () => {
  test("when any token of a grant is revoked, then the whole grant stops and other grants keep working", () => {
    const state = new FakeState();
    const { id } = state.addAccount("youtube");
    const first = issueYouTubeTokens(state, id, {});
    const second = issueYouTubeTokens(state, id, {});
    expect(first.expiresIn).toBe(3599);
    expect(revokeGrant(state, first.accessToken)).toBe(true);
    expect(state.tokens.problem(state.tokens.get(first.refreshToken), ["refresh"])).toBe("revoked");
    expect(revokeGrant(state, first.refreshToken!)).toBe(false); // already revoked
    expect(revokeGrant(state, "ya29.unknown")).toBe(false);
    expect(state.tokens.problem(state.tokens.get(second.accessToken), ["access"])).toBeUndefined();
    expect(state.tokens.problem(state.tokens.get(second.refreshToken), ["refresh"])).toBeUndefined();
  });

  test("when a quota fault has no endpoint, then it hits only API routes", () => {
    const t = new FaultTable();
    t.add("youtube", { kind: "quota" });
    expect(t.take("youtube", "token", "token", undefined)).toBeUndefined();
    expect(t.take("youtube", "cdn", "cdn", undefined)).toBeUndefined();
    expect(t.take("youtube", "videos", "api", undefined)?.kind).toBe("quota");
  });
});
