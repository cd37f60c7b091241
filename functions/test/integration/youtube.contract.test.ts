/**
 * Contract tests of the YouTube module: Google's client library over the product's HttpClient,
 * over real HTTP against the fake Google server (scripts/fake-providers/youtube). Every call the
 * module makes — consent, code exchange, tokeninfo, refresh, revoke, channels, liked videos,
 * subscriptions, playlists — with paging at the edges, and each fault → the right typed error
 * within the retry policy's request budget.
 */
import { type Config, loadConfig } from "../../src/config";
import {
  ConfigError,
  NotAllowedError,
  ProviderSchemaError,
  RateLimitedError,
  ReauthRequiredError,
  TransientError,
} from "../../src/errors";
import type { ProviderContext, TokenSet } from "../../src/providers/types";
import { youtube } from "../../src/providers/youtube";
import { YOUTUBE_READONLY } from "../../src/providers/youtube/descriptor";
import { nextMidnight } from "../../src/time";
import { type FakeProviders, startFakeProviders } from "../../../scripts/fake-providers";
import { localFunctionsEnv } from "../../../scripts/lib/local-env";

const TIMEOUT_MS = 1_000;
const MAX_RETRIES = 3;
const REDIRECT_URI = "http://127.0.0.1:5002/api/oauth/callback/youtube";

let fake: FakeProviders;
let config: Config;
let ctx: ProviderContext;

beforeAll(async () => {
  fake = await startFakeProviders({ port: 0 });
  config = loadConfig({
    ...localFunctionsEnv(),
    ...fake.baseUrls,
    HTTP_TIMEOUT_MS: String(TIMEOUT_MS),
    RETRY_AFTER_CAP_SECONDS: "2",
    HTTP_MAX_RETRIES: String(MAX_RETRIES),
  });
  ctx = { config, now: () => fake.clock.now() };
});
afterAll(async () => {
  await fake?.stop();
});
beforeEach(() => {
  fake.clearFaults();
  fake.resetStats();
});

const hits = (endpoint: string) => fake.stats().byEndpoint[`youtube:${endpoint}`] ?? 0;

function tokenSet(accountId: string): TokenSet {
  const t = fake.issueTokens("youtube", accountId);
  const now = fake.clock.now();
  return {
    accessToken: t.accessToken,
    ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}),
    expiresAt: new Date(now.getTime() + t.expiresIn * 1000),
    issuedAt: now,
    scopes: t.scopes,
  };
}

/** GETs the consent page and submits it as a person would: Allow, with or without the YouTube box ticked. */
async function consent(url: string, account: string, opts: { youtube: boolean }): Promise<URL> {
  const page = await fetch(url);
  expect(page.status).toBe(200);
  const html = await page.text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(
      m[1]!,
      m[2]!
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, "&"),
    );
  }
  expect(html).toContain(`name="granted_scope" value="${YOUTUBE_READONLY}"`);
  if (opts.youtube) form.append("granted_scope", YOUTUBE_READONLY);
  form.set("decision", "allow");
  form.set("account", account);
  const answer = await fetch(new URL(action!.replace(/&amp;/g, "&"), url), {
    method: "POST",
    body: form,
    redirect: "manual",
  });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get("location")!);
}

