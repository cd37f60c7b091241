/**
 * The fake provider server for tests and local runs: a real HTTP server on loopback that plays
 * every provider of the catalog (one folder each, `<id>/`, listed in registry.ts), controlled
 * from code (this API) or over HTTP (POST /_control/<operation>, control.ts).
 *
 *   const fake = await startFakeProviders({ port: 0 });
 *   const { id } = fake.addAccount("spotify", { playlists: 51 });
 *   const tokens = fake.issueTokens("spotify", id);
 *   fake.fault("spotify", { endpoint: "me/playlists", kind: "429", retryAfterSeconds: 43200, times: 1 });
 *   const app = fake.createApp("spotify", { redirectUris: [callback], users: [id] }); // an own app
 *   ...
 *   await fake.stop();
 */
import type { IncomingHttpHeaders } from "node:http";
import { PROVIDERS } from "../../functions/src/providers/catalog";
import { APP_ACTIONS, type AppAction, type OwnAppSpec, type OwnAppSummary, appSummary } from "./apps";
import { handleControl } from "./control";
import type { ProviderId } from "./data";
import type { BaseUrlsOf, IssueOptions, IssuedTokens } from "./fake";
import type { ActiveFault, FaultSpec, RateLimitSpec } from "./faults";
import { type AccountOf, type AccountSpec, FAKES } from "./registry";
import type { Reply } from "./reply";
import { FakeServer, type HungRequest, type ProviderHandlers } from "./server";
import { FakeState, type Stats } from "./state";

export type { AccountSpec, FaultSpec, HungRequest, IssueOptions, IssuedTokens, ProviderId, RateLimitSpec, Stats };
export type { AppAction, OwnAppSpec, OwnAppSummary };
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
  /**
   * An own app (providers whose fake has `ownApps`: Spotify), as a person registers one: its
   * client id and secret (32 hex characters each unless given), redirect URIs (exact matches) and
   * User Management list (fake account ids).
   */
  createApp(provider: ProviderId, spec?: OwnAppSpec): { clientId: string; clientSecret: string };
  /**
   * Changes an own app (addUser/removeUser [accountId], setRedirectUris [[uri, …]], setSecret
   * [secret?], delete); returns its summary (setSecret: with `result`, the new secret).
   */
  app(
    provider: ProviderId,
    clientId: string,
    action?: AppAction,
    args?: unknown[],
  ): OwnAppSummary & { result?: string; deleted?: true };
  /** Summaries of the own apps (no secrets). */
  apps(provider?: ProviderId): OwnAppSummary[];
  /** Injects a fault (`clientId`: only requests made as that app); returns a function that clears it. */
  fault(provider: ProviderId, f: FaultSpec): () => void;
  /** The faults still active (with how often each fired). */
  faults(): ActiveFault[];
  /** Clears one fault by the id faults() shows; false when it is no longer active. */
  clearFault(id: string): boolean;
  clearFaults(): void;
  /** The requests a "hang" fault holds now, with the client's port (to find the process that made one). */
  hung(): HungRequest[];
  /**
   * Rolling window per app, like Spotify's; null turns it off. Without `clientId` (or with the
   * operator's): the operator's app; with an own app's client id: that app's own budget.
   */
  rateLimit(provider: ProviderId, r: RateLimitSpec | null, clientId?: string): void;
  /** Every provider response waits this long (benchmarks). */
  latency(ms: number): void;
  /** Refresh returns a new refresh_token (and the old one stops working) when on, where the provider rotates (Spotify). Default off. */
  rotateRefreshTokens(on: boolean): void;
  /**
   * Fake time for token expiry, the rate-limit window and listening. It runs with real time;
   * advance() jumps ahead; freeze() stops real time from moving it until thaw().
   */
  clock: { now(): Date; advance(ms: number): void; freeze(): void; thaw(): void };
  stats(): Stats;
  resetStats(): void;
  stop(): Promise<void>;
}

/** The fake without a socket: `request` answers as its HTTP server would (unit tests, where sockets are refused). */
export interface InProcessFakeProviders extends FakeProviders {
  request(
    method: "GET" | "POST",
    path: string,
    init?: { headers?: IncomingHttpHeaders; body?: string },
  ): Promise<Reply | "hang">;
}

function assemble(): { state: FakeState; server: FakeServer; api: (url: string) => FakeProviders } {
  const state = new FakeState();
  let made: FakeProviders | undefined;
  const handlers = Object.fromEntries(PROVIDERS.map((p) => [p, FAKES[p].handlers(state)])) as Record<
    ProviderId,
    ProviderHandlers
  >;
  const server = new FakeServer(state, handlers, (op, body) => handleControl(made!, op, body));
  return {
    state,
    server,
    api: (url) => {
      state.baseUrl = url;
      made = apiOf(state, server, url);
      return made;
    },
  };
}

