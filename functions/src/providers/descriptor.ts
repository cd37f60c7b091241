/**
 * What differs between providers as data. Each provider folder exports one descriptor; the shared
 * code here (authorize URL, token POSTs, refresh timing, the provider's HTTP client, paging and
 * item validation) reads it. What data cannot say (Instagram's two-step exchange, each API's JSON)
 * lives in the provider's own code. Names, settings and queue defaults live in the provider's
 * catalog entry (catalog.ts); a descriptor names base URLs by their catalog key ("API").
 */
import { z } from "zod";
import { type Config, providerSettingNames, providerSettings } from "../config";
import { DeadlineExceededError, ProviderSchemaError, ReauthRequiredError } from "../errors";
import { isLoopbackHost } from "../http/addresses";
import { type ErrorClassifier, HttpClient, httpLimits } from "../http/client";
import { appRateGate } from "../http/rateGate";
import type { DownloadPolicy } from "../http/download";
import { logs } from "../logs";
import type { Provider } from "../paths";
import { catalogEntry } from "./catalog";
import type { ProviderApp, ProviderContext, ProviderModule, TokenSet } from "./types";

/** A key of the provider's catalog `baseUrls` ("API", "ACCOUNTS"): the setting `<PREFIX>_<KEY>_BASE_URL`. */
type BaseUrlKey = string;

export interface ProviderDescriptor {
  id: Provider;
  /** Human name, used in messages ("Spotify"): the catalog's. */
  name: string;
  /**
   * The consent page: `{base}{path}?client_id&redirect_uri&response_type=code&scope&state`, plus
   * `params`, extra query parameters the provider needs on every connect (Spotify
   * `show_dialog=true`: ask again even when the person approved the app before).
   */
  authorize: { baseUrl: BaseUrlKey; path: string; params?: Readonly<Record<string, string>> };
  /** Code exchange (and, for `refresh_token` providers, refresh): a form POST. */
  token: { baseUrl: BaseUrlKey; path: string; clientAuth: "basic" | "form" };
  scopes: readonly string[];
  scopeSeparator: " " | ",";
  /** Meta appends `#_` to the redirect; a code pasted from the address bar ends with it. */
  codeSuffixToStrip?: string;
  api: {
    baseUrl: BaseUrlKey;
    /** Prefix of every API path under the base URL ("/v1" for Spotify). */
    pathPrefix: string;
    /** Items asked for per page (the provider's maximum). */
    pageSize: number;
    /** Safety bound on pages followed for one listing (a looping `next` is a schema error). */
    maxPages: number;
  };
  /** Where the files to mirror live: image CDN host suffixes ("scdn.co" allows i.scdn.co, not evilscdn.co). */
  images: { hostSuffixes: readonly string[] };
  /** The refresh rule; its margin is the catalog's refresh setting (providerSettings().refreshMarginSeconds). */
  refresh:
    | {
        /** OAuth refresh_token grant; a response without refresh_token keeps the old one. */
        style: "refresh_token";
      }
    | {
        /** The long-lived token refreshes itself, only when old enough and not yet expired. */
        style: "ig_refresh_token";
        baseUrl: BaseUrlKey;
        path: string;
        minAgeHours: number;
      };
  /** How the provider says "slow down". */
  rateLimit:
    | {
        style: "retry-after";
        /** Whose limit a 429 is: `app` pauses every connection of the provider until Retry-After. */
        scope: "app" | "account";
        /** An app-wide limit's rolling window: the instance's rate gate learns the budget in it (http/rateGate.ts). */
        windowSeconds?: number;
      }
    | {
        style: "usage-headers";
        /** Headers carrying JSON usage with `estimated_time_to_regain_access` (minutes). */
        headers: readonly string[];
        /** Error codes in the body that mean "rate limited". */
        errorCodes: readonly number[];
        /** Of those, the codes that limit the whole app (the others limit one account). */
        appErrorCodes: readonly number[];
        /** Wait used when no header says how long. */
        defaultWaitSeconds: number;
      };
}

/** The value of a base URL the descriptor names by key (from the provider's settings). */
export function baseUrl(ctx: Pick<ProviderContext, "config">, d: ProviderDescriptor, key: BaseUrlKey): string {
  const value = providerSettings(ctx.config, d.id).baseUrls[key];
  if (value === undefined) throw new Error(`${d.name}'s catalog entry has no base URL "${key}".`);
  return value;
}

