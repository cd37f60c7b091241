/**
 * The Instagram provider (Instagram API with Instagram Login): code → short-lived token →
 * long-lived (60-day) token; refresh with `ig_refresh_token` only for a token at least 24 h old and
 * not expired; the per-sync fetch: the profile and every page of `/me/media` (carousel children
 * inline through field expansion).
 *
 * The Graph API takes the token as the `access_token` query parameter (as Meta documents, and as
 * its `paging.next` links carry it); URLs are never logged or put in errors (http/client.ts).
 */
import { NotAllowedError, RateLimitedError, ReauthRequiredError } from "../../errors";
import { type ErrorClassifier, errorJson, type HttpResponse, requestLabel, scrub } from "../../http/client";
import {
  authorizeUrl,
  baseUrl,
  buildUrl,
  cleanCode,
  ItemParser,
  appOf,
  pages,
  parseEnvelope,
  providerClient,
  refreshAllowed,
  refreshDue,
  tokenPost,
} from "../descriptor";
import type { FetchResult, ProviderAccount, ProviderContext, ProviderModule, TokenSet } from "../types";
import { instagramDescriptor as d, LONG_LIVED_EXCHANGE, MEDIA_FIELDS, PROFILE_FIELDS } from "./descriptor";
import { accountId, historyPoint, mapMedia, mapProfile } from "./mapping";
import { GraphError, LongLivedToken, Media, MediaPage, OAuthError, Profile, ShortLivedToken } from "./schemas";

/** Graph error code of an expired, revoked or invalid access token. */
export const INVALID_TOKEN_CODE = 190;
/** Graph error codes of missing permissions (10, 200–299). */
const isPermissionCode = (code: number) => code === 10 || (code >= 200 && code <= 299);

const REAUTH_REASON = "Instagram access has expired or was revoked; reconnect Instagram.";

/**
 * When Meta's usage headers say access comes back: the largest `estimated_time_to_regain_access`
 * (minutes) in any of them, or undefined.
 */
export function regainAccessAt(res: HttpResponse, now: Date): Date | undefined {
  let minutes = 0;
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "estimated_time_to_regain_access" && typeof x === "number") minutes = Math.max(minutes, x);
        else visit(x);
      }
    }
  };
  for (const header of d.rateLimit.headers) {
    const raw = res.headers[header];
    if (!raw) continue;
    try {
      visit(JSON.parse(raw));
    } catch {
      // A malformed usage header says nothing; the default wait applies.
    }
  }
  return minutes > 0 ? new Date(now.getTime() + minutes * 60_000) : undefined;
}

const classify: ErrorClassifier = (res, info, now) => {
  const where = requestLabel(info);
  const body = errorJson(res);
  const graph = GraphError.safeParse(body);
  if (graph.success) {
    const { code, message } = graph.data.error;
    const detail = message ? `: ${scrub(message)}` : "";
    if (code === INVALID_TOKEN_CODE) {
      return new ReauthRequiredError(`${where} answered error 190${detail}.`, { reason: REAUTH_REASON });
    }
    if (code !== undefined && (d.rateLimit.errorCodes as readonly number[]).includes(code)) {
      // A 429 that says how long to wait takes the shared Retry-After path (wait in place up to the cap).
      if (res.status === 429 && res.headers["retry-after"] !== undefined) return undefined;
      const retryAt = regainAccessAt(res, now) ?? new Date(now.getTime() + d.rateLimit.defaultWaitSeconds * 1000);
      return new RateLimitedError(`${where} answered rate-limit error ${code}${detail}.`, retryAt, {
        scope: (d.rateLimit.appErrorCodes as readonly number[]).includes(code) ? "app" : "account",
      });
    }
    if (code !== undefined && isPermissionCode(code)) {
      return new NotAllowedError(`${where} answered permission error ${code}${detail}.`);
    }
  }
  const oauth = OAuthError.safeParse(body);
  if (oauth.success && res.status === 400) {
    const detail = oauth.data.error_message ? `: ${scrub(oauth.data.error_message)}` : "";
    return new ReauthRequiredError(`${where} rejected the grant (${oauth.data.error_type}${detail}).`, {
      reason: "Instagram did not accept the authorization; connect Instagram again.",
    });
  }
  // Instagram has no refresh token: a rejected token cannot be replaced without the person.
  if (res.status === 401)
    return new ReauthRequiredError(`${where} rejected the access token (401).`, { reason: REAUTH_REASON });
  return undefined;
};

function graphUrl(ctx: ProviderContext, path: string, query: Record<string, string | number>): string {
  return buildUrl(baseUrl(ctx, d, d.api.baseUrl), `${d.api.pathPrefix}${path}`, query);
}

