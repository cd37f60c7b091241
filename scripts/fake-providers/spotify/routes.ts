/**
 * Fake Spotify's routes: accounts service (authorize + consent, POST /api/token) under
 * /spotify-accounts, the Web API endpoints the clients use under /spotify-api, and cover images
 * under /cdn/spotify (prefixes in ids.ts).
 * Shapes follow docs/reference/spotify-web-api.openapi.yml; behaviour follows Spotify's documented
 * behaviour, as the README's "The fake provider server" describes it (1 h access tokens, optional
 * refresh-token rotation, invalid_grant, development-mode 403, 429 + Retry-After).
 * Own apps (apps.ts) answer as their own Spotify app would: their credentials at the token
 * endpoint, their registered redirect URIs on the authorize page, their User Management list at the
 * Web API; codes and tokens work only for the app they were issued to.
 */
import { consentPage, decide, type AuthorizeRules } from "../consent";
import type { ActiveFault } from "../faults";
import { jpegFor } from "../images";
import { type Reply, type Rq, basicAuth, bearer, graphError, json } from "../reply";
import type { ProviderHandlers, Route } from "../server";
import type { FakeState } from "../state";
import type { SpotifyAccount, Urls } from "./account";
import { APP, CDN_PREFIX, ENDPOINTS, type Endpoint, ID, PREFIXES } from "./ids";
import { LIFETIMES, ownClientId } from "./tokens";

const RULES: AuthorizeRules = {
  provider: ID,
  clientId: APP.clientId,
  scopeSeparator: /[\s,]+/,
  fragment: "",
  denyExtras: {},
};
const MAX_LIMIT = 50;
const MAX_OFFSET = 100_000;
export const NOT_ALLOW_LISTED = "Check settings on developer.spotify.com/dashboard, the user may not be registered.";

export function apiError(status: number, message: string, headers: Record<string, string> = {}): Reply {
  return json(status, { error: { status, message } }, headers);
}

const tokenError = (error: string, description: string, status = 400) =>
  json(status, { error, error_description: description });

export function rateLimited(retryAfterSeconds: number): Reply {
  return apiError(429, "API rate limit exceeded", { "retry-after": String(retryAfterSeconds) });
}

/** The `quota` fault: 429 with reason QUOTA_EXCEEDED. */
export function quotaExceeded(retryAfterSeconds: number): Reply {
  return json(
    429,
    { error: { status: 429, message: "Quota exceeded", reason: "QUOTA_EXCEEDED" } },
    { "retry-after": String(retryAfterSeconds) },
  );
}

/** The fake's own URLs that generated data points at. */
export function urlsOf(state: FakeState): Urls {
  return { spotifyApi: `${state.baseUrl}${PREFIXES.API}`, cdn: `${state.baseUrl}/cdn` };
}

/** A route's provider, endpoint name and kind. */
const at = (endpoint: Endpoint) => ({ provider: ID, endpoint, kind: ENDPOINTS[endpoint] });

