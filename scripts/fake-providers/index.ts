/**
 * The fake provider server for tests and local runs: a real HTTP server on loopback that plays
 * every provider of the catalog (one folder each, `<id>/`, listed in registry.ts), controlled
 * from code (this API) or over HTTP (POST /_control/<operation>, control.ts).
 *
 *   const fake = await startFakeProviders({ port: 0 });
 *   const { id } = fake.addAccount("spotify", { playlists: 51 });
 *   const tokens = fake.issueTokens("spotify", id);
 *   fake.fault("spotify", { endpoint: "me/playlists", kind: "429", retryAfterSeconds: 43200, times: 1 });
 *   ...
 *   await fake.stop();
 */
import { PROVIDERS } from "../../functions/src/providers/catalog";
import { handleControl } from "./control";
import type { ProviderId } from "./data";
import type { BaseUrlsOf, IssueOptions, IssuedTokens } from "./fake";
import type { ActiveFault, FaultSpec, RateLimitSpec } from "./faults";
import { type AccountOf, type AccountSpec, FAKES } from "./registry";
import { FakeServer, type ProviderHandlers } from "./server";
import { FakeState, type Stats } from "./state";

export type { AccountSpec, FaultSpec, IssueOptions, IssuedTokens, ProviderId, RateLimitSpec, Stats };
export type { AccountOf, FakeAccount } from "./registry";
export type { FakeProvider } from "./fake";
export { FAKES } from "./registry";
export { APPS } from "./state";
export { SpotifyAccount } from "./spotify";
export { InstagramAccount } from "./instagram";

export const DEFAULT_PORT = 9090;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Every provider's base-URL settings (`<PREFIX>_<KEY>_BASE_URL`, from the catalog). */
export type BaseUrls = UnionToIntersection<BaseUrlsOf<ProviderId>>;

/** The settings that point the product's clients at a fake listening on `url` (its route prefixes). */
export function baseUrlsFor(url: string): BaseUrls {
  return Object.assign({}, ...PROVIDERS.map((p) => FAKES[p].baseUrls(url))) as BaseUrls;
}

export interface FakeProviders {
  /** e.g. http://127.0.0.1:9090 */
  url: string;
  /** Settings that point the product's clients at this fake (names from functions/src/config.ts). */
  baseUrls: BaseUrls;
  addAccount(provider: ProviderId, spec?: AccountSpec): { id: string };
  /** The account, to change it while running (`fake.account("spotify", id)` is a SpotifyAccount). */
  account<P extends ProviderId>(provider: P, id: string): AccountOf<P>;
  /** Summaries of the fake accounts (one provider, or all). */
  accounts(provider?: ProviderId): Record<string, unknown>[];
  /**
   * Tokens without the browser flow, as the provider's token endpoint issues them (its fake's
   * issueTokens: e.g. Spotify access (1 h) + refresh token; Instagram a long-lived token (60 days),
   * or a short-lived one (1 h) with `shortLived`).
   */
  issueTokens(provider: ProviderId, accountId: string, opts?: IssueOptions): IssuedTokens;
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
  /** Refresh returns a new refresh_token (and the old one stops working) when on, where the provider rotates (Spotify). Default off. */
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
  const handlers = Object.fromEntries(PROVIDERS.map((p) => [p, FAKES[p].handlers(state)])) as Record<
    ProviderId,
    ProviderHandlers
  >;
  const server = new FakeServer(state, handlers, (op, body) => handleControl(api, op, body));
  const url = await server.listen(host, opts.port ?? DEFAULT_PORT);
  state.baseUrl = url;

  api = {
    url,
    baseUrls: baseUrlsFor(url),
    addAccount: (provider, spec) => ({ id: state.addAccount(provider, spec).id }),
    account: ((provider: ProviderId, id: string) => state.account(provider, id)) as FakeProviders["account"],
    accounts: (provider) =>
      (provider ? [provider] : PROVIDERS).flatMap((p) => [...state.accounts[p].values()].map((a) => a.summary())),
    issueTokens(provider, accountId, o = {}) {
      state.account(provider, accountId);
      return FAKES[provider].issueTokens(state, accountId, o);
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
