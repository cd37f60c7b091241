import {
  ConfigError,
  NotAllowedError,
  ProviderSchemaError,
  RateLimitedError,
  ReauthRequiredError,
} from "../../../src/errors";
import { youtube } from "../../../src/providers/youtube";
import { durationSeconds } from "../../../src/providers/youtube/mapping";
import type { ProviderContext, TokenSet } from "../../../src/providers/types";
import { type FakeAnswer, fakeHttp, fixture, type SeenRequest, unitConfig } from "../../support/http-fake";

const NOW = new Date("2026-12-01T22:00:00Z");
const DATA = "https://youtube.googleapis.com";

function ctxWith(respond: (r: SeenRequest) => FakeAnswer, overrides: Record<string, string> = {}) {
  const fake = fakeHttp(respond, { now: () => NOW });
  const ctx: ProviderContext = {
    config: unitConfig({ YOUTUBE_CLIENT_SECRET: "unit-youtube-secret", ...overrides }),
    now: () => NOW,
    http: fake.deps,
  };
  return { ctx, ...fake };
}

/** The recorded answers of one sync: two pages of liked videos, one of the rest. */
function syncFixtures(r: SeenRequest): FakeAnswer {
  const path = r.url.pathname;
  if (path === "/tokeninfo") return { body: fixture("youtube/tokeninfo.json") };
  if (path === "/youtube/v3/channels") return { body: fixture("youtube/channels-mine.json") };
  if (path === "/youtube/v3/videos") {
    return {
      body: fixture(
        r.url.searchParams.get("pageToken") === "CAIQAA" ? "youtube/liked-page-2.json" : "youtube/liked-page-1.json",
      ),
    };
  }
  if (path === "/youtube/v3/subscriptions") return { body: fixture("youtube/subscriptions.json") };
  if (path === "/youtube/v3/playlists") return { body: fixture("youtube/playlists.json") };
  return { status: 404, body: { error: { code: 404, message: "no such fixture" } } };
}

const TOKENS: TokenSet = {
  accessToken: "old-access",
  refreshToken: "1//refresh",
  expiresAt: new Date(NOW.getTime() + 60_000),
  issuedAt: new Date(NOW.getTime() - 3_540_000),
  scopes: ["openid", "https://www.googleapis.com/auth/youtube.readonly"],
};

describe("YouTube authorize URL", () => {
  it("when a connect starts, then Google's consent page is asked for offline access, consent every time, and the read-only scope", () => {
    const { ctx } = ctxWith(() => ({}));
    const url = new URL(
      youtube.authorizeUrl(ctx, { state: "S1", redirectUri: "https://app.example/api/oauth/callback" }),
    );
    expect(`${url.origin}${url.pathname}`).toBe("https://accounts.google.com/o/oauth2/v2/auth");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: "fake-youtube-client-id.apps.googleusercontent.com",
      redirect_uri: "https://app.example/api/oauth/callback",
      response_type: "code",
      scope: "openid https://www.googleapis.com/auth/youtube.readonly",
      state: "S1",
      access_type: "offline",
      prompt: "consent",
    });
  });
});