export function spotifyHandlers(state: FakeState): ProviderHandlers {
  const api = (p: string) => new RegExp(`^${PREFIXES.API}/v1/${p}$`);
  const tokenOwner = (rq: Rq) => state.tokens.get(bearer(rq.headers))?.accountId;
  /** The app a bearer token was issued to (the operator's when it records none). */
  const tokenApp = (rq: Rq) => {
    const rec = state.tokens.get(bearer(rq.headers));
    return rec ? (rec.clientId ?? APP.clientId) : undefined;
  };
  /** The client id a token POST authenticates as. */
  const tokenClient = (rq: Rq) => basicAuth(rq.headers)?.id ?? rq.form.get("client_id") ?? undefined;
  const rules: AuthorizeRules = {
    ...RULES,
    ownApp: (clientId) => state.apps.get(ID, clientId),
  };

  /** Checks the bearer token, the allow-list and the scope; returns the account or the error reply. */
  function authorize(rq: Rq, scope?: string): SpotifyAccount | Reply {
    const token = bearer(rq.headers);
    const challenge = (desc: string) => ({
      "www-authenticate": `Bearer realm="spotify", error="invalid_token", error_description="${desc}"`,
    });
    if (!token) return apiError(401, "No token provided", challenge("No token provided"));
    const rec = state.tokens.get(token);
    const why = state.tokens.problem(rec, ["access", "app"]);
    if (why === "expired") return apiError(401, "The access token expired", challenge("The access token expired"));
    if (why) return apiError(401, "Invalid access token", challenge("Invalid access token"));
    // A client-credentials token has no user: the user endpoints refuse it.
    if (rec!.kind === "app") return apiError(403, "Forbidden");
    const account = state.accounts[ID].get(rec!.accountId) as SpotifyAccount | undefined;
    if (!account) return apiError(401, "Invalid access token");
    if (rec!.clientId === undefined) {
      if (!account.allowListed) return apiError(403, NOT_ALLOW_LISTED);
    } else {
      // An own app in development mode: only the accounts in its User Management.
      const app = state.apps.get(ID, rec!.clientId);
      if (!app) return apiError(401, "Invalid access token", challenge("Invalid access token"));
      if (!app.users.has(account.id)) return apiError(403, NOT_ALLOW_LISTED);
    }
    if (scope && !rec!.scopes.includes(scope)) return apiError(403, "Insufficient client scope");
    return account;
  }

  function intParam(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number | Reply {
    const raw = q.get(name);
    if (raw === null) return dflt;
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || n < min || n > max) return apiError(400, `Invalid ${name}`);
    return n;
  }

  /** An offset PagingObject over `total` items; `next`/`previous` keep the other query parameters. */
  function offsetPage(rq: Rq, total: number, item: (i: number) => unknown): Reply {
    const limit = intParam(rq.query, "limit", 20, 1, MAX_LIMIT);
    if (typeof limit !== "number") return limit;
    const offset = intParam(rq.query, "offset", 0, 0, MAX_OFFSET);
    if (typeof offset !== "number") return offset;
    const link = (o: number) => {
      const u = new URL(`${state.baseUrl}${rq.url.pathname}`);
      for (const [k, v] of rq.query) if (k !== "offset" && k !== "limit") u.searchParams.set(k, v);
      u.searchParams.set("offset", String(o));
      u.searchParams.set("limit", String(limit));
      return u.toString();
    };
    const end = Math.min(total, offset + limit);
    const items = [];
    for (let i = offset; i < end; i++) items.push(item(i));
    return json(200, {
      href: link(offset),
      items,
      limit,
      next: end < total ? link(end) : null,
      offset,
      previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
      total,
    });
  }

  function token(rq: Rq): Reply {
    const basic = basicAuth(rq.headers);
    const clientId = basic?.id ?? rq.form.get("client_id");
    const clientSecret = basic?.secret ?? rq.form.get("client_secret");
    const own = clientId && clientId !== APP.clientId ? state.apps.get(ID, clientId) : undefined;
    if (!clientId || (clientId !== APP.clientId && !own)) return tokenError("invalid_client", "Invalid client");
    if (clientSecret !== (own ?? APP).clientSecret) return tokenError("invalid_client", "Invalid client secret");
    /** What tokens issued now record: undefined for the operator's app. */
    const issuedTo = ownClientId(clientId);
    const grant = rq.form.get("grant_type");
    if (grant === "client_credentials") {
      return json(200, {
        access_token: state.tokens.issue(ID, "app", "", [], undefined, issuedTo),
        token_type: "Bearer",
        expires_in: LIFETIMES.accessMs / 1000,
      });
    }
    if (grant === "authorization_code") {
      const code = rq.form.get("code") ?? "";
      const peek = state.tokens.peekCode(code);
      if (!peek || peek.provider !== ID || peek.clientId !== clientId)
        return tokenError("invalid_grant", "Invalid authorization code");
      if (peek.redirectUri !== rq.form.get("redirect_uri")) return tokenError("invalid_grant", "Invalid redirect URI");
      const rec = state.tokens.redeemCode(code);
      if (!rec) return tokenError("invalid_grant", "Invalid authorization code");
      const accessToken = state.tokens.issue(ID, "access", rec.accountId, rec.scopes, undefined, issuedTo);
      const refreshToken = state.tokens.issue(ID, "refresh", rec.accountId, rec.scopes, undefined, issuedTo);
      return json(200, {
        access_token: accessToken,
        token_type: "Bearer",
        expires_in: 3600,
        refresh_token: refreshToken,
        scope: rec.scopes.join(" "),
      });
    }
    if (grant === "refresh_token") {
      const old = rq.form.get("refresh_token") ?? "";
      const rec = state.tokens.get(old);
      const why = state.tokens.problem(rec, ["refresh"]);
      // A refresh token works only for the app it was issued to.
      if (why === "missing" || rec?.provider !== ID || rec.clientId !== issuedTo)
        return tokenError("invalid_grant", "Invalid refresh token");
      if (why === "revoked") return tokenError("invalid_grant", "Refresh token revoked");
      if (why === "expired") return tokenError("invalid_grant", "Refresh token expired");
      const accessToken = state.tokens.issue(ID, "access", rec.accountId, rec.scopes, undefined, issuedTo);
      const body: Record<string, unknown> = {
        access_token: accessToken,
        token_type: "Bearer",
        expires_in: 3600,
        scope: rec.scopes.join(" "),
      };
      if (state.rotateRefreshTokens) {
        // The new refresh token keeps the old one's expiry (refreshing never extends it); the old one stops working.
        body.refresh_token = state.tokens.issue(ID, "refresh", rec.accountId, rec.scopes, rec.expiresAtMs, issuedTo);
        state.tokens.revoke(old);
      }
      return json(200, body);
    }
    return tokenError("unsupported_grant_type", "grant_type parameter is missing or unsupported");
  }

  const routes: Route[] = [
    {
      ...at("authorize"),
      method: "GET",
      pattern: new RegExp(`^${PREFIXES.ACCOUNTS}/authorize$`),
      app: (rq) => rq.query.get("client_id") ?? undefined,
      handle: (rq) => consentPage(state, rules, rq),
    },
    {
      ...at("authorize"),
      method: "POST",
      pattern: new RegExp(`^${PREFIXES.ACCOUNTS}/authorize/decision$`),
      app: (rq) => rq.form.get("client_id") ?? undefined,
      handle: (rq) => decide(state, rules, rq),
    },
    {
      ...at("token"),
      method: "POST",
      pattern: new RegExp(`^${PREFIXES.ACCOUNTS}/api/token$`),
      account: (rq) =>
        state.tokens.peekCode(rq.form.get("code") ?? "")?.accountId ??
        state.tokens.get(rq.form.get("refresh_token") ?? undefined)?.accountId,
      app: tokenClient,
      handle: token,
    },
    {
      ...at("me"),
      method: "GET",
      pattern: api("me"),
      account: tokenOwner,
      app: tokenApp,
      handle: (rq) => {
        const a = authorize(rq);
        return "status" in a ? a : json(200, a.profile(urlsOf(state)));
      },
    },
    {
      ...at("me/playlists"),
      method: "GET",
      pattern: api("me/playlists"),
      account: tokenOwner,
      app: tokenApp,
      handle: (rq) => {
        const a = authorize(rq, "playlist-read-private");
        if ("status" in a) return a;
        const u = urlsOf(state);
        return offsetPage(rq, a.playlistCount, (i) => a.playlist(i, u));
      },
    },
    ...(["artists", "tracks"] as const).map((type): Route => ({
      ...at(`me/top/${type}`),
      method: "GET",
      pattern: api(`me/top/${type}`),
      account: tokenOwner,
      app: tokenApp,
      handle: (rq) => {
        const a = authorize(rq, "user-top-read");
        if ("status" in a) return a;
        const range = rq.query.get("time_range") ?? "medium_term";
        if (!["short_term", "medium_term", "long_term"].includes(range)) return apiError(400, "Invalid time range");
        const all = a.top(type, range, urlsOf(state));
        return offsetPage(rq, all.length, (i) => all[i]);
      },
    })),
    {
      ...at("me/player/recently-played"),
      method: "GET",
      pattern: api("me/player/recently-played"),
      account: tokenOwner,
      app: tokenApp,
      handle: (rq) => {
        const a = authorize(rq, "user-read-recently-played");
        return "status" in a ? a : recentlyPlayed(rq, a);
      },
    },
    {
      ...at("cdn"),
      method: "GET",
      pattern: new RegExp(`^${CDN_PREFIX}/([^/]+)/([^/]+)/(\\d+)\\.jpg$`),
      account: (rq) => decodeURIComponent(rq.params[0]!),
      handle: (rq) => {
        const [account, stem, px] = rq.params as [string, string, string];
        if (!state.accounts[ID].has(decodeURIComponent(account))) return apiError(404, "Not found");
        return {
          status: 200,
          headers: { "content-type": "image/jpeg", "cache-control": "public, max-age=86400" },
          body: jpegFor(`${CDN_PREFIX.slice("/cdn/".length)}/${account}/${stem}`, Number(px)),
        };
      },
    },
  ];

  /**
   * CursorPagingObject of PlayHistoryObjects, newest first, from the window of the latest 50
   * plays visible now (account.playWindow). `after`/`before` are exclusive unix-ms cursors and
   * cannot be combined; `after` gives the newest plays newer than it, `before` those older than
   * it; `next` pages to older plays of the window while some remain.
   */
  function recentlyPlayed(rq: Rq, a: SpotifyAccount): Reply {
    const limit = intParam(rq.query, "limit", 20, 1, MAX_LIMIT);
    if (typeof limit !== "number") return limit;
    const before = rq.query.get("before");
    const after = rq.query.get("after");
    if (before !== null && after !== null) return apiError(400, "Only one of before or after may be given");
    for (const c of [before, after]) if (c !== null && !/^\d{1,15}$/.test(c)) return apiError(400, "Invalid cursor");
    const window = a.playWindow(state.clock.nowMs());
    const inRange =
      after !== null
        ? window.filter((p) => p.playedAtMs > Number(after))
        : before !== null
          ? window.filter((p) => p.playedAtMs < Number(before))
          : window;
    const page = inRange.slice(0, limit);
    const href = new URL(`${state.baseUrl}${rq.url.pathname}${rq.url.search}`).toString();
    if (page.length === 0) {
      // What Spotify sends when there is nothing (more): no cursors, no next.
      return json(200, { href, items: [], limit, next: null, cursors: null });
    }
    const newest = page[0]!.playedAtMs;
    const oldest = page[page.length - 1]!.playedAtMs;
    const moreOlder = window.some((p) => p.playedAtMs < oldest);
    const next = new URL(`${state.baseUrl}${rq.url.pathname}`);
    next.searchParams.set("before", String(oldest));
    next.searchParams.set("limit", String(limit));
    const u = urlsOf(state);
    return json(200, {
      href,
      items: page.map((p) => a.playItem(p, u)),
      limit,
      next: moreOlder ? next.toString() : null,
      cursors: { after: String(newest), before: String(oldest) },
    });
  }

  function faultReply(f: ActiveFault): Reply {
    switch (f.kind) {
      case "429":
        return rateLimited(f.retryAfterSeconds ?? 1);
      case "quota":
        return quotaExceeded(f.retryAfterSeconds ?? 3600);
      case "403":
        return apiError(403, NOT_ALLOW_LISTED);
      case "invalid_grant":
        return tokenError("invalid_grant", "Refresh token revoked");
      case "ig190":
        return graphError(400, "Error validating access token: Session has expired.", 190, 463);
      default: {
        const status = f.status ?? 503;
        return apiError(
          status,
          status === 502 ? "Bad gateway" : status === 500 ? "Server error" : "Service unavailable",
        );
      }
    }
  }

  return { routes, faultReply, rateLimited };
}
