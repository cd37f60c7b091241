import {
  NotAllowedError,
  ProviderSchemaError,
  RateLimitedError,
  ReauthRequiredError,
  TransientError,
} from "../../../src/errors";
import { instagram } from "../../../src/providers/instagram";
import { POINT_MEDIA } from "../../../src/providers/instagram/mapping";
import { MediaPage, Profile, ShortLivedToken } from "../../../src/providers/instagram/schemas";
import { getProvider, PROVIDER_MODULES } from "../../../src/providers/registry";
import type { ProviderContext, TokenSet } from "../../../src/providers/types";
import { type FakeAnswer, fakeHttp, fixture, type SeenRequest, unitConfig } from "../../support/http-fake";

const NOW = new Date("2026-03-01T10:00:00Z");
const DAY = 86_400_000;

function ctxWith(respond: (r: SeenRequest) => FakeAnswer) {
  const fake = fakeHttp(respond, { now: () => NOW });
  const ctx: ProviderContext = { config: unitConfig(), now: () => NOW, http: fake.deps };
  return { ctx, ...fake };
}

function syncFixtures(r: SeenRequest): FakeAnswer {
  if (r.url.pathname === "/me") return { body: fixture("instagram/me.json") };
  if (r.url.pathname === "/me/media") return { body: fixture("instagram/media-page-1.json") };
  if (r.url.pathname === "/v23.0/17841400000000001/media") return { body: fixture("instagram/media-page-2.json") };
  return { status: 404, body: { error: { message: "no such fixture", code: 100 } } };
}

describe("Instagram schemas", () => {
  it("when the code exchange answers the current `data` list or the older flat form, then both give the token", () => {
    expect(ShortLivedToken.parse(fixture("instagram/token-short-lived.json")).access_token).toMatch(
      /^IGAAExampleShort/,
    );
    expect(ShortLivedToken.parse({ access_token: "T", user_id: 1784140000, permissions: ["a"] })).toEqual({
      access_token: "T",
      user_id: 1784140000,
      permissions: ["a"],
    });
  });

  it("when a profile has neither user_id nor id, then it fails", () => {
    expect(Profile.safeParse({ username: "x" }).success).toBe(false);
    expect(Profile.safeParse(fixture("instagram/me.json")).success).toBe(true);
  });

  it("when the last media page has no `next`, then the envelope still parses", () => {
    expect(MediaPage.parse(fixture("instagram/media-page-2.json")).paging?.next).toBeUndefined();
  });
});