describe("YouTube tokens", () => {
  it("when a code is exchanged, then the form carries the client credentials and the answer becomes tokens with the granted scopes", async () => {
    const { ctx, requests } = ctxWith(() => ({ body: fixture("youtube/token-code.json") }));
    const t = await youtube.exchangeCode(ctx, { code: "4/0Acode", redirectUri: "https://app.example/cb" });
    expect(requests[0]!.url.href).toBe("https://oauth2.googleapis.com/token");
    expect(Object.fromEntries(new URLSearchParams(requests[0]!.body))).toEqual({
      client_id: "fake-youtube-client-id.apps.googleusercontent.com",
      client_secret: "unit-youtube-secret",
      grant_type: "authorization_code",
      code: "4/0Acode",
      redirect_uri: "https://app.example/cb",
    });
    expect(t.refreshToken).toBe("1//0gExampleRefreshTokenForUnitTests");
    expect(t.expiresAt.getTime()).toBe(NOW.getTime() + 3_599_000);
    expect(t.scopes).toEqual(["openid", "https://www.googleapis.com/auth/youtube.readonly"]);
  });

  it("when the person unticked the YouTube scope on Google's page, then the exchange refuses with what to do", async () => {
    const { ctx } = ctxWith(() => ({ body: { ...(fixture("youtube/token-code.json") as object), scope: "openid" } }));
    const e = await youtube.exchangeCode(ctx, { code: "c", redirectUri: "https://app.example/cb" }).catch((x) => x);
    expect(e).toBeInstanceOf(NotAllowedError);
    expect(e.message).toMatch(/connect again and allow it/);
  });

  it("when a code exchange answers without a refresh token, then it is a schema error (prompt=consent missing)", async () => {
    const body = { ...(fixture("youtube/token-code.json") as Record<string, unknown>) };
    delete body.refresh_token;
    const { ctx } = ctxWith(() => ({ body }));
    await expect(
      youtube.exchangeCode(ctx, { code: "c", redirectUri: "https://app.example/cb" }),
    ).rejects.toBeInstanceOf(ProviderSchemaError);
  });

  it("when a refresh answers without a refresh token, as Google does, then the stored one is kept", async () => {
    const { ctx, requests } = ctxWith(() => ({
      body: { access_token: "new-access", expires_in: 3599, token_type: "Bearer", scope: TOKENS.scopes.join(" ") },
    }));
    const t = await youtube.refresh(ctx, TOKENS);
    expect(Object.fromEntries(new URLSearchParams(requests[0]!.body))).toMatchObject({
      grant_type: "refresh_token",
      refresh_token: "1//refresh",
    });
    expect(t).toMatchObject({ accessToken: "new-access", refreshToken: "1//refresh" });
  });

  it("when Google answers invalid_grant (revoked, or a Testing app's 7-day expiry), then the person must reconnect", async () => {
    const { ctx } = ctxWith(() => ({ status: 400, body: fixture("youtube/error-invalid-grant.json") }));
    const e = await youtube.refresh(ctx, TOKENS).catch((x) => x);
    expect(e).toBeInstanceOf(ReauthRequiredError);
    expect(e.reason).toBe("YouTube access was revoked or has expired; reconnect YouTube.");
    expect(e.message).not.toContain("1//refresh");
  });

  it("when Google rejects the client, then it is a configuration error naming the settings", async () => {
    const { ctx } = ctxWith(() => ({
      status: 401,
      body: { error: "invalid_client", error_description: "The OAuth client was not found." },
    }));
    const e = await youtube.refresh(ctx, TOKENS).catch((x) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/YOUTUBE_CLIENT_ID and YOUTUBE_CLIENT_SECRET/);
  });
});

describe("YouTube identify", () => {
  it("when the token is this app's, then the account is the Google account id and the channel's title", async () => {
    const { ctx, requests } = ctxWith(syncFixtures);
    expect(await youtube.identify(ctx, "ACCESS")).toEqual({
      id: "110248495921238986420",
      displayName: "Ada Makes Things",
    });
    expect(requests[0]!.url.searchParams.get("access_token")).toBe("ACCESS");
    expect(requests[1]!.headers.authorization).toBe("Bearer ACCESS");
  });

  it("when the token was issued to another app, then it is refused before any Data API call", async () => {
    const { ctx, requests } = ctxWith((r) =>
      r.url.pathname === "/tokeninfo"
        ? { body: { ...(fixture("youtube/tokeninfo.json") as object), aud: "someone-else.apps.googleusercontent.com" } }
        : syncFixtures(r),
    );
    await expect(youtube.identify(ctx, "ACCESS")).rejects.toBeInstanceOf(NotAllowedError);
    expect(requests).toHaveLength(1);
  });

  it("when the account has no channel, then it still connects, without a name", async () => {
    const { ctx } = ctxWith((r) =>
      r.url.pathname === "/youtube/v3/channels" ? { body: fixture("youtube/channels-none.json") } : syncFixtures(r),
    );
    expect(await youtube.identify(ctx, "ACCESS")).toEqual({ id: "110248495921238986420", displayName: null });
  });
});