export async function startFakeProviders(opts: { host?: string; port?: number } = {}): Promise<FakeProviders> {
  const { server, api } = assemble();
  return api(await server.listen(opts.host ?? "127.0.0.1", opts.port ?? DEFAULT_PORT));
}

/** The same fake, answering `request` in process, as if it listened on `url` (nothing listens). */
export function inProcessFakeProviders(url = `http://127.0.0.1:${DEFAULT_PORT}`): InProcessFakeProviders {
  const { server, api } = assemble();
  return {
    ...api(url),
    async request(method, path, init = {}) {
      const answer = await server.respond(method, path, init.headers ?? {}, init.body ?? "");
      return typeof answer === "symbol" ? "hang" : answer;
    },
    stop: async () => undefined,
  };
}

function ownAppsOf(provider: ProviderId): ProviderId {
  if (!(PROVIDERS as readonly string[]).includes(provider)) throw new Error(`Unknown provider "${String(provider)}".`);
  if (!FAKES[provider].ownApps) {
    const withApps = PROVIDERS.filter((p) => FAKES[p].ownApps).join(", ");
    throw new Error(`The ${provider} fake has no own apps (only ${withApps}).`);
  }
  return provider;
}

function apiOf(state: FakeState, server: FakeServer, url: string): FakeProviders {
  /** The client id must be the operator's or an own app's of the provider. */
  const knownApp = (provider: ProviderId, clientId: string) => {
    if (typeof clientId !== "string" || clientId === "") throw new Error('"clientId" must be a non-empty string.');
    if (!state.apps.known(provider, clientId))
      throw new Error(`No ${provider} app with client id "${clientId}" (createApp makes one).`);
  };
  const api: FakeProviders = {
    url,
    baseUrls: baseUrlsFor(url),
    addAccount: (provider, spec) => ({ id: state.addAccount(provider, spec).id }),
    account: ((provider: ProviderId, id: string) => state.account(provider, id)) as FakeProviders["account"],
    accounts: (provider) =>
      (provider ? [provider] : PROVIDERS).flatMap((p) => [...state.accounts[p].values()].map((a) => a.summary())),
    issueTokens(provider, accountId, o = {}) {
      state.account(provider, accountId);
      if (o.clientId !== undefined) knownApp(provider, o.clientId);
      return FAKES[provider].issueTokens(state, accountId, o);
    },
    revokeTokens(provider, accountId) {
      state.account(provider, accountId);
      state.tokens.revokeAccount(provider, accountId);
    },
    createApp(provider, spec) {
      const app = state.apps.create(ownAppsOf(provider), spec);
      return { clientId: app.clientId, clientSecret: app.clientSecret };
    },
    app(provider, clientId, action, args = []) {
      const app = state.apps.require(ownAppsOf(provider), clientId);
      if (action === undefined) return appSummary(app);
      if (!APP_ACTIONS.includes(action)) throw new Error(`"action" must be one of ${APP_ACTIONS.join(", ")}.`);
      const result = state.apps.run(app, action, args);
      return {
        ...appSummary(app),
        ...(result === undefined ? {} : { result }),
        ...(action === "delete" ? { deleted: true as const } : {}),
      };
    },
    apps: (provider) => state.apps.list(provider === undefined ? undefined : ownAppsOf(provider)).map(appSummary),
    fault(provider, f) {
      if (f?.clientId !== undefined) knownApp(provider, f.clientId);
      const added = state.faults.add(provider, f);
      return () => void state.faults.remove(added.id);
    },
    faults: () => state.faults.list(),
    clearFault: (id) => state.faults.remove(id),
    clearFaults: () => state.faults.clear(),
    hung: () => server.hung(),
    rateLimit(provider, r, clientId) {
      if (clientId === undefined || clientId === FAKES[provider].app.clientId) return state.limiters[provider].set(r);
      knownApp(provider, clientId);
      state.apps.require(provider, clientId).limiter.set(r);
    },
    latency(ms) {
      if (!(Number.isFinite(ms) && ms >= 0)) throw new Error(`latency needs a non-negative number of ms (got ${ms}).`);
      state.latencyMs = ms;
    },
    rotateRefreshTokens(on) {
      state.rotateRefreshTokens = on;
    },
    clock: {
      now: () => state.clock.now(),
      advance: (ms) => state.clock.advance(ms),
      freeze: () => state.clock.freeze(),
      thaw: () => state.clock.thaw(),
    },
    stats: () => structuredClone(state.stats),
    resetStats: () => state.resetStats(),
    stop: () => server.stop(),
  };
  return api;
}