describe("Instagram fetchAll against the recorded responses", () => {
  it("when both pages answer, then media and carousel children are mapped, bad ones skipped, and images listed for mirroring", async () => {
    const { ctx, requests } = ctxWith(syncFixtures);
    const result = await instagram.fetchAll(ctx, "IG-TOKEN");
    expect(result.account).toEqual({ id: "17841400000000001", displayName: "ada.makes.things" });
    expect(result.snapshots.profile).toEqual({
      id: "17841400000000001",
      username: "ada.makes.things",
      name: "Ada — Studio",
      account_type: "BUSINESS",
      media_count: 4,
      followers_count: 1287,
      follows_count: 311,
      profile_picture_url: expect.stringMatching(/^https:\/\/scontent\.cdninstagram\.com\//),
    });
    expect(result.snapshots.media).toEqual({
      items: [
        {
          id: "17895695668004550",
          media_type: "IMAGE",
          file_ext: "jpg",
          caption: "First light over the harbour 🌅 #morning",
          permalink: "https://www.instagram.com/p/C1aBcDeFgHi/",
          timestamp: "2025-01-05T07:31:12+0000",
          like_count: 142,
          comments_count: 9,
          children: [],
        },
        {
          id: "17912345678901234",
          media_type: "VIDEO",
          file_ext: "jpg",
          caption: "Studio tour",
          permalink: "https://www.instagram.com/reel/C1bCdEfGhIj/",
          timestamp: "2025-01-03T18:02:45+0000",
          like_count: 0,
          comments_count: 0,
          children: [],
        },
        {
          id: "18023456789012345",
          media_type: "CAROUSEL_ALBUM",
          file_ext: null,
          caption: "",
          permalink: "https://www.instagram.com/p/C1cDeFgHiJk/",
          timestamp: "2024-12-24T20:15:00+0000",
          like_count: null,
          comments_count: null,
          children: [
            { id: "18011111111111111", media_type: "IMAGE", file_ext: "jpg" },
            { id: "18022222222222222", media_type: "VIDEO", file_ext: "jpg" },
          ],
        },
        {
          id: "17999999999999999",
          media_type: "VIDEO",
          file_ext: null,
          caption: null,
          permalink: "https://www.instagram.com/reel/C1dEfGhIjKl/",
          timestamp: "2024-12-20T09:00:00+0000",
          like_count: null,
          comments_count: null,
          children: [],
        },
      ],
    });
    expect(result.mirror).toEqual([
      {
        id: "17895695668004550",
        url: expect.stringContaining("/harbour_n.jpg?"),
        ext: "jpg",
        version: "17895695668004550|/v/t51.29350-15/harbour_n.jpg",
      },
      {
        id: "17912345678901234",
        url: expect.stringContaining("/tour_thumb_n.jpg?"),
        ext: "jpg",
        version: "17912345678901234|/v/t51.29350-15/tour_thumb_n.jpg",
      },
      expect.objectContaining({ id: "18011111111111111", url: expect.stringContaining("/c1_n.jpg?") }),
      expect.objectContaining({ id: "18022222222222222", url: expect.stringContaining("/c2_thumb_n.jpg?") }),
    ]);
    // A media item without id, and a carousel child with an empty id.
    expect(result.counts).toEqual({ media: 4, mediaPages: 2, children: 2, mirror: 4, skipped: 2 });
    expect(requests[0]!.url.searchParams.get("fields")!.split(",")).toEqual(
      expect.arrayContaining(["followers_count", "media_count"]),
    );
    expect(requests.map((r) => r.url.pathname)).toEqual(["/me", "/me/media", "/v23.0/17841400000000001/media"]);
    expect(requests[1]!.url.searchParams.get("fields")).toBe(
      "id,caption,media_type,media_url,permalink,thumbnail_url,timestamp,like_count,comments_count,children{id,media_type,media_url,thumbnail_url}",
    );
    expect(requests[1]!.url.searchParams.get("access_token")).toBe("IG-TOKEN");
    expect(result.requests).toBe(3);
  });

  it("when the token expired (error 190), then ReauthRequiredError without a retry", async () => {
    const { ctx, requests } = ctxWith(() => ({ status: 400, body: fixture("instagram/error-190.json") }));
    const error = await instagram.fetchAll(ctx, "IG-TOKEN").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReauthRequiredError);
    expect((error as ReauthRequiredError).reason).toMatch(/reconnect Instagram/);
    expect(requests).toHaveLength(1);
  });

  it("when the app hit its rate limit (code 4) and usage headers give a time, then RateLimitedError at that time", async () => {
    const usage = JSON.stringify({
      "17841400000000001": [{ type: "instagram", call_count: 100, estimated_time_to_regain_access: 17 }],
    });
    const { ctx, requests } = ctxWith(() => ({
      status: 400,
      headers: { "x-business-use-case-usage": usage },
      body: fixture("instagram/error-rate-limited.json"),
    }));
    const error = await instagram.fetchAll(ctx, "IG-TOKEN").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAt).toEqual(new Date(NOW.getTime() + 17 * 60_000));
    expect((error as RateLimitedError).scope).toBe("app"); // code 4: the application's limit
    expect(requests).toHaveLength(1);
  });

  it("when one account hit its limit (code 17), then RateLimitedError for that account only", async () => {
    const { ctx } = ctxWith(() => ({
      status: 400,
      body: { error: { message: "(#17) User request limit reached", code: 17 } },
    }));
    const error = (await instagram.fetchAll(ctx, "IG-TOKEN").catch((e: unknown) => e)) as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.scope).toBe("account");
  });

  it("when the rate-limit answer has no usage estimate, then the descriptor's default wait (1 h) applies", async () => {
    const { ctx } = ctxWith(() => ({ status: 400, body: fixture("instagram/error-rate-limited.json") }));
    const error = (await instagram.fetchAll(ctx, "IG-TOKEN").catch((e: unknown) => e)) as RateLimitedError;
    expect(error.retryAt).toEqual(new Date(NOW.getTime() + 3_600_000));
  });

  it("when a permission error (code 10) comes back, then NotAllowedError", async () => {
    const { ctx } = ctxWith(() => ({ status: 403, body: { error: { message: "(#10) no permission", code: 10 } } }));
    await expect(instagram.fetchAll(ctx, "IG-TOKEN")).rejects.toBeInstanceOf(NotAllowedError);
  });

  it("when the media envelope is broken, then ProviderSchemaError", async () => {
    const { ctx } = ctxWith((r) => (r.url.pathname === "/me/media" ? { body: { data: 12345 } } : syncFixtures(r)));
    await expect(instagram.fetchAll(ctx, "IG-TOKEN")).rejects.toBeInstanceOf(ProviderSchemaError);
  });

  it("when Graph is unavailable (5xx), then TransientError after the allowed retries", async () => {
    const { ctx, requests } = ctxWith(() => ({
      status: 503,
      body: { error: { message: "(#2) Service temporarily unavailable", code: 2 } },
    }));
    await expect(instagram.fetchAll(ctx, "IG-TOKEN")).rejects.toBeInstanceOf(TransientError);
    expect(requests).toHaveLength(1 + ctx.config.HTTP_MAX_RETRIES);
  });
});

