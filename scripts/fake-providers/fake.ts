/**
 * What one provider's fake is: the shape every folder `scripts/fake-providers/<id>/` exports and
 * registry.ts lists (one per catalog entry). The shared server, state, control API, token store
 * and consent page ask a provider only through this interface.
 */
import { providerSettingNames } from "../../functions/src/config";
import type { CatalogEntry, CatalogEntryOf, ProviderId } from "../../functions/src/providers/catalog";
import type { BaseAccount, CommonAccountSpec } from "./data";
import type { RateLimitSpec, RouteKind } from "./faults";
import type { FakeProviders } from "./index";
import type { ProviderHandlers } from "./server";
import type { FakeState } from "./state";

/** The app credentials a fake accepts. */
export interface FakeApp {
  clientId: string;
  clientSecret: string;
}

/** The local app credentials of a catalog entry (functions/.env.local + .secret.local): what its fake accepts. */
export function appOf(entry: CatalogEntry): FakeApp {
  return { clientId: entry.clientId.default, clientSecret: entry.clientSecret.local };
}

/** The base-URL keys of a provider's catalog entry ("API", "ACCOUNTS", …). */
export type BaseUrlKey<P extends ProviderId> = Extract<keyof CatalogEntryOf<P>["baseUrls"], string>;

/** The base-URL settings of a provider, `<PREFIX>_<KEY>_BASE_URL`, each a URL. */
export type BaseUrlsOf<P extends ProviderId> = P extends ProviderId
  ? { [K in BaseUrlKey<P> as `${CatalogEntryOf<P>["settingsPrefix"]}_${K}_BASE_URL`]: string }
  : never;

/**
 * The settings that point the product at the fake on `url`: one `<PREFIX>_<KEY>_BASE_URL` per
 * base-URL key of the entry (names from config.ts's providerSettingNames), `url` + the route prefix
 * that answers for it.
 */
export function baseUrlSettings<P extends ProviderId>(
  entry: CatalogEntryOf<P>,
  prefixes: Readonly<Record<BaseUrlKey<P>, string>>,
  url: string,
): BaseUrlsOf<P> {
  const names = providerSettingNames(entry);
  const out: Record<string, string> = {};
  for (const key of Object.keys(entry.baseUrls) as BaseUrlKey<P>[]) out[names.baseUrl(key)] = `${url}${prefixes[key]}`;
  return out as BaseUrlsOf<P>;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken?: string;
  /** Seconds. */
  expiresIn: number;
  scopes: string[];
}

/**
 * issueTokens' options: `scopes` (default: the provider's), `shortLived` (providers with two token
 * lives), `clientId` (the app they are issued to, for providers with own apps; default: the operator's).
 */
export interface IssueOptions {
  scopes?: string[];
  shortLived?: boolean;
  clientId?: string;
}

/** One kind of token a provider issues: how long it lives (fake clock) and how it starts. */
export interface TokenKindSpec {
  lifetimeMs: number;
  prefix: string;
}

/** What the bench (scripts/bench/) needs to know about a provider. */
export interface FakeBench<S extends CommonAccountSpec = CommonAccountSpec> {
  /**
   * The time race's accounts: small libraries, so the fake's JPEG rendering (about 23 ms of CPU
   * each) rather than the design under test is not the bottleneck on 2 cores.
   */
  smallAccount: S;
  /** The sync-cost bench's "small change": a control-API account action and its arguments. */
  smallChange: { action: string; args: unknown[]; what: string };
  /**
   * The real provider's rolling app-wide rate limit, as the bench models it (the real number is
   * not published: a chosen budget). The time race measures the providers that have one.
   */
  rollingRateLimit?: RateLimitSpec;
}

export interface FakeProvider<
  P extends ProviderId = ProviderId,
  A extends BaseAccount = BaseAccount,
  S extends CommonAccountSpec = CommonAccountSpec,
> {
  readonly id: P;
  /** The app credentials it accepts: appOf(its catalog entry). */
  readonly app: FakeApp;
  /** Own apps (apps.ts) can be created for it, each with its own credentials, users and budget. */
  readonly ownApps?: boolean;
  /** What issueTokens grants without `scopes` (what the product asks for). */
  readonly scopes: readonly string[];
  /** The route prefix (below the fake's root) that answers for each base URL of the catalog entry. */
  readonly prefixes: Readonly<Record<BaseUrlKey<P>, string>>;
  /** baseUrlSettings(entry, prefixes, url). */
  baseUrls(url: string): BaseUrlsOf<P>;
  /** Every endpoint name its routes have (faults and stats use them) and the kind of route. */
  readonly endpoints: Readonly<Record<string, RouteKind>>;
  /** Authorization codes start with `codePrefix`; the token kinds its routes issue and accept. */
  readonly tokens: { codePrefix: string; kinds: Readonly<Record<string, TokenKindSpec>> };
  /** Its routes, fault replies and rate-limit reply, over the shared state. */
  handlers(state: FakeState): ProviderHandlers;
  /** The k-th candidate id (k = 1, 2, …) of a new account with this seed, when the spec names none. */
  accountId(seed: number, k: number): string;
  newAccount(id: string, seed: number, spec: S, now: number): A;
  /** Mutations the control API's `account` operation may run on its accounts, besides rename and changeItems. */
  readonly accountActions: readonly string[];
  /** Tokens without the browser flow, as its token endpoint would issue them. */
  issueTokens(state: FakeState, accountId: string, opts: IssueOptions): IssuedTokens;
  /** The URLs `npm run fake-providers` prints for it: label and URL. */
  urls(url: string): [label: string, url: string][];
  /** `--seed-demo`: adds its demo accounts and returns the lines that describe them. */
  demo(fake: FakeProviders): string[];
  readonly bench: FakeBench<S>;
}