describe("YouTube fetchAll through Google's client", () => {
  it("when every listing answers, then the channel, all pages of liked videos, subscriptions and playlists are mapped and units counted", async () => {
    const { ctx, requests } = ctxWith(syncFixtures);
    const r = await youtube.fetchAll(ctx, "ACCESS");
    expect(r.account).toEqual({ id: "110248495921238986420", displayName: "Ada Makes Things" });
    expect(r.snapshots.channel).toEqual({
      channel: {
        id: "UCxAdaMakesThings0000001",
        title: "Ada Makes Things",
        description: "Workshop videos.",
        customUrl: "@adamakesthings",
        publishedAt: "2014-05-03T11:20:41Z",
        thumbnailUrl: "https://yt3.ggpht.com/ytc/ada=s240-c-k-c0x00ffffff-no-rj",
        country: "GB",
        url: "https://www.youtube.com/channel/UCxAdaMakesThings0000001",
        statistics: { subscribers: 1290, views: 48213, videos: 37 },
      },
      message: null,
    });
    expect(r.snapshots["liked-videos"]).toEqual({
      total: 3,
      items: [
        {
          id: "dQw4w9WgXcQ",
          title: "Never Gonna Give You Up",
          channelId: "UCuAXFkgsw1L7xaCfnd5JJOw",
          channelTitle: "Rick Astley",
          publishedAt: "2009-10-25T06:57:33Z",
          durationSeconds: 213,
          thumbnailUrl: "https://i.ytimg.com/vi/dQw4w9WgXcQ/mqdefault.jpg",
          views: 1_700_000_000,
          likes: 18_000_000,
          url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        },
        expect.objectContaining({
          id: "jNQXAC9IVRw",
          durationSeconds: 19,
          likes: null,
          thumbnailUrl: expect.stringMatching(/default\.jpg$/),
        }),
      ],
    });
    expect(r.snapshots.subscriptions).toEqual({
      total: 1,
      items: [
        {
          id: "FMP3Mleijt-52zZDGkHtR5KhwkvCcdQKWWWIVqoxqJA",
          channelId: "UCHnyfMqiRRG1u-2MsSQLbXA",
          title: "Veritasium",
          description: "An element of truth.",
          thumbnailUrl: "https://yt3.ggpht.com/veritasium=s88",
          subscribedAt: "2021-02-14T09:00:00.123Z",
          url: "https://www.youtube.com/channel/UCHnyfMqiRRG1u-2MsSQLbXA",
        },
      ],
    });
    expect(r.snapshots.playlists).toEqual({
      total: 1,
      items: [
        {
          id: "PLxAdaWorkshop000000000000000000",
          title: "Workshop builds",
          description: null,
          itemCount: 12,
          privacyStatus: "unlisted",
          publishedAt: "2019-08-01T12:00:00Z",
          thumbnailUrl: "https://i.ytimg.com/vi/abc/mqdefault.jpg",
          url: "https://www.youtube.com/playlist?list=PLxAdaWorkshop000000000000000000",
        },
      ],
    });
    expect(r.mirror).toEqual([]);
    // tokeninfo + channels + 2 liked pages + subscriptions + playlists; the bad liked item skipped.
    expect(r.counts).toEqual({ likedVideos: 2, subscriptions: 1, playlists: 1, quotaUnits: 5, skipped: 1 });
    expect(r.requests).toBe(6);
    const data = requests.filter((q) => q.url.pathname.startsWith("/youtube/v3/"));
    expect(data.map((q) => `${q.url.origin}${q.url.pathname}`)).toEqual([
      `${DATA}/youtube/v3/channels`,
      `${DATA}/youtube/v3/videos`,
      `${DATA}/youtube/v3/videos`,
      `${DATA}/youtube/v3/subscriptions`,
      `${DATA}/youtube/v3/playlists`,
    ]);
    expect(Object.fromEntries(data[2]!.url.searchParams)).toEqual({
      part: "snippet,contentDetails,statistics",
      myRating: "like",
      maxResults: "50",
      pageToken: "CAIQAA",
    });
    expect(data[3]!.url.searchParams.get("mine")).toBe("true");
    expect(data.every((q) => q.headers.authorization === "Bearer ACCESS")).toBe(true);
  });

  it("when the account has no channel, then the sync stores the message and spends one unit only", async () => {
    const { ctx, requests } = ctxWith((r) =>
      r.url.pathname === "/youtube/v3/channels" ? { body: fixture("youtube/channels-none.json") } : syncFixtures(r),
    );
    const r = await youtube.fetchAll(ctx, "ACCESS");
    expect(r.snapshots.channel).toEqual({ channel: null, message: expect.stringMatching(/has no YouTube channel/) });
    expect(r.snapshots["liked-videos"]).toEqual({ total: 0, items: [] });
    expect(r.counts.quotaUnits).toBe(1);
    expect(requests.map((q) => q.url.pathname)).toEqual(["/tokeninfo", "/youtube/v3/channels"]);
  });

  it("when the subscriber count is hidden, then it is null, not zero", async () => {
    const hidden = structuredClone(fixture("youtube/channels-mine.json")) as { items: { statistics: object }[] };
    hidden.items[0]!.statistics = {
      viewCount: "5",
      subscriberCount: "0",
      hiddenSubscriberCount: true,
      videoCount: "1",
    };
    const { ctx } = ctxWith((r) => (r.url.pathname === "/youtube/v3/channels" ? { body: hidden } : syncFixtures(r)));
    const r = await youtube.fetchAll(ctx, "ACCESS");
    expect((r.snapshots.channel as { channel: { statistics: unknown } }).channel.statistics).toEqual({
      subscribers: null,
      views: 5,
      videos: 1,
    });
  });

  it("when the project's quota is used up, then the error pauses the whole app until midnight Pacific time", async () => {
    const { ctx } = ctxWith((r) =>
      r.url.pathname === "/youtube/v3/videos"
        ? { status: 403, body: fixture("youtube/error-quota.json") }
        : syncFixtures(r),
    );
    const e = await youtube.fetchAll(ctx, "ACCESS").catch((x) => x);
    expect(e).toBeInstanceOf(RateLimitedError);
    expect(e).toMatchObject({ scope: "app", code: "quota_exceeded" });
    // 22:00 UTC on 1 December is 14:00 PST: the reset is 00:00 PST on 2 December = 08:00 UTC.
    expect(e.retryAt.toISOString()).toBe("2026-12-02T08:00:00.000Z");
  });

  it("when a short per-user rate limit answers, then only this account waits", async () => {
    const { ctx } = ctxWith((r) =>
      r.url.pathname === "/youtube/v3/subscriptions"
        ? {
            status: 403,
            body: { error: { code: 403, errors: [{ reason: "rateLimitExceeded", domain: "youtube.quota" }] } },
          }
        : syncFixtures(r),
    );
    const e = await youtube.fetchAll(ctx, "ACCESS").catch((x) => x);
    expect(e).toMatchObject({ scope: "account", code: "rate_limited" });
  });

  it("when the token lacks the YouTube scope, then the person must reconnect", async () => {
    const { ctx } = ctxWith((r) =>
      r.url.pathname === "/youtube/v3/channels"
        ? { status: 403, body: { error: { code: 403, errors: [{ reason: "insufficientPermissions" }] } } }
        : syncFixtures(r),
    );
    await expect(youtube.fetchAll(ctx, "ACCESS")).rejects.toBeInstanceOf(ReauthRequiredError);
  });

  it("when a listing names the same page token twice, then the loop is a schema error, not an endless sync", async () => {
    const { ctx } = ctxWith((r) =>
      r.url.pathname === "/youtube/v3/playlists"
        ? { body: { pageInfo: { totalResults: 99 }, nextPageToken: "SAME", items: [] } }
        : syncFixtures(r),
    );
    await expect(youtube.fetchAll(ctx, "ACCESS")).rejects.toThrow(/same next page twice/);
  });

  it("when an envelope is not what Google sends, then it is a schema error that shows no token", async () => {
    const { ctx } = ctxWith((r) =>
      r.url.pathname === "/youtube/v3/channels" ? { body: { items: "nope" } } : syncFixtures(r),
    );
    const e = await youtube.fetchAll(ctx, "SECRET-ACCESS-TOKEN").catch((x) => x);
    expect(e).toBeInstanceOf(ProviderSchemaError);
    expect(JSON.stringify(e)).not.toContain("SECRET-ACCESS-TOKEN");
  });

  it("when the Data API base URL has a path, then it is refused (Google's client would drop it silently)", async () => {
    const { ctx } = ctxWith(syncFixtures, { YOUTUBE_DATA_BASE_URL: "https://proxy.example/youtube" });
    await expect(youtube.fetchAll(ctx, "ACCESS")).rejects.toBeInstanceOf(ConfigError);
  });
});

describe("YouTube durations", () => {
  it.each([
    ["PT3M33S", 213],
    ["PT19S", 19],
    ["PT1H", 3600],
    ["P1DT2H3M4S", 93_784],
    ["P0D", 0],
    ["PT", null],
    ["3:33", null],
    [null, null],
  ])("when the duration is %p, then it is %p seconds", (iso, seconds) => {
    expect(durationSeconds(iso)).toBe(seconds);
  });
});