/** Every base-URL key the descriptor names (authorize, token, API, refresh), each once. */
export function baseUrlKeys(d: ProviderDescriptor): BaseUrlKey[] {
  const keys = [d.authorize.baseUrl, d.token.baseUrl, d.api.baseUrl];
  if (d.refresh.style === "ig_refresh_token") keys.push(d.refresh.baseUrl);
  return [...new Set(keys)];
}

/**
 * The app the calls are made as: the context's (a person's own app) or the operator's, from the
 * provider's settings.
 */
export function appOf(d: ProviderDescriptor, ctx: ProviderContext): ProviderApp {
  if (ctx.app) return ctx.app;
  const s = providerSettings(ctx.config, d.id);
  return { clientId: s.clientId, clientSecret: s.clientSecret };
}

/**
 * Where this provider's files may be downloaded from. A local run is one whose base URLs are all
 * loopback (the fake provider server): there http, loopback addresses and those base URLs'
 * host:port are allowed too. Otherwise: https on the image CDN suffixes, public addresses only.
 */
export function downloadPolicy(d: ProviderDescriptor, config: Config): DownloadPolicy {
  const bases = baseUrlKeys(d).map((k) => new URL(baseUrl({ config }, d, k)));
  const local = bases.every((u) => isLoopbackHost(u.hostname));
  return {
    service: d.name,
    local,
    hostSuffixes: d.images.hostSuffixes,
    localHosts: local ? [...new Set(bases.map((u) => u.host))] : [],
  };
}

/** The descriptor's display name, checked against the catalog's (one name per provider). */
export function descriptorName(id: Provider): string {
  return catalogEntry(id).name;
}

/** `{base}{path}?query` with the query encoded; undefined values are left out. */
export function buildUrl(base: string, path: string, query: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return `${base}${path}${qs ? `?${qs}` : ""}`;
}

export function authorizeUrl(
  d: ProviderDescriptor,
  ctx: ProviderContext,
  args: { state: string; redirectUri: string },
): string {
  return buildUrl(baseUrl(ctx, d, d.authorize.baseUrl), d.authorize.path, {
    client_id: appOf(d, ctx).clientId,
    redirect_uri: args.redirectUri,
    response_type: "code",
    scope: d.scopes.join(d.scopeSeparator),
    state: args.state,
    ...d.authorize.params,
  });
}

/** The code as the provider issued it (without Meta's `#_`). */
export function cleanCode(d: ProviderDescriptor, code: string): string {
  const suffix = d.codeSuffixToStrip;
  return suffix && code.endsWith(suffix) ? code.slice(0, -suffix.length) : code;
}

/** A client for one provider step (a sync, an exchange, a refresh), with the provider's error reading. */
export function providerClient(d: ProviderDescriptor, ctx: ProviderContext, classify?: ErrorClassifier): HttpClient {
  const window =
    d.rateLimit.style === "retry-after" && d.rateLimit.scope === "app" ? d.rateLimit.windowSeconds : undefined;
  return new HttpClient({
    service: d.name,
    limits: httpLimits(ctx.config),
    classify,
    rateLimitScope: d.rateLimit.style === "retry-after" ? d.rateLimit.scope : "account",
    // Tests that replace the transport (ctx.http) keep their own timing: no process-wide gate.
    ...(window !== undefined && !ctx.http ? { rateGate: appRateGate(d.id, appOf(d, ctx).clientId, window) } : {}),
    ...(ctx.deadline ? { deadline: { ...ctx.deadline, now: ctx.now } } : {}),
    deps: ctx.http,
  });
}

