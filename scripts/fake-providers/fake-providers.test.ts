/**
 * Unit tests of the fake provider server without sockets (unit tests refuse them): its pure parts
 * (the data generator, fault matching, the rolling window, Graph field parsing, YouTube page
 * tokens and grants, body breakers and the image encoder), and Spotify's own apps through the
 * server's whole request path (control API, routes, faults, rate limits) in process.
 * The server itself is tested over HTTP in functions/test/integration/fake-providers.test.ts.
 */
import * as jpeg from "jpeg-js";
import { FaultTable, RollingLimiter, breakOneItem, breakSchema, truncate } from "./faults";
import { jpegFor, mp4For } from "./images";
import { type InProcessFakeProviders, inProcessFakeProviders } from "./index";
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

  test("when a fault has skip=2 and times=1, then the third matching request is the one it hits", () => {
    const t = new FaultTable();
    t.add("spotify", { kind: "hang", endpoint: "cdn", accountId: "a", skip: 2, times: 1 });
    expect(t.take("spotify", "cdn", "cdn", "b")).toBeUndefined();
    expect(t.take("spotify", "cdn", "cdn", "a")).toBeUndefined();
    expect(t.take("spotify", "cdn", "cdn", "a")).toBeUndefined();
    expect(t.take("spotify", "cdn", "cdn", "a")?.kind).toBe("hang");
    expect(t.take("spotify", "cdn", "cdn", "a")).toBeUndefined();
    expect(t.list()).toEqual([]);
  });

  test("when a fault is malformed, then add() throws a sentence", () => {
    const t = new FaultTable();
    expect(() => t.add("spotify", { kind: "nope" as never })).toThrow(/Unknown fault kind "nope"/);
    expect(() => t.add("spotify", { kind: "5xx", times: 0 })).toThrow(/positive integer/);
    expect(() => t.add("spotify", { kind: "5xx", skip: -1 })).toThrow(/"skip" must be an integer >= 0/);
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

// --- Spotify's own apps, through the server's request path ---------------------------------------

describe("Spotify own apps", () => {
  const CALLBACK = "http://127.0.0.1:5002/api/oauth/callback/spotify";
  const OPERATOR = { clientId: "fake-spotify-client-id", clientSecret: "fake-spotify-client-secret" };
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
  type Json = Record<string, unknown>;
  interface Res {
    status: number;
    headers: Record<string, string>;
    text: string;
    json: Json;
  }

  let fake: InProcessFakeProviders;
  beforeEach(() => {
    fake = inProcessFakeProviders();
  });

  async function send(method: "GET" | "POST", path: string, init: Parameters<typeof fake.request>[2] = {}) {
    const r = await fake.request(method, path, init);
    if (r === "hang") throw new Error(`${method} ${path} hung`);
    const text = String(r.body ?? "");
    let json: Json = {};
    try {
      json = JSON.parse(text) as Json;
    } catch {
      // an HTML page or an empty body
    }
    return { status: r.status, headers: r.headers ?? {}, text, json } satisfies Res;
  }

  const control = (op: string, body: Json) =>
    send("POST", `/_control/${op}`, { headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  const form = (fields: Record<string, string>, authorization?: string) => ({
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(authorization ? { authorization } : {}),
    },
    body: new URLSearchParams(fields).toString(),
  });

  const tokenPost = (app: { clientId: string; clientSecret: string }, fields: Record<string, string>) =>
    send("POST", "/spotify-accounts/api/token", form(fields, basic(app.clientId, app.clientSecret)));

  const authorizeQuery = (clientId: string, redirectUri: string) =>
    new URLSearchParams({
      client_id: clientId,
      response_type: "code",
      redirect_uri: redirectUri,
      scope: "playlist-read-private user-top-read",
      state: "s1",
    });

  /** The consent page, then Allow as `account`: the code the redirect carries. */
  async function codeFor(clientId: string, account: string, redirectUri = CALLBACK): Promise<string> {
    const q = authorizeQuery(clientId, redirectUri);
    const page = await send("GET", `/spotify-accounts/authorize?${q.toString()}`);
    expect(page.status).toBe(200);
    const decision = await send(
      "POST",
      "/spotify-accounts/authorize/decision",
      form({ ...Object.fromEntries(q), account, decision: "allow" }),
    );
    expect(decision.status).toBe(302);
    const location = new URL(decision.headers.location!);
    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    expect(location.searchParams.get("state")).toBe("s1");
    return location.searchParams.get("code")!;
  }

  async function connect(app: { clientId: string; clientSecret: string }, account: string) {
    const code = await codeFor(app.clientId, account);
    const r = await tokenPost(app, { grant_type: "authorization_code", code, redirect_uri: CALLBACK });
    expect(r.status).toBe(200);
    return { access: String(r.json.access_token), refresh: String(r.json.refresh_token) };
  }

  const me = (token: string) => send("GET", "/spotify-api/v1/me", { headers: { authorization: `Bearer ${token}` } });

  async function ownApp(spec: Json = {}) {
    const r = await control("createApp", { provider: "spotify", spec: { redirectUris: [CALLBACK], ...spec } });
    expect(r.status).toBe(200);
    return r.json as { clientId: string; clientSecret: string };
  }

  test("when the operator's app is used, then it behaves as before: any loopback redirect, the allowListed flag, no account_id", async () => {
    const { id } = fake.addAccount("spotify", { playlists: 2 });
    const code = await codeFor(OPERATOR.clientId, id, "http://127.0.0.1:4000/anything");
    const wrongRedirect = await tokenPost(OPERATOR, { grant_type: "authorization_code", code, redirect_uri: CALLBACK });
    expect(wrongRedirect.json).toEqual({ error: "invalid_grant", error_description: "Invalid redirect URI" });
    const t = await connect(OPERATOR, id);
    const profile = await me(t.access);
    expect(profile.status).toBe(200);
    expect(profile.json.id).toBe(id);
    expect("account_id" in profile.json).toBe(false);
    fake.account("spotify", id).setAllowListed(false);
    expect((await me(t.access)).status).toBe(403);
    const refreshed = await tokenPost(OPERATOR, { grant_type: "refresh_token", refresh_token: t.refresh });
    expect(refreshed.status).toBe(200);
    expect(fake.apps()).toEqual([]);
  });

  test("when createApp runs over the control API, then it returns 32-hex credentials and apps lists it without the secret", async () => {
    const { id } = fake.addAccount("spotify");
    const app = await ownApp({ name: "Mine", users: [id] });
    expect(app.clientId).toMatch(/^[0-9a-f]{32}$/);
    expect(app.clientSecret).toMatch(/^[0-9a-f]{32}$/);
    expect(app.clientSecret).not.toBe(app.clientId);
    const given = await ownApp({ clientId: "my-id", clientSecret: "my-secret" });
    expect(given).toEqual({ clientId: "my-id", clientSecret: "my-secret" });
    const listed = await control("apps", { provider: "spotify" });
    expect(listed.json.apps).toEqual([
      { provider: "spotify", clientId: app.clientId, name: "Mine", redirectUris: [CALLBACK], users: [id] },
      { provider: "spotify", clientId: "my-id", name: expect.any(String), redirectUris: [CALLBACK], users: [] },
    ]);
    expect(listed.text).not.toContain(app.clientSecret);
    expect(listed.text).not.toContain("my-secret");
    const one = await control("app", { provider: "spotify", clientId: "my-id" });
    expect(one.json).toEqual({
      provider: "spotify",
      clientId: "my-id",
      name: expect.any(String),
      redirectUris: [CALLBACK],
      users: [],
    });
  });

  test("when control inputs are wrong, then the control API answers 400 with one sentence", async () => {
    await ownApp({ clientId: "taken" });
    const cases: [string, Json, RegExp][] = [
      ["createApp", { provider: "instagram" }, /The instagram fake has no own apps \(only spotify\)\./],
      ["createApp", { provider: "spotify", spec: { clientId: "taken" } }, /already exists/],
      ["createApp", { provider: "spotify", spec: { clientId: OPERATOR.clientId } }, /already exists/],
      [
        "createApp",
        { provider: "spotify", spec: { redirectUris: "http://127.0.0.1/x" } },
        /"redirectUris" must be an array/,
      ],
      [
        "createApp",
        { provider: "spotify", spec: { redirectUris: ["http://localhost:5002/cb"] } },
        /must be https:\/\//,
      ],
      ["createApp", { provider: "spotify", spec: { redirectUris: ["not a url"] } }, /is not a URL/],
      ["createApp", { provider: "spotify", spec: { users: [""] } }, /Each user must be a non-empty string/],
      ["createApp", { provider: "spotify", spec: [] }, /"spec" must be an object/],
      [
        "app",
        { provider: "spotify", clientId: "nope" },
        /No spotify app with client id "nope" \(createApp makes one\)\./,
      ],
      ["app", { provider: "spotify", clientId: "taken", action: "fly" }, /"action" must be one of addUser, removeUser/],
      ["app", { provider: "spotify", clientId: "taken", action: "addUser", args: "x" }, /"args" must be an array/],
      ["app", { provider: "spotify", clientId: "taken", action: "addUser", args: [] }, /addUser's account id must be/],
      [
        "rateLimit",
        { provider: "spotify", limit: { windowSeconds: 30, budget: 1 }, clientId: "nope" },
        /No spotify app/,
      ],
      ["fault", { provider: "spotify", fault: { kind: "5xx", clientId: "nope" } }, /No spotify app/],
      [
        "fault",
        { provider: "spotify", clientId: "taken", fault: { kind: "5xx", clientId: "other" } },
        /name different apps/,
      ],
      [
        "issueTokens",
        { provider: "spotify", accountId: fake.addAccount("spotify").id, opts: { clientId: "nope" } },
        /No spotify app/,
      ],
    ];
    for (const [op, body, message] of cases) {
      const r = await control(op, body);
      expect([op, r.status]).toEqual([op, 400]);
      expect(String(r.json.error)).toMatch(message);
      expect(String(r.json.error)).toMatch(/[.)]$/);
    }
    expect(fake.faults()).toEqual([]);
  });

  test("when the authorize page gets an unknown client id or an unregistered redirect URI, then it shows Spotify's error and never redirects", async () => {
    const app = await ownApp();
    const unknown = await send("GET", `/spotify-accounts/authorize?${authorizeQuery("nope", CALLBACK).toString()}`);
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain("INVALID_CLIENT: Invalid client");
    expect(unknown.headers.location).toBeUndefined();
    const other = "http://127.0.0.1:5002/api/oauth/callback/other";
    const badRedirect = await send(
      "GET",
      `/spotify-accounts/authorize?${authorizeQuery(app.clientId, other).toString()}`,
    );
    expect(badRedirect.status).toBe(400);
    expect(badRedirect.text).toContain("INVALID_CLIENT: Invalid redirect URI");
    expect(badRedirect.headers.location).toBeUndefined();
    const decision = await send(
      "POST",
      "/spotify-accounts/authorize/decision",
      form({ ...Object.fromEntries(authorizeQuery(app.clientId, other)), account: "new", decision: "allow" }),
    );
    expect(decision.status).toBe(400);
    expect(decision.text).toContain("INVALID_CLIENT: Invalid redirect URI");
    const ok = await send("GET", `/spotify-accounts/authorize?${authorizeQuery(app.clientId, CALLBACK).toString()}`);
    expect(ok.status).toBe(200);
    await control("app", { provider: "spotify", clientId: app.clientId, action: "setRedirectUris", args: [[other]] });
    const moved = await send("GET", `/spotify-accounts/authorize?${authorizeQuery(app.clientId, CALLBACK).toString()}`);
    expect(moved.text).toContain("INVALID_CLIENT: Invalid redirect URI");
  });

  test("when the token endpoint gets an own app's credentials, then Basic auth must match that app", async () => {
    const { id } = fake.addAccount("spotify");
    const app = await ownApp({ users: [id] });
    const code = await codeFor(app.clientId, id);
    const exchange = { grant_type: "authorization_code", code, redirect_uri: CALLBACK };
    expect((await tokenPost({ ...app, clientSecret: "wrong" }, exchange)).json).toEqual({
      error: "invalid_client",
      error_description: "Invalid client secret",
    });
    expect((await tokenPost({ ...app, clientSecret: OPERATOR.clientSecret }, exchange)).status).toBe(400);
    const unknown = await tokenPost({ clientId: "nope", clientSecret: app.clientSecret }, exchange);
    expect([unknown.status, unknown.json]).toEqual([
      400,
      { error: "invalid_client", error_description: "Invalid client" },
    ]);
    const ok = await tokenPost(app, exchange);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({
      token_type: "Bearer",
      expires_in: 3600,
      scope: "playlist-read-private user-top-read",
    });
    expect((await me(String(ok.json.access_token))).json.id).toBe(id);
  });

  test("when a code or refresh token of one app is used by another, then it is invalid_grant; a different redirect_uri too", async () => {
    const { id } = fake.addAccount("spotify");
    const a = await ownApp({ users: [id] });
    const b = await ownApp({ users: [id] });
    const codeA = await codeFor(a.clientId, id);
    const exchange = { grant_type: "authorization_code", code: codeA, redirect_uri: CALLBACK };
    for (const other of [b, OPERATOR]) {
      expect((await tokenPost(other, exchange)).json).toEqual({
        error: "invalid_grant",
        error_description: "Invalid authorization code",
      });
    }
    const mismatch = await tokenPost(a, { ...exchange, redirect_uri: `${CALLBACK}/other` });
    expect(mismatch.json).toEqual({ error: "invalid_grant", error_description: "Invalid redirect URI" });
    const t = await connect(a, id);
    const operatorTokens = await connect(OPERATOR, id);
    for (const [app, refresh] of [
      [b, t.refresh],
      [OPERATOR, t.refresh],
      [a, operatorTokens.refresh],
    ] as const) {
      expect((await tokenPost(app, { grant_type: "refresh_token", refresh_token: refresh })).json).toEqual({
        error: "invalid_grant",
        error_description: "Invalid refresh token",
      });
    }
    fake.rotateRefreshTokens(true);
    const refreshed = await tokenPost(a, { grant_type: "refresh_token", refresh_token: t.refresh });
    expect(refreshed.status).toBe(200);
    const rotated = String(refreshed.json.refresh_token);
    expect((await tokenPost(b, { grant_type: "refresh_token", refresh_token: rotated })).status).toBe(400);
    expect((await tokenPost(a, { grant_type: "refresh_token", refresh_token: rotated })).status).toBe(200);
    expect((await me(String(refreshed.json.access_token))).status).toBe(200);
  });

  test("when grant_type=client_credentials is asked, then an app token comes back that the user endpoints refuse with 403", async () => {
    const app = await ownApp();
    for (const creds of [app, OPERATOR]) {
      const r = await tokenPost(creds, { grant_type: "client_credentials" });
      expect(r.status).toBe(200);
      expect(Object.keys(r.json).sort()).toEqual(["access_token", "expires_in", "token_type"]);
      expect(r.json).toMatchObject({ token_type: "Bearer", expires_in: 3600 });
      const profile = await me(String(r.json.access_token));
      expect([profile.status, profile.json]).toEqual([403, { error: { status: 403, message: "Forbidden" } }]);
    }
    const wrong = await tokenPost({ ...app, clientSecret: "x" }, { grant_type: "client_credentials" });
    expect(wrong.json).toEqual({ error: "invalid_client", error_description: "Invalid client secret" });
    const appToken = String((await tokenPost(app, { grant_type: "client_credentials" })).json.access_token);
    fake.clock.advance(3600_000);
    const expired = await me(appToken);
    expect([expired.status, expired.json]).toEqual([
      401,
      { error: { status: 401, message: "The access token expired" } },
    ]);
  });

  test("when an own app's token is used, then only accounts in its User Management get data, whatever allowListed says", async () => {
    const { id } = fake.addAccount("spotify", { allowListed: false });
    const app = await ownApp();
    const t = await connect(app, id);
    const refused = await me(t.access);
    expect([refused.status, refused.json]).toEqual([
      403,
      {
        error: {
          status: 403,
          message: "Check settings on developer.spotify.com/dashboard, the user may not be registered.",
        },
      },
    ]);
    const added = await control("app", { provider: "spotify", clientId: app.clientId, action: "addUser", args: [id] });
    expect(added.json.users).toEqual([id]);
    expect((await me(t.access)).status).toBe(200);
    const playlists = await send("GET", "/spotify-api/v1/me/playlists", {
      headers: { authorization: `Bearer ${t.access}` },
    });
    expect(playlists.status).toBe(200);
    await control("app", { provider: "spotify", clientId: app.clientId, action: "removeUser", args: [id] });
    expect((await me(t.access)).status).toBe(403);
    const issued = fake.issueTokens("spotify", id, { clientId: app.clientId });
    expect((await me(issued.accessToken)).status).toBe(403);
    fake.app("spotify", app.clientId, "addUser", [id]);
    expect((await me(issued.accessToken)).status).toBe(200);
  });

  test("when an own app's secret is reset or the app is deleted, then the old credentials stop working", async () => {
    const app = await ownApp();
    const reset = await control("app", { provider: "spotify", clientId: app.clientId, action: "setSecret", args: [] });
    const secret = String(reset.json.result);
    expect(secret).toMatch(/^[0-9a-f]{32}$/);
    expect((await tokenPost(app, { grant_type: "client_credentials" })).json.error_description).toBe(
      "Invalid client secret",
    );
    expect((await tokenPost({ ...app, clientSecret: secret }, { grant_type: "client_credentials" })).status).toBe(200);
    const gone = await control("app", { provider: "spotify", clientId: app.clientId, action: "delete" });
    expect(gone.json.deleted).toBe(true);
    expect((await tokenPost({ ...app, clientSecret: secret }, { grant_type: "client_credentials" })).json).toEqual({
      error: "invalid_client",
      error_description: "Invalid client",
    });
    expect(fake.apps("spotify")).toEqual([]);
  });

  test("when rateLimit names an own app, then that app has its own rolling budget and the others are not counted in it", async () => {
    const { id } = fake.addAccount("spotify");
    const a = await ownApp({ users: [id] });
    const b = await ownApp({ users: [id] });
    const [ta, tb, to] = [await connect(a, id), await connect(b, id), await connect(OPERATOR, id)];
    expect(
      (
        await control("rateLimit", {
          provider: "spotify",
          limit: { windowSeconds: 30, budget: 2 },
          clientId: a.clientId,
        })
      ).status,
    ).toBe(200);
    expect((await me(ta.access)).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      expect((await me(tb.access)).status).toBe(200);
      expect((await me(to.access)).status).toBe(200);
    }
    expect((await me(ta.access)).status).toBe(200);
    const over = await me(ta.access);
    expect(over.status).toBe(429);
    expect(Number(over.headers["retry-after"])).toBeGreaterThan(0);
    fake.clock.advance(30_000);
    expect((await me(ta.access)).status).toBe(200);
    // The operator's budget (no clientId) does not count own apps' requests.
    fake.rateLimit("spotify", { windowSeconds: 30, budget: 1 });
    expect((await me(to.access)).status).toBe(200);
    expect((await me(to.access)).status).toBe(429);
    expect((await me(tb.access)).status).toBe(200);
    fake.rateLimit("spotify", null, a.clientId);
    for (let i = 0; i < 3; i++) expect((await me(ta.access)).status).toBe(200);
  });

  test("when a fault names a clientId, then it hits only token POSTs and API calls made as that app", async () => {
    const { id } = fake.addAccount("spotify");
    const a = await ownApp({ users: [id] });
    const b = await ownApp({ users: [id] });
    const [ta, tb, to] = [await connect(a, id), await connect(b, id), await connect(OPERATOR, id)];
    const added = await control("fault", { provider: "spotify", fault: { kind: "5xx", clientId: a.clientId } });
    expect(added.status).toBe(200);
    expect((await me(ta.access)).status).toBe(503);
    expect((await me(tb.access)).status).toBe(200);
    expect((await me(to.access)).status).toBe(200);
    expect((await tokenPost(a, { grant_type: "client_credentials" })).status).toBe(503);
    expect((await tokenPost(b, { grant_type: "client_credentials" })).status).toBe(200);
    fake.clearFaults();
    await control("fault", {
      provider: "spotify",
      clientId: OPERATOR.clientId,
      fault: { kind: "invalid_grant", times: 1 },
    });
    expect((await tokenPost(a, { grant_type: "refresh_token", refresh_token: ta.refresh })).status).toBe(200);
    expect((await tokenPost(OPERATOR, { grant_type: "refresh_token", refresh_token: to.refresh })).json.error).toBe(
      "invalid_grant",
    );
  });

  test("when a quota fault is set on Spotify, then the API answers 429 with Retry-After and reason QUOTA_EXCEEDED", async () => {
    const { id } = fake.addAccount("spotify");
    const app = await ownApp({ users: [id] });
    const t = await connect(app, id);
    await control("fault", { provider: "spotify", fault: { kind: "quota", clientId: app.clientId, times: 1 } });
    expect((await tokenPost(app, { grant_type: "client_credentials" })).status).toBe(200); // API routes only
    const r = await me(t.access);
    expect(r.status).toBe(429);
    expect(r.headers["retry-after"]).toBe("3600");
    expect(r.json).toEqual({ error: { status: 429, message: "Quota exceeded", reason: "QUOTA_EXCEEDED" } });
    expect((await me(t.access)).status).toBe(200);
    fake.fault("spotify", { kind: "quota", endpoint: "me/playlists", retryAfterSeconds: 120 });
    const playlists = await send("GET", "/spotify-api/v1/me/playlists", {
      headers: { authorization: `Bearer ${t.access}` },
    });
    expect([playlists.status, playlists.headers["retry-after"]]).toEqual([429, "120"]);
  });

  test("when the account spec sets accountId, then /v1/me carries account_id; otherwise it has none", async () => {
    const withId = fake.addAccount("spotify", { accountId: "acc-0001" }).id;
    const without = fake.addAccount("spotify").id;
    const profile = await me(fake.issueTokens("spotify", withId).accessToken);
    expect(profile.json).toMatchObject({ id: withId, account_id: "acc-0001" });
    expect("account_id" in (await me(fake.issueTokens("spotify", without).accessToken)).json).toBe(false);
    await control("account", { provider: "spotify", id: without, action: "setAccountId", args: ["acc-0002"] });
    expect((await me(fake.issueTokens("spotify", without).accessToken)).json.account_id).toBe("acc-0002");
    expect(() => fake.addAccount("spotify", { accountId: "" })).toThrow(/"accountId" must be a non-empty string/);
  });
});
