/**
 * Everything the fake remembers while it runs: the fake clock, accounts, tokens, faults, rate
 * limits, settings and request counts. Route handlers read it; the control API changes it.
 */
import {
  type AccountSpec,
  type FakeAccount,
  InstagramAccount,
  type ProviderId,
  SpotifyAccount,
  type Urls,
  numericId,
} from "./data";
import { FaultTable, RollingLimiter } from "./faults";
import { TokenStore } from "./tokens";

/** The app credentials the local settings use (functions/.env.local + .secret.local). */
export const APPS: Record<ProviderId, { clientId: string; clientSecret: string }> = {
  spotify: { clientId: "fake-spotify-client-id", clientSecret: "fake-spotify-client-secret" },
  instagram: { clientId: "fake-instagram-app-id", clientSecret: "fake-instagram-app-secret" },
};

export const SPOTIFY_SCOPES = [
  "playlist-read-private",
  "playlist-read-collaborative",
  "user-top-read",
  "user-read-recently-played",
] as const;
export const INSTAGRAM_SCOPES = ["instagram_business_basic"] as const;

/** Fake time: real time plus an offset that tests move forward. */
export class FakeClock {
  private offsetMs = 0;
  now(): Date {
    return new Date(this.nowMs());
  }
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`clock.advance needs a non-negative number of ms (got ${ms}).`);
    this.offsetMs += ms;
  }
}

export interface Stats {
  requests: number;
  rateLimited: number;
  /** Keyed "provider:endpoint", e.g. "spotify:me/playlists". */
  byEndpoint: Record<string, number>;
}

export class FakeState {
  readonly clock = new FakeClock();
  readonly tokens = new TokenStore(() => this.clock.nowMs());
  readonly faults = new FaultTable();
  readonly limiters: Record<ProviderId, RollingLimiter> = {
    spotify: new RollingLimiter(),
    instagram: new RollingLimiter(),
  };
  readonly accounts: Record<ProviderId, Map<string, FakeAccount>> = { spotify: new Map(), instagram: new Map() };
  latencyMs = 0;
  rotateRefreshTokens = false;
  stats: Stats = { requests: 0, rateLimited: 0, byEndpoint: {} };
  private accountsMade = 0;
  /** Set once the server listens. */
  baseUrl = "";

  get urls(): Urls {
    return {
      spotifyApi: `${this.baseUrl}/spotify-api`,
      cdn: `${this.baseUrl}/cdn`,
    };
  }

  addAccount(provider: ProviderId, spec: AccountSpec = {}): FakeAccount {
    if (provider !== "spotify" && provider !== "instagram") throw new Error(`Unknown provider "${String(provider)}".`);
    const n = ++this.accountsMade;
    const seed = spec.seed ?? n;
    const map = this.accounts[provider];
    const defaultId = (k: number) =>
      provider === "spotify" ? `fake-user-${seed}${k > 1 ? `-${k}` : ""}` : numericId(17, "ig-account", seed, k);
    let id = spec.id ?? defaultId(1);
    if (spec.id === undefined) for (let k = 2; map.has(id); k++) id = defaultId(k);
    if (map.has(id)) throw new Error(`A ${provider} account "${id}" already exists.`);
    const now = this.clock.nowMs();
    const account =
      provider === "spotify" ? new SpotifyAccount(id, seed, spec, now) : new InstagramAccount(id, seed, spec, now);
    map.set(id, account);
    return account;
  }

  account(provider: ProviderId, id: string): FakeAccount {
    const a = this.accounts[provider]?.get(id);
    if (!a) throw new Error(`No ${provider} account "${id}".`);
    return a;
  }

  count(provider: ProviderId, endpoint: string): void {
    this.stats.requests++;
    const key = `${provider}:${endpoint}`;
    this.stats.byEndpoint[key] = (this.stats.byEndpoint[key] ?? 0) + 1;
  }

  resetStats(): void {
    this.stats = { requests: 0, rateLimited: 0, byEndpoint: {} };
  }
}
