/**
 * Everything the fake remembers while it runs: the fake clock, accounts, tokens, faults, rate
 * limits, settings and request counts, for every provider of the registry. Route handlers read
 * it; the control API changes it.
 */
import { randomInt } from "node:crypto";
import { PROVIDERS } from "../../functions/src/providers/catalog";
import type { ProviderId } from "./data";
import { AppRegistry } from "./apps";
import type { FakeApp } from "./fake";
import { FaultTable, RollingLimiter } from "./faults";
import { type AccountSpec, FAKES, type FakeAccount } from "./registry";
import { TokenStore } from "./tokens";

const perProvider = <T>(make: (p: ProviderId) => T) =>
  Object.fromEntries(PROVIDERS.map((p) => [p, make(p)])) as Record<ProviderId, T>;

/** The app credentials the local settings use (functions/.env.local + .secret.local), per provider. */
export const APPS: Record<ProviderId, FakeApp> = perProvider((p) => FAKES[p].app);

/** Fake time: real time plus an offset that tests move forward; frozen, only advance() moves it. */
export class FakeClock {
  private offsetMs = 0;
  private frozenAt: number | null = null;
  now(): Date {
    return new Date(this.nowMs());
  }
  nowMs(): number {
    return (this.frozenAt ?? Date.now()) + this.offsetMs;
  }
  /**
   * Stops real time from moving the clock (advance() still does), for a test that compares what
   * the fake showed at a moment with what a sync read a few milliseconds later.
   */
  freeze(): void {
    this.frozenAt ??= Date.now();
  }
  /** Real time moves the clock again, from where it stood. */
  thaw(): void {
    if (this.frozenAt === null) return;
    this.offsetMs += this.frozenAt - Date.now();
    this.frozenAt = null;
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
  readonly tokens = new TokenStore(
    () => this.clock.nowMs(),
    (p) => FAKES[p].tokens,
  );
  readonly faults = new FaultTable();
  readonly limiters: Record<ProviderId, RollingLimiter> = perProvider(() => new RollingLimiter());
  readonly accounts: Record<ProviderId, Map<string, FakeAccount>> = perProvider(() => new Map());
  readonly apps = new AppRegistry((p) => FAKES[p].app.clientId);
  latencyMs = 0;
  /** Refresh returns a new refresh token (and the old one stops working), for providers whose refresh can rotate. */
  rotateRefreshTokens = false;
  stats: Stats = { requests: 0, rateLimited: 0, byEndpoint: {} };
  private accountsMade = 0;
  /**
   * Accounts made without an explicit seed or id get ids from `idBase + n`, random per server:
   * every fake server (one per test file) then names its accounts differently, as a real
   * provider would, so tests sharing one emulator never see the same provider account twice
   * (a provider account is connected under one person at a time). Their data still follows the
   * seed `n`.
   */
  private readonly idBase = randomInt(1, 1_000_000) * 1_000;
  /** Set once the server listens. */
  baseUrl = "";

  addAccount(provider: ProviderId, spec: AccountSpec = {}): FakeAccount {
    if (!(PROVIDERS as readonly string[]).includes(provider))
      throw new Error(`Unknown provider "${String(provider)}".`);
    const fake = FAKES[provider];
    const n = ++this.accountsMade;
    const seed = spec.seed ?? n;
    const map = this.accounts[provider];
    const idSeed = spec.seed ?? this.idBase + n;
    let id = spec.id ?? fake.accountId(idSeed, 1);
    if (spec.id === undefined) for (let k = 2; map.has(id); k++) id = fake.accountId(idSeed, k);
    if (map.has(id)) throw new Error(`A ${provider} account "${id}" already exists.`);
    const account = fake.newAccount(id, seed, spec, this.clock.nowMs()) as FakeAccount;
    map.set(id, account);
    return account;
  }

  account(provider: ProviderId, id: string): FakeAccount {
    const a = this.accounts[provider]?.get(id);
    if (!a) throw new Error(`No ${provider} account "${id}".`);
    return a;
  }

  /** The rolling limiter of the app a request is made as: an own app's, else the operator's (per provider). */
  limiter(provider: ProviderId, clientId: string | undefined): RollingLimiter {
    return this.apps.get(provider, clientId)?.limiter ?? this.limiters[provider];
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
