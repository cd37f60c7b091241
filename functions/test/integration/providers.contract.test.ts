/**
 * Contract tests: the real provider clients over real HTTP against the fake provider server
 * (scripts/fake-providers). Paging at the edges, refresh with and without rotation, each injected
 * fault → the right typed error within the retry policy's request budget, timeouts, long
 * Retry-After, and the full OAuth code flow through the consent form.
 */
import { type Config, loadConfig } from "../../src/config";
import {
  NotAllowedError,
  ProviderSchemaError,
  RateLimitedError,
  ReauthRequiredError,
  TransientError,
} from "../../src/errors";
import { downloadFile } from "../../src/http/download";
import { downloadPolicy } from "../../src/providers/descriptor";
import { instagram } from "../../src/providers/instagram";
import { instagramDescriptor } from "../../src/providers/instagram/descriptor";
import { spotify } from "../../src/providers/spotify";
import { spotifyDescriptor } from "../../src/providers/spotify/descriptor";
import type { ProviderContext, ProviderModule, TokenSet } from "../../src/providers/types";
import { type FakeProviders, startFakeProviders } from "../../../scripts/fake-providers";
import { localFunctionsEnv } from "../../../scripts/lib/local-env";

const TIMEOUT_MS = 1_000;
const RETRY_AFTER_CAP_SECONDS = 2;
const MAX_RETRIES = 3;
const REDIRECT_URI = "http://127.0.0.1:5002/api/oauth/callback";

let fake: FakeProviders;
let config: Config;
let ctx: ProviderContext;

beforeAll(async () => {
  fake = await startFakeProviders({ port: 0 });
  config = loadConfig({
    ...localFunctionsEnv(),
    ...fake.baseUrls,
    HTTP_TIMEOUT_MS: String(TIMEOUT_MS),
    RETRY_AFTER_CAP_SECONDS: String(RETRY_AFTER_CAP_SECONDS),
    HTTP_MAX_RETRIES: String(MAX_RETRIES),
  });
  // Token expiry and the 24 h rule follow the fake's clock.
  ctx = { config, now: () => fake.clock.now() };
});

afterAll(async () => {
  await fake?.stop();
});

beforeEach(() => {
  fake.clearFaults();
  fake.rateLimit("spotify", null);
  fake.rateLimit("instagram", null);
  fake.rotateRefreshTokens(false);
  fake.resetStats();
});

function tokenSet(provider: "spotify" | "instagram", accountId: string): TokenSet {
  const t = fake.issueTokens(provider, accountId);
  const now = fake.clock.now();
  return {
    accessToken: t.accessToken,
    ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}),
    expiresAt: new Date(now.getTime() + t.expiresIn * 1000),
    issuedAt: now,
    scopes: t.scopes,
  };
}

const hits = (endpoint: string) => fake.stats().byEndpoint[endpoint] ?? 0;