describe("Instagram OAuth", () => {
  it("when the authorize URL is built, then it has the comma-separated scope and state", () => {
    const { ctx } = ctxWith(() => ({}));
    const url = new URL(instagram.authorizeUrl(ctx, { state: "s", redirectUri: "https://app.example/cb" }));
    expect(`${url.origin}${url.pathname}`).toBe("https://www.instagram.com/oauth/authorize");
    expect(url.searchParams.get("scope")).toBe("instagram_business_basic");
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.get("state")).toBe("s");
  });

  it("when a code ending in #_ is exchanged, then the suffix is stripped and the long-lived token is returned", async () => {
    const { ctx, requests } = ctxWith((r) =>
      r.method === "POST"
        ? { body: fixture("instagram/token-short-lived.json") }
        : { body: fixture("instagram/token-long-lived.json") },
    );
    const set = await instagram.exchangeCode(ctx, { code: "AQBxCode#_", redirectUri: "https://app.example/cb" });
    expect(set).toEqual({
      accessToken: "IGAAExampleLongLivedToken00000000000000000000000000000000000000",
      expiresAt: new Date(NOW.getTime() + 5_183_944_000),
      issuedAt: NOW,
      scopes: ["instagram_business_basic"],
    });
    expect(requests[0]!.url.toString()).toBe("https://api.instagram.com/oauth/access_token");
    expect(Object.fromEntries(new URLSearchParams(requests[0]!.body))).toEqual({
      client_id: "fake-instagram-app-id",
      client_secret: "unit-instagram-secret",
      grant_type: "authorization_code",
      redirect_uri: "https://app.example/cb",
      code: "AQBxCode",
    });
    expect(requests[1]!.url.pathname).toBe("/access_token");
    expect(requests[1]!.url.searchParams.get("grant_type")).toBe("ig_exchange_token");
    expect(requests[1]!.url.searchParams.get("access_token")).toBe(
      "IGAAExampleShortLivedToken0000000000000000000000000000000000",
    );
  });

  it("when the code is rejected, then ReauthRequiredError and no long-lived exchange", async () => {
    const { ctx, requests } = ctxWith(() => ({ status: 400, body: fixture("instagram/error-invalid-code.json") }));
    await expect(
      instagram.exchangeCode(ctx, { code: "bad", redirectUri: "https://app.example/cb" }),
    ).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(requests).toHaveLength(1);
  });

  const token = (ageDays: number, leftDays: number): TokenSet => ({
    accessToken: "IG-LONG",
    issuedAt: new Date(NOW.getTime() - ageDays * DAY),
    expiresAt: new Date(NOW.getTime() + leftDays * DAY),
    scopes: ["instagram_business_basic"],
  });

  it("when a token is due within INSTAGRAM_REFRESH_MARGIN_DAYS and at least 24 h old, then a refresh is due", () => {
    const { ctx } = ctxWith(() => ({}));
    const margin = ctx.config.INSTAGRAM_REFRESH_MARGIN_DAYS;
    expect(instagram.refreshDue(ctx, token(60 - margin, margin))).toBe(true);
    expect(instagram.refreshDue(ctx, token(30, margin + 1))).toBe(false); // not yet due
    expect(instagram.refreshDue(ctx, token(0.5, margin - 1))).toBe(false); // younger than 24 h
    expect(instagram.refreshDue(ctx, token(61, -1))).toBe(false); // expired: cannot be refreshed
  });

  it("when refreshed, then ig_refresh_token is used and a new 60-day token returned", async () => {
    const { ctx, requests } = ctxWith(() => ({ body: fixture("instagram/token-refreshed.json") }));
    const set = await instagram.refresh(ctx, token(55, 5));
    expect(set.accessToken).toBe("IGAAExampleRefreshedLongLivedToken000000000000000000000000000000");
    expect(set.issuedAt).toEqual(NOW);
    expect(set.expiresAt).toEqual(new Date(NOW.getTime() + 5_184_000_000));
    expect(requests[0]!.url.pathname).toBe("/refresh_access_token");
    expect(requests[0]!.url.searchParams.get("grant_type")).toBe("ig_refresh_token");
  });

  it("when the token already expired, then refresh throws ReauthRequiredError without a request", async () => {
    const { ctx, requests } = ctxWith(() => ({ body: fixture("instagram/token-refreshed.json") }));
    await expect(instagram.refresh(ctx, token(61, -1))).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(requests).toHaveLength(0);
  });

  it("when the token is younger than 24 h, then refresh keeps it without a request (Instagram would refuse)", async () => {
    const { ctx, requests } = ctxWith(() => ({ body: fixture("instagram/token-refreshed.json") }));
    const t = token(0.5, 59);
    await expect(instagram.refresh(ctx, t)).resolves.toBe(t);
    expect(requests).toHaveLength(0);
  });
});