/** POSTs a form to the token endpoint with the client's credentials, as the descriptor says. */
export function tokenPost(
  d: ProviderDescriptor,
  ctx: ProviderContext,
  client: HttpClient,
  form: Record<string, string>,
): Promise<unknown> {
  const { clientId: id, clientSecret: secret } = appOf(d, ctx);
  const basic = d.token.clientAuth === "basic";
  return client.json({
    method: "POST",
    url: buildUrl(baseUrl(ctx, d, d.token.baseUrl), d.token.path),
    headers: basic ? { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}` } : {},
    form: basic ? form : { client_id: id, client_secret: secret, ...form },
  });
}

/**
 * The token endpoint's answer to an authorization-code or refresh_token grant (RFC 6749 5.1), as
 * the `refresh_token`-style providers send it. `scope`: what was granted (with granular consent,
 * possibly less than asked for).
 */
export const TokenAnswer = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  scope: z.string().optional(),
  expires_in: z.number().positive(),
  refresh_token: z.string().min(1).optional(),
});
export type TokenAnswer = z.infer<typeof TokenAnswer>;

/**
 * Tokens from a token answer. An answer without `refresh_token` keeps `previous`'s (a refresh that
 * does not rotate); one without `scope` keeps `previous`'s scopes, or the descriptor's.
 */
export function tokensFrom(d: ProviderDescriptor, ctx: ProviderContext, t: TokenAnswer, previous?: TokenSet): TokenSet {
  const now = ctx.now();
  const refreshToken = t.refresh_token ?? previous?.refreshToken;
  return {
    accessToken: t.access_token,
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    expiresAt: new Date(now.getTime() + t.expires_in * 1000),
    issuedAt: now,
    scopes: t.scope !== undefined ? t.scope.split(" ").filter(Boolean) : (previous?.scopes ?? [...d.scopes]),
  };
}

/**
 * The authorization_code grant of a `refresh_token`-style provider: its answer must carry a
 * refresh token (Google sends one only when the consent was asked for: `prompt=consent`).
 */
export async function exchangeCodeForTokens(
  d: ProviderDescriptor,
  ctx: ProviderContext,
  classify: ErrorClassifier,
  args: { code: string; redirectUri: string },
): Promise<TokenSet> {
  const body = await tokenPost(d, ctx, providerClient(d, ctx, classify), {
    grant_type: "authorization_code",
    code: cleanCode(d, args.code),
    redirect_uri: args.redirectUri,
  });
  const t = parseEnvelope(d, "token answer", TokenAnswer, body);
  if (t.refresh_token === undefined) {
    throw new ProviderSchemaError(`${d.name} token answer to a code exchange has no refresh_token.`);
  }
  return tokensFrom(d, ctx, t);
}

/** The refresh_token grant; tokens without a refresh token mean the person must reconnect (`reason`). */
export async function refreshWithToken(
  d: ProviderDescriptor,
  ctx: ProviderContext,
  classify: ErrorClassifier,
  tokens: TokenSet,
  reason: string,
): Promise<TokenSet> {
  if (tokens.refreshToken === undefined) {
    throw new ReauthRequiredError(`Stored ${d.name} tokens have no refresh token.`, { reason });
  }
  const body = await tokenPost(d, ctx, providerClient(d, ctx, classify), {
    grant_type: "refresh_token",
    refresh_token: tokens.refreshToken,
  });
  return tokensFrom(d, ctx, parseEnvelope(d, "token answer", TokenAnswer, body), tokens);
}

/**
 * `npm run connect` for a `refresh_token`-style provider: the pasted refresh token is exchanged
 * for an access token right away, so a bad one fails before anything is stored.
 */
export function refreshTokenOperatorTokens(
  d: ProviderDescriptor,
  refresh: ProviderModule["refresh"],
): ProviderModule["operatorTokens"] {
  return {
    needs: "refresh-token",
    make: (ctx, { token }) =>
      refresh(ctx, {
        accessToken: "exchange-pending",
        refreshToken: token,
        expiresAt: new Date(0),
        issuedAt: new Date(0),
        scopes: [...d.scopes],
      }),
  };
}

/** True when `tokens` expire within the descriptor's margin and the provider allows a refresh now. */
export function refreshDue(d: ProviderDescriptor, ctx: ProviderContext, tokens: TokenSet): boolean {
  const now = ctx.now().getTime();
  const marginMs = providerSettings(ctx.config, d.id).refreshMarginSeconds * 1000;
  const dueByExpiry = tokens.expiresAt.getTime() - now <= marginMs;
  if (d.refresh.style === "refresh_token") return dueByExpiry && tokens.refreshToken !== undefined;
  return dueByExpiry && refreshAllowed(d, ctx, tokens);
}

/** Instagram-style refresh is allowed for a token at least `minAgeHours` old and not yet expired. */
export function refreshAllowed(d: ProviderDescriptor, ctx: ProviderContext, tokens: TokenSet): boolean {
  if (d.refresh.style !== "ig_refresh_token") return tokens.refreshToken !== undefined;
  const now = ctx.now().getTime();
  return now - tokens.issuedAt.getTime() >= d.refresh.minAgeHours * 3_600_000 && now < tokens.expiresAt.getTime();
}

/** Parses a whole response (an envelope, a profile, a token answer): a mismatch is a ProviderSchemaError. */
export function parseEnvelope<T>(d: ProviderDescriptor, what: string, schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ProviderSchemaError(`${d.name} ${what} failed validation: ${issueSummary(parsed.error)}.`);
}

/** "path.to.field: message" of the first issue; zod messages name types, never values. */
export function issueSummary(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return "invalid";
  return `${first.path.join(".") || "(root)"}: ${first.message}`;
}

/**
 * Validates items one by one: a bad item is skipped and counted (one log line per listing), not
 * fatal. Development-mode apps drop fields, so item schemas mark everything optional that can be.
 */
export class ItemParser {
  skipped = 0;
  constructor(private readonly d: ProviderDescriptor) {}

  parse<T>(what: string, schema: z.ZodType<T>, items: readonly unknown[]): T[] {
    const out: T[] = [];
    let skippedHere = 0;
    let firstIssue: string | undefined;
    items.forEach((item) => {
      const parsed = schema.safeParse(item);
      if (parsed.success) out.push(parsed.data);
      else {
        skippedHere++;
        firstIssue ??= issueSummary(parsed.error);
      }
    });
    if (skippedHere > 0) {
      this.skipped += skippedHere;
      logs.warn("provider.items_skipped", { provider: this.d.id, listing: what, skipped: skippedHere, firstIssue });
    }
    return out;
  }
}

/**
 * How a listing pages:
 * - `next-url`: each page names the next page's URL (Spotify `next`, Graph `paging.next`); the URL
 *   must stay under the provider's API base URL (the access token goes there);
 * - `page-token` / `cursor`: each page names a token (YouTube `nextPageToken`, a cursor) that
 *   `url(token)` turns into the next request.
 * `next` returns null/undefined on the last page. `stop` may end a listing early (an empty page).
 */
export type PageStrategy<P> =
  | { kind: "next-url"; first: string; next: (page: P) => string | null | undefined; stop?: (page: P) => boolean }
  | {
      kind: "page-token" | "cursor";
      url: (token: string | undefined) => string;
      next: (page: P) => string | null | undefined;
      stop?: (page: P) => boolean;
    };

/**
 * Every page of one listing, one request after another, with one loop guard for every strategy:
 * a listing that names the same next page (URL or token) twice, or runs past `api.maxPages`, is a
 * ProviderSchemaError (a provider bug must not become an endless sync).
 */
export async function* pages<P>(
  d: ProviderDescriptor,
  ctx: ProviderContext,
  strategy: PageStrategy<P>,
  fetchPage: (url: string) => Promise<P>,
): AsyncGenerator<P> {
  const seen = new Set<string>();
  let url: string | undefined = strategy.kind === "next-url" ? strategy.first : strategy.url(undefined);
  let count = 0;
  while (url !== undefined) {
    // Between pages too, not only inside the client: a listing of many pages stops at the deadline.
    if (ctx.deadline && ctx.now().getTime() >= ctx.deadline.at.getTime()) {
      throw new DeadlineExceededError(`${d.name} listing stopped after ${count} pages: past ${ctx.deadline.name}.`);
    }
    const page = await fetchPage(url);
    count++;
    yield page;
    if (strategy.stop?.(page)) return;
    const next = strategy.next(page);
    if (next === null || next === undefined || next === "") return;
    if (seen.has(next)) throw new ProviderSchemaError(`${d.name} gave the same next page twice.`);
    if (count >= d.api.maxPages)
      throw new ProviderSchemaError(`${d.name} listing has more than ${d.api.maxPages} pages.`);
    seen.add(next);
    if (strategy.kind === "next-url") {
      if (!next.startsWith(`${baseUrl(ctx, d, d.api.baseUrl)}/`)) {
        const setting = providerSettingNames(catalogEntry(d.id)).baseUrl(d.api.baseUrl);
        throw new ProviderSchemaError(`${d.name} gave a next-page URL outside ${setting}.`);
      }
      url = next;
    } else url = strategy.url(next);
  }
}
