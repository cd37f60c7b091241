/**
 * The fake provider server (Spotify + Instagram) for tests and local runs: a real HTTP server on
 * loopback, controlled from code (this API) or over HTTP (POST /_control/<operation>, control.ts).
 *
 *   const fake = await startFakeProviders({ port: 0 });
 *   const { id } = fake.addAccount("spotify", { playlists: 51 });
 *   const tokens = fake.issueTokens("spotify", id);
 *   fake.fault("spotify", { endpoint: "me/playlists", kind: "429", retryAfterSeconds: 43200, times: 1 });
 *   ...
 *   await fake.stop();
 */
import { handleControl } from "./control";
import type { AccountSpec, InstagramAccount, ProviderId, SpotifyAccount } from "./data";
import type { ActiveFault, FaultSpec, RateLimitSpec } from "./faults";
import { instagramHandlers } from "./instagram";
import { FakeServer } from "./server";
import { spotifyHandlers } from "./spotify";
import { FakeState, INSTAGRAM_SCOPES, SPOTIFY_SCOPES, type Stats } from "./state";
import { LIFETIMES } from "./tokens";

export type { AccountSpec, FaultSpec, ProviderId, RateLimitSpec, Stats };
export { InstagramAccount, SpotifyAccount } from "./data";
export { APPS } from "./state";

export const DEFAULT_PORT = 9090;

export interface BaseUrls {
  SPOTIFY_ACCOUNTS_BASE_URL: string;
  SPOTIFY_API_BASE_URL: string;
  INSTAGRAM_AUTHORIZE_BASE_URL: string;
  INSTAGRAM_OAUTH_BASE_URL: string;
  INSTAGRAM_GRAPH_BASE_URL: string;
}

/** The settings that point the product's clients at a fake listening on `url` (route prefixes). */
export function baseUrlsFor(url: string): BaseUrls {
  return {
    SPOTIFY_ACCOUNTS_BASE_URL: `${url}/spotify-accounts`,
    SPOTIFY_API_BASE_URL: `${url}/spotify-api`,
    INSTAGRAM_AUTHORIZE_BASE_URL: `${url}/instagram-www`,
    INSTAGRAM_OAUTH_BASE_URL: `${url}/instagram-api`,
    INSTAGRAM_GRAPH_BASE_URL: `${url}/instagram-graph`,
  };
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken?: string;
  /** Seconds. */
  expiresIn: number;
  scopes: string[];
}

export interface FakeProviders {
  /** e.g. http://127.0.0.1:9090 */
  url: string;
  /** Settings that point the product's clients at this fake (names from functions/src/config.ts). */
  baseUrls: BaseUrls;
  addAccount(provider: ProviderId, spec?: AccountSpec): { id: string };
  account(provider: "spotify", id: string): SpotifyAccount;
  account(provider: "instagram", id: string): InstagramAccount;
  account(provider: ProviderId, id: string): SpotifyAccount | InstagramAccount;
  /** Summaries of the fake accounts (one provider, or both). */
  accounts(provider?: ProviderId): Record<string, unknown>[];
  /**
   * Tokens without the browser flow. Spotify: access (1 h) + refresh token. Instagram: a long-lived
   * token (60 days), or a short-lived one (1 h) with `shortLived`.
   */
  issueTokens(
    provider: ProviderId,
    accountId: string,
    opts?: { scopes?: string[]; shortLived?: boolean },
  ): IssuedTokens;
  /** Revokes every token of the account: Spotify refresh → invalid_grant, API → 401; Instagram → error 190. */
  revokeTokens(provider: ProviderId, accountId: string): void;
  /** Injects a fault; returns a function that clears it. */
  fault(provider: ProviderId, f: FaultSpec): () => void;
  /** The faults still active (with how often each fired). */
  faults(): ActiveFault[];
  /** Clears one fault by the id faults() shows; false when it is no longer active. */
  clearFault(id: string): boolean;
  clearFaults(): void;
  /** Rolling window per app (per provider), like Spotify's; null turns it off. */
  rateLimit(provider: ProviderId, r: RateLimitSpec | null): void;
  /** Every provider response waits this long (benchmarks). */
  latency(ms: number): void;
  /** Spotify refresh returns a new refresh_token (and the old one stops working) when on. Default off. */
  rotateRefreshTokens(on: boolean): void;
  /** Fake time for token expiry and the rate-limit window. It runs with real time; advance() jumps ahead. */
  clock: { now(): Date; advance(ms: number): void };
  stats(): Stats;
  resetStats(): void;
  stop(): Promise<void>;
}

export async function startFakeProviders(opts: { host?: string; port?: number } = {}): Promise<FakeProviders> {
  const host = opts.host ?? "127.0.0.1";
  const state = new FakeState();
  // eslint-disable-next-line prefer-const -- assigned once the API object exists (control needs it)
  let api: FakeProviders;
  const server = new FakeServer(
    state,
    { spotify: spotifyHandlers(state), instagram: instagramHandlers(state) },
    (op, body) => handleControl(api, op, body),
  );
  const url = await server.listen(host, opts.port ?? DEFAULT_PORT);
  state.baseUrl = url;

  api = {
    url,
    baseUrls: baseUrlsFor(url),
    addAccount: (provider, spec) => ({ id: state.addAccount(provider, spec).id }),
    account: ((provider: ProviderId, id: string) => state.account(provider, id)) as FakeProviders["account"],
    accounts: (provider) =>
      (provider ? [provider] : (["spotify", "instagram"] as const)).flatMap((p) =>
        [...state.accounts[p].values()].map((a) => a.summary()),
      ),
    issueTokens(provider, accountId, o = {}) {
      state.account(provider, accountId);
      if (provider === "spotify") {
        const scopes = o.scopes ?? [...SPOTIFY_SCOPES];
        return {
          accessToken: state.tokens.issue("spotify", "access", accountId, scopes),
          refreshToken: state.tokens.issue("spotify", "refresh", accountId, scopes),
          expiresIn: LIFETIMES.spotifyAccessMs / 1000,
          scopes,
        };
      }
      const scopes = o.scopes ?? [...INSTAGRAM_SCOPES];
      const kind = o.shortLived ? "ig-short" : "ig-long";
      return {
        accessToken: state.tokens.issue("instagram", kind, accountId, scopes),
        expiresIn: (o.shortLived ? LIFETIMES.instagramShortMs : LIFETIMES.instagramLongMs) / 1000,
        scopes,
      };
    },
    revokeTokens(provider, accountId) {
      state.account(provider, accountId);
      state.tokens.revokeAccount(provider, accountId);
    },
    fault(provider, f) {
      const added = state.faults.add(provider, f);
      return () => void state.faults.remove(added.id);
    },
    faults: () => state.faults.list(),
    clearFault: (id) => state.faults.remove(id),
    clearFaults: () => state.faults.clear(),
    rateLimit: (provider, r) => state.limiters[provider].set(r),
    latency(ms) {
      if (!(Number.isFinite(ms) && ms >= 0)) throw new Error(`latency needs a non-negative number of ms (got ${ms}).`);
      state.latencyMs = ms;
    },
    rotateRefreshTokens(on) {
      state.rotateRefreshTokens = on;
    },
    clock: { now: () => state.clock.now(), advance: (ms) => state.clock.advance(ms) },
    stats: () => structuredClone(state.stats),
    resetStats: () => state.resetStats(),
    stop: () => server.stop(),
  };
  return api;
}