describe("registry", () => {
  it("when a provider is looked up, then its module comes back; an unknown one throws", () => {
    expect(getProvider("spotify").id).toBe("spotify");
    expect(getProvider("instagram")).toBe(instagram);
    expect(Object.keys(PROVIDER_MODULES)).toEqual(["spotify", "instagram", "youtube"]);
    expect(() => getProvider("myspace" as never)).toThrow(/Unknown provider/);
  });
});

describe("Instagram daily history point", () => {
  it("when a sync fetched the profile and media, then the point holds the counts and [likes, comments] per media", async () => {
    const { ctx } = ctxWith(syncFixtures);
    const result = await instagram.fetchAll(ctx, "IG-TOKEN");
    expect(instagram.historyPoint!(result.snapshots)).toEqual({
      followers: 1287,
      follows: 311,
      media: 4,
      posts: {
        "17895695668004550": [142, 9],
        "17912345678901234": [0, 0],
        "18023456789012345": [null, null],
        "17999999999999999": [null, null],
      },
    });
  });

  it("when there are more than POINT_MEDIA media, then only the newest POINT_MEDIA are kept", () => {
    const items = Array.from({ length: POINT_MEDIA + 50 }, (_, i) => ({
      id: `m${i}`,
      // Oldest first here: the point must pick by timestamp, not by position.
      timestamp: new Date(Date.UTC(2025, 0, 1) + i * 3_600_000).toISOString(),
      like_count: i,
      comments_count: 1,
    }));
    const point = instagram.historyPoint!({
      profile: { followers_count: 5, media_count: items.length },
      media: { items },
    }) as { posts: Record<string, unknown>; follows: unknown };
    const ids = Object.keys(point.posts);
    expect(ids).toHaveLength(POINT_MEDIA);
    expect(ids).toContain(`m${POINT_MEDIA + 49}`);
    expect(ids).not.toContain("m49");
    expect(point.follows).toBeNull();
  });

  it("when there is no profile snapshot, then there is no point", () => {
    expect(instagram.historyPoint!({})).toBeNull();
  });
});