async function timed<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const started = Date.now();
  try {
    return { value: await p, ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
}

describe("paging at the edges", () => {
  it.each([0, 1, 50, 51, 5_000])("when a Spotify account has %i playlists, then every page is fetched", async (n) => {
    const { id } = fake.addAccount("spotify", { playlists: n });
    const result = await spotify.fetchAll(ctx, tokenSet("spotify", id).accessToken);
    const items = (result.snapshots.playlists as { total: number; items: { id: string }[] }).items;
    expect(items).toHaveLength(n);
    expect(new Set(items.map((p) => p.id)).size).toBe(n);
    expect((result.snapshots.playlists as { total: number }).total).toBe(n);
    const pages = Math.max(1, Math.ceil(n / 50));
    expect(result.counts).toMatchObject({ playlists: n, playlistPages: pages, skipped: 0 });
    expect(hits("spotify:me/playlists")).toBe(pages);
    expect(result.requests).toBe(fake.stats().requests);
    expect(result.requests).toBe(1 + pages + 3 + 3 + 1);
  });

  it.each([0, 1, 50, 51, 2_000])(
    "when an Instagram account has %i media (the fake's maximum is 2,000), then every page is fetched",
    async (n) => {
      const { id } = fake.addAccount("instagram", { media: n });
      const result = await instagram.fetchAll(ctx, tokenSet("instagram", id).accessToken);
      const items = (result.snapshots.media as { items: { id: string; children: unknown[] }[] }).items;
      expect(items).toHaveLength(n);
      expect(new Set(items.map((m) => m.id)).size).toBe(n);
      const pages = Math.max(1, Math.ceil(n / 50));
      expect(result.counts).toMatchObject({ media: n, mediaPages: pages, skipped: 0 });
      expect(hits("instagram:media")).toBe(pages);
      expect(result.counts.children).toBe(items.reduce((s, m) => s + m.children.length, 0));
      expect(result.requests).toBe(1 + pages);
    },
  );

  it("when Instagram media include carousels, then each child is listed and mirrored as a real JPEG", async () => {
    const { id } = fake.addAccount("instagram", { media: 40, carousels: true });
    const result = await instagram.fetchAll(ctx, tokenSet("instagram", id).accessToken);
    expect(result.counts.children).toBeGreaterThan(0);
    const item = result.mirror[0]!;
    const file = await downloadFile(config, item.url, {
      policy: downloadPolicy(instagramDescriptor, config),
      maxBytes: config.MAX_IMAGE_BYTES,
      allowedContentTypes: ["image/jpeg"],
    });
    expect(file.contentType).toBe("image/jpeg");
    expect(file.bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it("when a Spotify playlist has a cover, then its mirror URL serves a JPEG", async () => {
    const { id } = fake.addAccount("spotify", { playlists: 10 });
    const result = await spotify.fetchAll(ctx, tokenSet("spotify", id).accessToken);
    expect(result.mirror.length).toBeGreaterThan(0);
    const file = await downloadFile(config, result.mirror[0]!.url, {
      policy: downloadPolicy(spotifyDescriptor, config),
      maxBytes: 5_000_000,
      allowedContentTypes: ["image/jpeg"],
    });
    expect(file.bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });
});

describe("refresh", () => {
  it("when Spotify does not rotate, then the old refresh token is kept and keeps working", async () => {
    const { id } = fake.addAccount("spotify");
    const first = tokenSet("spotify", id);
    const second = await spotify.refresh(ctx, first);
    expect(second.refreshToken).toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    await expect(spotify.identify(ctx, second.accessToken)).resolves.toMatchObject({ id });
    const third = await spotify.refresh(ctx, second);
    expect(third.refreshToken).toBe(first.refreshToken);
  });

  it("when Spotify rotates, then the new refresh token replaces the old, and the old one is invalid_grant", async () => {
    fake.rotateRefreshTokens(true);
    const { id } = fake.addAccount("spotify");
    const first = tokenSet("spotify", id);
    const second = await spotify.refresh(ctx, first);
    expect(second.refreshToken).toBeDefined();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    await expect(spotify.refresh(ctx, second)).resolves.toMatchObject({ refreshToken: expect.any(String) });
    await expect(spotify.refresh(ctx, first)).rejects.toBeInstanceOf(ReauthRequiredError);
  });

  it("when Spotify tokens are revoked, then refresh is ReauthRequiredError after one token request", async () => {
    const { id } = fake.addAccount("spotify");
    const tokens = tokenSet("spotify", id);
    fake.revokeTokens("spotify", id);
    await expect(spotify.refresh(ctx, tokens)).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(hits("spotify:token")).toBe(1);
  });

  it("when an Instagram token is at least 24 h old and due, then ig_refresh_token gives a new working token", async () => {
    const { id } = fake.addAccount("instagram");
    const tokens = tokenSet("instagram", id);
    expect(instagram.refreshDue(ctx, tokens)).toBe(false);
    fake.clock.advance((60 - config.INSTAGRAM_REFRESH_MARGIN_DAYS + 1) * 86_400_000);
    expect(instagram.refreshDue(ctx, tokens)).toBe(true);
    const fresh = await instagram.refresh(ctx, tokens);
    expect(fresh.accessToken).not.toBe(tokens.accessToken);
    expect(fresh.expiresAt.getTime() - fake.clock.now().getTime()).toBeGreaterThan(59 * 86_400_000);
    expect(instagram.refreshDue(ctx, fresh)).toBe(false);
    await expect(instagram.identify(ctx, fresh.accessToken)).resolves.toMatchObject({ id });
  });

  it("when an Instagram token is past its 60 days, then using it is ReauthRequiredError (error 190)", async () => {
    const { id } = fake.addAccount("instagram");
    const tokens = tokenSet("instagram", id);
    fake.clock.advance(61 * 86_400_000);
    await expect(instagram.refresh(ctx, tokens)).rejects.toBeInstanceOf(ReauthRequiredError);
    await expect(instagram.fetchAll(ctx, tokens.accessToken)).rejects.toBeInstanceOf(ReauthRequiredError);
  });
});

describe("faults → typed errors within the retry budget", () => {
  async function spotifyAccount() {
    const { id } = fake.addAccount("spotify", { playlists: 3 });
    return { id, tokens: tokenSet("spotify", id) };
  }

  it("when an endpoint keeps answering 5xx, then TransientError after 1 + HTTP_MAX_RETRIES requests", async () => {
    const { tokens } = await spotifyAccount();
    fake.fault("spotify", { endpoint: "me/playlists", kind: "5xx" });
    await expect(spotify.fetchAll(ctx, tokens.accessToken)).rejects.toBeInstanceOf(TransientError);
    expect(hits("spotify:me/playlists")).toBe(1 + MAX_RETRIES);
  });

  it("when 5xx happens twice, then the retries absorb it and the fetch succeeds", async () => {
    const { tokens } = await spotifyAccount();
    fake.fault("spotify", { endpoint: "me/playlists", kind: "5xx", status: 502, times: 2 });
    const result = await spotify.fetchAll(ctx, tokens.accessToken);
    expect(result.counts.playlists).toBe(3);
    expect(hits("spotify:me/playlists")).toBe(3);
  });

  it("when a 429 has a short Retry-After, then the client waits it out in place and succeeds", async () => {
    const { tokens } = await spotifyAccount();
    fake.fault("spotify", { endpoint: "me", kind: "429", retryAfterSeconds: 1, times: 1 });
    const { value, ms } = await timed(spotify.fetchAll(ctx, tokens.accessToken));
    expect(value?.counts.playlists).toBe(3);
    expect(ms).toBeGreaterThanOrEqual(1_000);
    expect(hits("spotify:me")).toBe(2);
  });

  it("when a 429 says Retry-After 12 hours, then RateLimitedError comes at once, carrying the time, after one request", async () => {
    const { tokens } = await spotifyAccount();
    fake.fault("spotify", { endpoint: "me/playlists", kind: "429", retryAfterSeconds: 12 * 3600 });
    const before = Date.now();
    const { error, ms } = await timed(spotify.fetchAll(ctx, tokens.accessToken));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(ms).toBeLessThan(1_000);
    const retryAt = (error as RateLimitedError).retryAt.getTime();
    expect(retryAt).toBeGreaterThanOrEqual(before + 12 * 3600_000 - 1_000);
    expect(retryAt).toBeLessThanOrEqual(Date.now() + 12 * 3600_000 + 1_000);
    expect(hits("spotify:me/playlists")).toBe(1);
  });

  it("when the app's rolling 30 s budget runs out, then RateLimitedError (the window is longer than the cap)", async () => {
    const { tokens } = await spotifyAccount();
    fake.rateLimit("spotify", { windowSeconds: 30, budget: 3 });
    const { error, ms } = await timed(spotify.fetchAll(ctx, tokens.accessToken));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(ms).toBeLessThan(1_000);
    expect(fake.stats().requests).toBe(4);
    expect(fake.stats().rateLimited).toBe(1);
  });

  it("when an endpoint hangs, then TransientError within the timeout, after one request", async () => {
    const { tokens } = await spotifyAccount();
    fake.fault("spotify", { endpoint: "me", kind: "hang" });
    const { error, ms } = await timed(spotify.fetchAll(ctx, tokens.accessToken));
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/timed out/);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(TIMEOUT_MS + 500);
    expect(hits("spotify:me")).toBe(1);
  });

  it("when an endpoint answers slower than the timeout, then TransientError within the timeout", async () => {
    const { tokens } = await spotifyAccount();
    fake.fault("spotify", { endpoint: "me/top/tracks", kind: "slow", delayMs: 3 * TIMEOUT_MS });
    const { error, ms } = await timed(spotify.fetchAll(ctx, tokens.accessToken));
    expect(error).toBeInstanceOf(TransientError);
    expect(ms).toBeLessThan(TIMEOUT_MS + 500);
    expect(hits("spotify:me/top/tracks")).toBe(1);
  });

  it.each(["malformed", "schema"] as const)(
    "when the answer is %s, then ProviderSchemaError after one request",
    async (kind) => {
      const { tokens } = await spotifyAccount();
      fake.fault("spotify", { endpoint: "me/playlists", kind });
      await expect(spotify.fetchAll(ctx, tokens.accessToken)).rejects.toBeInstanceOf(ProviderSchemaError);
      expect(hits("spotify:me/playlists")).toBe(1);
    },
  );

  it("when one item is bad, then it is skipped and counted and the rest is stored", async () => {
    const { tokens } = await spotifyAccount();
    fake.fault("spotify", { endpoint: "me/playlists", kind: "bad-item" });
    const result = await spotify.fetchAll(ctx, tokens.accessToken);
    expect(result.counts).toMatchObject({ playlists: 2, skipped: 1 });
  });

  it("when the user is not on a development-mode app's allow-list, then NotAllowedError after one request", async () => {
    const { id } = fake.addAccount("spotify", { allowListed: false });
    const { error } = await timed(spotify.fetchAll(ctx, tokenSet("spotify", id).accessToken));
    expect(error).toBeInstanceOf(NotAllowedError);
    expect(fake.stats().requests).toBe(1);
  });

  it("when the token endpoint answers invalid_grant, then ReauthRequiredError after one request", async () => {
    const { tokens } = await spotifyAccount();
    fake.fault("spotify", { kind: "invalid_grant" });
    await expect(spotify.refresh(ctx, tokens)).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(hits("spotify:token")).toBe(1);
  });

  it("when the token endpoint answers 5xx, then TransientError without a retry (a POST may have been processed)", async () => {
    const { tokens } = await spotifyAccount();
    fake.fault("spotify", { endpoint: "token", kind: "5xx" });
    await expect(spotify.refresh(ctx, tokens)).rejects.toBeInstanceOf(TransientError);
    expect(hits("spotify:token")).toBe(1);
  });

  describe("Instagram", () => {
    async function igAccount() {
      const { id } = fake.addAccount("instagram", { media: 60 });
      return { id, tokens: tokenSet("instagram", id) };
    }

    it("when the Graph API answers error 190, then ReauthRequiredError after one request", async () => {
      const { tokens } = await igAccount();
      fake.fault("instagram", { endpoint: "media", kind: "ig190" });
      await expect(instagram.fetchAll(ctx, tokens.accessToken)).rejects.toBeInstanceOf(ReauthRequiredError);
      expect(hits("instagram:media")).toBe(1);
    });

    it("when the refresh endpoint answers 190, then ReauthRequiredError", async () => {
      const { tokens } = await igAccount();
      fake.clock.advance(55 * 86_400_000);
      fake.fault("instagram", { endpoint: "refresh_access_token", kind: "ig190" });
      await expect(instagram.refresh(ctx, tokens)).rejects.toBeInstanceOf(ReauthRequiredError);
      expect(hits("instagram:refresh_access_token")).toBe(1);
    });

    it("when Graph keeps answering 5xx, then TransientError after 1 + HTTP_MAX_RETRIES requests", async () => {
      const { tokens } = await igAccount();
      fake.fault("instagram", { endpoint: "media", kind: "5xx" });
      await expect(instagram.fetchAll(ctx, tokens.accessToken)).rejects.toBeInstanceOf(TransientError);
      expect(hits("instagram:media")).toBe(1 + MAX_RETRIES);
    });

    it("when a 429 has a short Retry-After, then it is waited out and the fetch succeeds", async () => {
      const { tokens } = await igAccount();
      fake.fault("instagram", { endpoint: "media", kind: "429", retryAfterSeconds: 1, times: 1 });
      const result = await instagram.fetchAll(ctx, tokens.accessToken);
      expect(result.counts.media).toBe(60);
      expect(hits("instagram:media")).toBe(3);
    });

    it("when a 429 says Retry-After 12 hours, then RateLimitedError at once", async () => {
      const { tokens } = await igAccount();
      fake.fault("instagram", { endpoint: "me", kind: "429", retryAfterSeconds: 12 * 3600 });
      const { error, ms } = await timed(instagram.fetchAll(ctx, tokens.accessToken));
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(ms).toBeLessThan(1_000);
      expect(hits("instagram:me")).toBe(1);
    });

    it("when the app lacks permission (403, code 10), then NotAllowedError after one request", async () => {
      const { tokens } = await igAccount();
      fake.fault("instagram", { endpoint: "me", kind: "403" });
      await expect(instagram.fetchAll(ctx, tokens.accessToken)).rejects.toBeInstanceOf(NotAllowedError);
      expect(hits("instagram:me")).toBe(1);
    });

    it("when the media endpoint hangs, then TransientError within the timeout", async () => {
      const { tokens } = await igAccount();
      fake.fault("instagram", { endpoint: "media", kind: "hang" });
      const { error, ms } = await timed(instagram.fetchAll(ctx, tokens.accessToken));
      expect(error).toBeInstanceOf(TransientError);
      expect(ms).toBeLessThan(TIMEOUT_MS + 500);
    });

    it("when a media page is malformed, then ProviderSchemaError", async () => {
      const { tokens } = await igAccount();
      fake.fault("instagram", { endpoint: "media", kind: "malformed" });
      await expect(instagram.fetchAll(ctx, tokens.accessToken)).rejects.toBeInstanceOf(ProviderSchemaError);
    });
  });
});

describe("OAuth code flow through the consent form", () => {
  /** GETs the authorize URL, then submits the consent form as a person would; returns the redirect. */
  async function consent(authorizeUrl: string, decision: "allow" | "deny", account: string): Promise<string> {
    const page = await fetch(authorizeUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    expect(action).toBeDefined();
    const form = new URLSearchParams();
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      form.set(decodeEntities(m[1]!), decodeEntities(m[2]!));
    }
    form.set("decision", decision);
    form.set("account", account);
    const answer = await fetch(new URL(action!.replace(/&amp;/g, "&"), authorizeUrl), {
      method: "POST",
      body: form,
      redirect: "manual",
    });
    expect(answer.status).toBe(302);
    return answer.headers.get("location")!;
  }

  const decodeEntities = (s: string) =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&amp;/g, "&");

  it.each([
    ["spotify", spotify],
    ["instagram", instagram],
  ] as ["spotify" | "instagram", ProviderModule][])(
    "when a person allows %s, then the code from the redirect exchanges for tokens of that account",
    async (provider, module) => {
      const { id } = fake.addAccount(provider);
      const url = module.authorizeUrl(ctx, { state: "state-123", redirectUri: REDIRECT_URI });
      const location = await consent(url, "allow", id);
      expect(location.startsWith(`${REDIRECT_URI}?`)).toBe(true);
      const back = new URL(location);
      expect(back.searchParams.get("state")).toBe("state-123");
      // Instagram appends "#_"; a code pasted from the address bar carries it, and must still work.
      const code = back.searchParams.get("code")! + back.hash;
      const tokens = await module.exchangeCode(ctx, { code, redirectUri: REDIRECT_URI });
      expect(tokens.expiresAt.getTime()).toBeGreaterThan(fake.clock.now().getTime());
      expect(tokens.scopes.length).toBeGreaterThan(0);
      if (provider === "spotify") expect(tokens.refreshToken).toBeDefined();
      await expect(module.identify(ctx, tokens.accessToken)).resolves.toMatchObject({ id });
      // A code works once.
      await expect(module.exchangeCode(ctx, { code, redirectUri: REDIRECT_URI })).rejects.toBeInstanceOf(
        ReauthRequiredError,
      );
    },
  );

  it("when a person denies, then the redirect says access_denied and carries the state", async () => {
    const url = spotify.authorizeUrl(ctx, { state: "s-deny", redirectUri: REDIRECT_URI });
    const back = new URL(await consent(url, "deny", "new"));
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("state")).toBe("s-deny");
    expect(back.searchParams.get("code")).toBeNull();
  });

  it("when Instagram redirects back, then the URL ends in the #_ fragment Meta appends", async () => {
    const { id } = fake.addAccount("instagram");
    const url = instagram.authorizeUrl(ctx, { state: "s", redirectUri: REDIRECT_URI });
    const back = new URL(await consent(url, "allow", id));
    expect(back.hash).toBe("#_");
  });
});