function toTokenSet(ctx: ProviderContext, body: unknown, scopes: string[]): TokenSet {
  const t = parseEnvelope(d, "long-lived token answer", LongLivedToken, body);
  const now = ctx.now();
  return {
    accessToken: t.access_token,
    expiresAt: new Date(now.getTime() + t.expires_in * 1000),
    issuedAt: now,
    scopes,
  };
}

async function getProfile(ctx: ProviderContext, client: ReturnType<typeof providerClient>, accessToken: string) {
  const body = await client.json({
    method: "GET",
    url: graphUrl(ctx, "/me", { fields: PROFILE_FIELDS, access_token: accessToken }),
  });
  return parseEnvelope(d, "/me", Profile, body);
}

async function fetchAll(ctx: ProviderContext, accessToken: string): Promise<FetchResult> {
  const client = providerClient(d, ctx, classify);
  const parser = new ItemParser(d);
  const profile = await getProfile(ctx, client, accessToken);

  const media: Media[] = [];
  let count = 0;
  const listing = pages(
    d,
    ctx,
    {
      kind: "next-url",
      first: graphUrl(ctx, "/me/media", { fields: MEDIA_FIELDS, limit: d.api.pageSize, access_token: accessToken }),
      next: (page: MediaPage) => page.paging?.next,
      // An empty page ends the listing even when Graph still sends a `next` link.
      stop: (page: MediaPage) => page.data.length === 0,
    },
    async (url) => parseEnvelope(d, "media page", MediaPage, await client.json({ method: "GET", url })),
  );
  for await (const page of listing) {
    count++;
    media.push(...parser.parse("media", Media, page.data));
  }
  const mapped = mapMedia(media, parser);
  return {
    account: { id: accountId(profile), displayName: profile.username ?? null },
    snapshots: { profile: mapProfile(profile), media: mapped.snapshot },
    mirror: mapped.mirror,
    counts: {
      media: media.length,
      mediaPages: count,
      children: mapped.children,
      mirror: mapped.mirror.length,
      skipped: parser.skipped,
    },
    requests: client.requests,
  };
}

export const instagram: ProviderModule = {
  id: d.id,
  name: d.name,
  scopes: d.scopes,

  authorizeUrl: (ctx, args) => authorizeUrl(d, ctx, args),

  async exchangeCode(ctx, { code, redirectUri }) {
    const client = providerClient(d, ctx, classify);
    const short = parseEnvelope(
      d,
      "short-lived token answer",
      ShortLivedToken,
      await tokenPost(d, ctx, client, {
        grant_type: "authorization_code",
        redirect_uri: redirectUri,
        code: cleanCode(d, code),
      }),
    );
    const granted = short.permissions;
    const scopes =
      granted === undefined ? [...d.scopes] : Array.isArray(granted) ? granted : granted.split(",").filter(Boolean);
    const body = await client.json({
      method: "GET",
      url: buildUrl(baseUrl(ctx, d, LONG_LIVED_EXCHANGE.baseUrl), LONG_LIVED_EXCHANGE.path, {
        grant_type: "ig_exchange_token",
        client_secret: appOf(d, ctx).clientSecret,
        access_token: short.access_token,
      }),
    });
    return toTokenSet(ctx, body, scopes);
  },

  refreshDue: (ctx, tokens) => refreshDue(d, ctx, tokens),

  async refresh(ctx, tokens) {
    if (ctx.now().getTime() >= tokens.expiresAt.getTime()) {
      throw new ReauthRequiredError("The Instagram long-lived token has expired; it cannot be refreshed.", {
        reason: REAUTH_REASON,
      });
    }
    if (!refreshAllowed(d, ctx, tokens)) {
      // Instagram refuses to refresh a token younger than 24 h; it is valid, so keep it.
      return tokens;
    }
    const client = providerClient(d, ctx, classify);
    const body = await client.json({
      method: "GET",
      url: buildUrl(baseUrl(ctx, d, d.refresh.baseUrl), d.refresh.path, {
        grant_type: "ig_refresh_token",
        access_token: tokens.accessToken,
      }),
    });
    return toTokenSet(ctx, body, tokens.scopes);
  },

  async identify(ctx, accessToken): Promise<ProviderAccount> {
    const profile = await getProfile(ctx, providerClient(d, ctx, classify), accessToken);
    return { id: accountId(profile), displayName: profile.username ?? null };
  },

  fetchAll,

  historyPoint,

  operatorTokens: {
    needs: "access-token",
    // A long-lived token as it is; connect.ts then reads the account with it.
    make: async (ctx, { token, expiresInDays }) => {
      const now = ctx.now();
      return {
        accessToken: token,
        expiresAt: new Date(now.getTime() + expiresInDays * 86_400_000),
        issuedAt: now,
        scopes: [...d.scopes],
      };
    },
  },
};