describe("OAuth against the fake Google", () => {
  it("when a person allows YouTube, then the code exchanges for offline tokens of that Google account, once", async () => {
    const { id } = fake.addAccount("youtube", { displayName: "Contract Channel" });
    const back = await consent(youtube.authorizeUrl(ctx, { state: "st-1", redirectUri: REDIRECT_URI }), id, {
      youtube: true,
    });
    expect(back.searchParams.get("state")).toBe("st-1");
    const code = back.searchParams.get("code")!;
    const tokens = await youtube.exchangeCode(ctx, { code, redirectUri: REDIRECT_URI });
    expect(tokens.refreshToken).toEqual(expect.any(String));
    expect(tokens.scopes).toContain(YOUTUBE_READONLY);
    await expect(youtube.identify(ctx, tokens.accessToken)).resolves.toEqual({ id, displayName: "Contract Channel" });
    await expect(youtube.exchangeCode(ctx, { code, redirectUri: REDIRECT_URI })).rejects.toBeInstanceOf(
      ReauthRequiredError,
    );
  });

  it("when the person unticks the YouTube box, then the exchange refuses and says what to do", async () => {
    const { id } = fake.addAccount("youtube");
    const back = await consent(youtube.authorizeUrl(ctx, { state: "st-2", redirectUri: REDIRECT_URI }), id, {
      youtube: false,
    });
    const e = await youtube
      .exchangeCode(ctx, { code: back.searchParams.get("code")!, redirectUri: REDIRECT_URI })
      .catch((x) => x);
    expect(e).toBeInstanceOf(NotAllowedError);
    expect(e.message).toMatch(/allow it on Google's page/);
  });

  it("when a refresh answers without a refresh token, then the old one is kept and keeps working", async () => {
    const { id } = fake.addAccount("youtube");
    const t = tokenSet(id);
    const once = await youtube.refresh(ctx, t);
    expect(once.accessToken).not.toBe(t.accessToken);
    expect(once.refreshToken).toBe(t.refreshToken);
    const twice = await youtube.refresh(ctx, once);
    await expect(youtube.identify(ctx, twice.accessToken)).resolves.toMatchObject({ id });
  });

  it("when the grant is revoked, then tokeninfo, the Data API and refresh all refuse it", async () => {
    const { id } = fake.addAccount("youtube");
    const t = tokenSet(id);
    await youtube.revoke!(ctx, t);
    expect(hits("revoke")).toBe(1);
    await expect(youtube.refresh(ctx, t)).rejects.toBeInstanceOf(ReauthRequiredError);
    await expect(youtube.fetchAll(ctx, t.accessToken)).rejects.toThrow();
  });

  it("when tokeninfo says the token was issued to another client, then identify refuses it", async () => {
    const { id } = fake.addAccount("youtube");
    const other = { ...ctx, app: { clientId: "someone-else.apps.googleusercontent.com", clientSecret: "x" } };
    await expect(youtube.identify(other, tokenSet(id).accessToken)).rejects.toBeInstanceOf(NotAllowedError);
  });
});

describe("the Data API, every page", () => {
  it.each([
    [0, 0, 0],
    [1, 1, 1],
    [50, 50, 50],
    [51, 101, 2],
    [460, 3, 120],
  ])(
    "when an account has %i liked videos, %i subscriptions and %i playlists, then each listing is read whole",
    async (l, s, p) => {
      const { id } = fake.addAccount("youtube", { likedVideos: l, subscriptions: s, playlists: p });
      const r = await youtube.fetchAll(ctx, tokenSet(id).accessToken);
      const pages = (n: number) => Math.max(1, Math.ceil(n / 50));
      for (const [name, n] of [
        ["liked-videos", l],
        ["subscriptions", s],
        ["playlists", p],
      ] as const) {
        const snap = r.snapshots[name] as { total: number; items: { id: string }[] };
        expect(snap.items).toHaveLength(n);
        expect(new Set(snap.items.map((x) => x.id)).size).toBe(n);
        expect(snap.total).toBe(n);
      }
      expect(hits("videos")).toBe(pages(l));
      expect(hits("subscriptions")).toBe(pages(s));
      expect(hits("playlists")).toBe(pages(p));
      expect(r.counts.quotaUnits).toBe(1 + pages(l) + pages(s) + pages(p));
      expect(r.requests).toBe(fake.stats().requests);
    },
  );
});

describe("faults → typed errors within the retry budget", () => {
  const account = () => {
    const { id } = fake.addAccount("youtube", { likedVideos: 3, subscriptions: 2, playlists: 2 });
    return tokenSet(id);
  };

  it("when a listing keeps answering 5xx, then TransientError after 1 + HTTP_MAX_RETRIES requests", async () => {
    const t = account();
    fake.fault("youtube", { endpoint: "subscriptions", kind: "5xx" });
    await expect(youtube.fetchAll(ctx, t.accessToken)).rejects.toBeInstanceOf(TransientError);
    expect(hits("subscriptions")).toBe(1 + MAX_RETRIES);
  });

  it("when 5xx happens twice, then the retries absorb it", async () => {
    const t = account();
    fake.fault("youtube", { endpoint: "videos", kind: "5xx", times: 2 });
    expect((await youtube.fetchAll(ctx, t.accessToken)).counts.likedVideos).toBe(3);
    expect(hits("videos")).toBe(3);
  });

  it("when the quota is used up, then RateLimitedError for the whole app until midnight Pacific, after one request", async () => {
    const t = account();
    fake.fault("youtube", { endpoint: "playlists", kind: "quota" });
    const e = await youtube.fetchAll(ctx, t.accessToken).catch((x) => x);
    expect(e).toBeInstanceOf(RateLimitedError);
    expect(e).toMatchObject({ scope: "app", code: "quota_exceeded" });
    expect(e.retryAt.getTime()).toBe(nextMidnight(fake.clock.now(), "America/Los_Angeles").getTime());
    expect(hits("playlists")).toBe(1);
  });

  it("when a 429 has a short Retry-After, then it is waited out in place", async () => {
    const t = account();
    fake.fault("youtube", { endpoint: "videos", kind: "429", retryAfterSeconds: 1, times: 1 });
    expect((await youtube.fetchAll(ctx, t.accessToken)).counts.likedVideos).toBe(3);
  });

  it("when a listing hangs, then TransientError within the timeout, after one request", async () => {
    const t = account();
    fake.fault("youtube", { endpoint: "playlists", kind: "hang" });
    const started = Date.now();
    await expect(youtube.fetchAll(ctx, t.accessToken)).rejects.toBeInstanceOf(TransientError);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 4);
    expect(hits("playlists")).toBe(1);
  });

  it.each([
    ["malformed", ProviderSchemaError],
    ["schema", ProviderSchemaError],
    ["403", NotAllowedError],
  ] as const)(
    "when the channel listing answers %s, then the right typed error after one request",
    async (kind, type) => {
      const t = account();
      fake.fault("youtube", { endpoint: "channels", kind });
      await expect(youtube.fetchAll(ctx, t.accessToken)).rejects.toBeInstanceOf(type);
      expect(hits("channels")).toBe(1);
    },
  );

  it("when the token endpoint answers invalid_grant, then ReauthRequiredError after one request", async () => {
    const t = account();
    fake.fault("youtube", { endpoint: "token", kind: "invalid_grant" });
    await expect(youtube.refresh(ctx, t)).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(hits("token")).toBe(1);
  });

  it("when the token endpoint answers 5xx, then TransientError without a retry (a POST may have been processed)", async () => {
    const t = account();
    fake.fault("youtube", { endpoint: "token", kind: "5xx" });
    await expect(youtube.refresh(ctx, t)).rejects.toBeInstanceOf(TransientError);
    expect(hits("token")).toBe(1);
  });

  it("when the client secret is wrong, then a configuration error naming the settings", async () => {
    const t = account();
    const wrong = {
      ...ctx,
      app: { clientId: fake.baseUrls ? config.YOUTUBE_CLIENT_ID : "", clientSecret: "not-the-secret" },
    };
    const e = await youtube.refresh(wrong, t).catch((x) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/YOUTUBE_CLIENT_SECRET/);
  });
});
