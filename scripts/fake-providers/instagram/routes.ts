/**
 * Fake Instagram's routes (Instagram API with Instagram Login; prefixes in ids.ts): the authorize
 * page under /instagram-www, the code exchange under /instagram-api, and under /instagram-graph
 * (optionally versioned, e.g. /instagram-graph/v23.0/me) the long-lived token exchange, refresh,
 * profile and media.
 * Media files are served from /cdn/instagram with signed, expiring URLs like Instagram's CDN.
 * Errors use the Graph format {"error":{"message","type":"OAuthException","code",…}}.
 */
import { createHmac, randomBytes } from "node:crypto";
import { consentPage, decide, type AuthorizeRules } from "../consent";
import type { ActiveFault } from "../faults";
import { jpegFor, mp4For } from "../images";
import { type Reply, type Rq, bearer, graphError, json } from "../reply";
import type { ProviderHandlers, Route } from "../server";
import type { FakeState } from "../state";
import type { InstagramAccount, MediaItem } from "./account";
import { APP, CDN_PREFIX, ENDPOINTS, type Endpoint, ID, PREFIXES } from "./ids";
import { LIFETIMES } from "./tokens";

const RULES: AuthorizeRules = {
  provider: ID,
  clientId: APP.clientId,
  scopeSeparator: /[\s,]+/,
  fragment: "#_",
  denyExtras: { error_reason: "user_denied", error_description: "The user denied your request." },
};
const GRAPH = `${PREFIXES.GRAPH}(?:/v\\d+\\.\\d+)?`;
const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 100;
const DAY_MS = 24 * 3600_000;
/** CDN URLs stay valid this long (Instagram's expire after a few days). */
export const CDN_URL_LIFETIME_MS = 3 * DAY_MS;

const PROFILE_FIELDS = new Set([
  "id",
  "user_id",
  "username",
  "name",
  "account_type",
  "media_count",
  "followers_count",
  "follows_count",
  "profile_picture_url",
]);
const MEDIA_FIELDS = new Set([
  "id",
  "caption",
  "media_type",
  "media_url",
  "permalink",
  "thumbnail_url",
  "timestamp",
  "username",
  "like_count",
  "comments_count",
  "children",
]);

/** api.instagram.com's own (older) error shape. */
const oauthError = (message: string, status = 400) =>
  json(status, { error_type: "OAuthException", code: status, error_message: message });

export function rateLimited(retryAfterSeconds: number): Reply {
  const r = graphError(429, "Application request limit reached", 4, undefined, { is_transient: true });
  r.headers = {
    ...r.headers,
    "retry-after": String(retryAfterSeconds),
    "x-app-usage": JSON.stringify({ call_count: 100, total_cputime: 30, total_time: 40 }),
  };
  return r;
}

/** Parses a Graph `fields` list with nested sub-fields: "id,children{id,media_url}". */
export function parseFields(spec: string): Map<string, Map<string, unknown>> {
  const out = new Map<string, Map<string, unknown>>();
  let i = 0;
  const readList = (into: Map<string, Map<string, unknown>>, closing: string) => {
    while (i < spec.length && spec[i] !== closing) {
      let name = "";
      while (i < spec.length && !",{}".includes(spec[i]!)) name += spec[i++];
      const sub = new Map<string, Map<string, unknown>>();
      if (spec[i] === "{") {
        i++;
        readList(sub, "}");
        i++; // "}"
      }
      if (name.trim()) into.set(name.trim(), sub as Map<string, unknown>);
      if (spec[i] === ",") i++;
    }
  };
  readList(out, "\u0000");
  return out;
}

/** A route's provider, endpoint name and kind. */
const at = (endpoint: Endpoint) => ({ provider: ID, endpoint, kind: ENDPOINTS[endpoint] });

export function instagramHandlers(state: FakeState): ProviderHandlers {
  const cdnSecret = randomBytes(16);
  const sign = (path: string, oe: string) =>
    createHmac("sha256", cdnSecret).update(`${path}|${oe}`).digest("hex").slice(0, 16);

  /** "CDN:instagram/…" → a signed URL on this server that expires ~3 days from today (fake clock). */
  function cdnUrl(rel: string): string {
    const path = `/cdn/${rel.slice("CDN:".length)}`;
    const expiry = Math.floor((Math.floor(state.clock.nowMs() / DAY_MS) * DAY_MS + CDN_URL_LIFETIME_MS) / 1000);
    const oe = expiry.toString(16);
    return `${state.baseUrl}${path}?_nc_ht=fake&oh=${sign(path, oe)}&oe=${oe}`;
  }

  const tokenOf = (rq: Rq) => rq.query.get("access_token") ?? bearer(rq.headers);
  const tokenOwner = (rq: Rq) => state.tokens.get(tokenOf(rq) ?? undefined)?.accountId;

  function graphAuth(rq: Rq): InstagramAccount | Reply {
    const token = tokenOf(rq);
    if (!token) {
      return graphError(400, "An active access token must be used to query information about the current user.", 2500);
    }
    const rec = state.tokens.get(token);
    const why = state.tokens.problem(rec, ["ig-short", "ig-long"]);
    if (why === "missing") return graphError(400, "Invalid OAuth access token - Cannot parse access token", 190);
    if (why === "expired") {
      return graphError(
        400,
        `Error validating access token: Session has expired on ${new Date(rec!.expiresAtMs).toUTCString()}. ` +
          `The current time is ${state.clock.now().toUTCString()}.`,
        190,
        463,
      );
    }
    if (why === "revoked") {
      return graphError(
        400,
        "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
        190,
        460,
      );
    }
    const account = state.accounts[ID].get(rec!.accountId) as InstagramAccount | undefined;
    if (!account) return graphError(400, "Invalid OAuth access token - Cannot parse access token", 190);
    return account;
  }

  /** Resolves the node in the path ("me" or the account's ids) for the token's account. */
  function node(rq: Rq): InstagramAccount | Reply {
    const a = graphAuth(rq);
    if ("status" in a) return a;
    const id = rq.params[0] ?? "me";
    if (id !== "me" && id !== a.id && id !== a.appScopedId) {
      return graphError(400, `Unsupported get request. Object with ID '${id}' does not exist.`, 100, 33);
    }
    return a;
  }

  function pick(
    source: Record<string, unknown>,
    fields: Map<string, Map<string, unknown>>,
    allowed: Set<string>,
    nodeType: string,
  ): Record<string, unknown> | Reply {
    const out: Record<string, unknown> = {};
    for (const [name] of fields) {
      if (!allowed.has(name)) {
        return graphError(400, `(#100) Tried accessing nonexisting field (${name}) on node type (${nodeType})`, 100);
      }
      const v = source[name];
      if (v === undefined) continue;
      out[name] = typeof v === "string" && v.startsWith("CDN:") ? cdnUrl(v) : v;
    }
    if (!("id" in out) && source.id !== undefined) out.id = source.id;
    return out;
  }

  function mediaFields(item: MediaItem, fields: Map<string, Map<string, unknown>>): Record<string, unknown> | Reply {
    const picked = pick(item as unknown as Record<string, unknown>, fields, MEDIA_FIELDS, "IGMedia");
    if ("status" in picked && typeof picked.status === "number" && "body" in picked) return picked as Reply;
    const out = picked as Record<string, unknown>;
    delete out.children;
    const childFields = fields.get("children") as Map<string, Map<string, unknown>> | undefined;
    if (childFields && item.children) {
      const sub = childFields.size > 0 ? childFields : new Map([["id", new Map()]]);
      const data = [];
      for (const child of item.children) {
        const c = pick(child as unknown as Record<string, unknown>, sub, MEDIA_FIELDS, "IGMedia");
        if (isReply(c)) return c;
        data.push(c);
      }
      out.children = { data };
    }
    return out;
  }

  function exchangeCode(rq: Rq): Reply {
    const f = rq.form;
    if (f.get("client_id") !== APP.clientId) return oauthError("Invalid platform app");
    if (f.get("client_secret") !== APP.clientSecret) return oauthError("Error validating client secret.");
    if (f.get("grant_type") !== "authorization_code") return oauthError("Invalid grant_type");
    const code = (f.get("code") ?? "").replace(/#_$/, "");
    const peek = state.tokens.peekCode(code);
    if (!peek || peek.provider !== ID) return oauthError("Invalid authorization code");
    if (peek.redirectUri !== f.get("redirect_uri")) {
      return oauthError(
        "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
      );
    }
    const rec = state.tokens.redeemCode(code);
    if (!rec) return oauthError("This authorization code has been used");
    const token = state.tokens.issue(ID, "ig-short", rec.accountId, rec.scopes);
    // user_id is a bare JSON number, as Instagram sends it: 17 digits exceed 2^53, so JSON.parse
    // rounds it. Clients should take the id from GET /me (user_id there is a string).
    const body =
      `{"access_token":${JSON.stringify(token)},"user_id":${/^\d+$/.test(rec.accountId) ? rec.accountId : JSON.stringify(rec.accountId)},` +
      `"permissions":${JSON.stringify(rec.scopes)}}`;
    return { status: 200, headers: { "content-type": "application/json; charset=utf-8" }, body };
  }

  function exchangeLongLived(rq: Rq): Reply {
    if (rq.query.get("grant_type") !== "ig_exchange_token") return graphError(400, "Unsupported grant type", 100);
    if (rq.query.get("client_secret") !== APP.clientSecret) {
      return graphError(400, "Error validating client secret.", 1);
    }
    const rec = state.tokens.get(rq.query.get("access_token") ?? undefined);
    if (rec && rec.kind !== "ig-short")
      return graphError(400, "Invalid OAuth access token - Cannot parse access token", 190);
    const a = graphAuth(rq);
    if ("status" in a) return a;
    const token = state.tokens.issue(ID, "ig-long", a.id, rec!.scopes);
    return json(200, { access_token: token, token_type: "bearer", expires_in: LIFETIMES.longMs / 1000 });
  }

  function refreshLongLived(rq: Rq): Reply {
    if (rq.query.get("grant_type") !== "ig_refresh_token") return graphError(400, "Unsupported grant type", 100);
    const a = graphAuth(rq);
    if ("status" in a) return a;
    const rec = state.tokens.get(tokenOf(rq) ?? undefined)!;
    if (rec.kind !== "ig-long") return graphError(400, "Only long-lived access tokens can be refreshed.", 100);
    if (state.clock.nowMs() - rec.issuedAtMs < LIFETIMES.minRefreshAgeMs) {
      return graphError(400, "The access token is less than 24 hours old and cannot be refreshed yet.", 100);
    }
    const token = state.tokens.issue(ID, "ig-long", a.id, rec.scopes);
    return json(200, { access_token: token, token_type: "bearer", expires_in: LIFETIMES.longMs / 1000 });
  }

  function media(rq: Rq, a: InstagramAccount): Reply {
    const fields = parseFields(rq.query.get("fields") ?? "id");
    const rawLimit = rq.query.get("limit");
    const limit = rawLimit === null ? DEFAULT_LIMIT : Math.min(MAX_LIMIT, Number(rawLimit));
    if (!Number.isInteger(limit) || limit < 1)
      return graphError(400, "(#100) Param limit must be a positive integer", 100);
    const cursor = (i: number) => Buffer.from(`fake:${a.id}:${i}`).toString("base64url");
    let start = 0;
    const after = rq.query.get("after");
    if (after !== null) {
      const m = /^fake:([^:]+):(\d+)$/.exec(Buffer.from(after, "base64url").toString("utf8"));
      if (!m || m[1] !== a.id) return graphError(400, "(#100) Invalid cursor", 100);
      start = Number(m[2]) + 1;
    }
    const end = Math.min(a.mediaCount, start + limit);
    const data = [];
    for (let i = start; i < end; i++) {
      const item = mediaFields(a.media(i), fields);
      if (isReply(item)) return item;
      data.push(item);
    }
    if (data.length === 0) return json(200, { data: [] });
    const paging: Record<string, unknown> = { cursors: { before: cursor(start), after: cursor(end - 1) } };
    if (end < a.mediaCount) {
      // Like Graph's, the next link carries the access token and points at the versioned node path.
      const next = new URL(`${state.baseUrl}${PREFIXES.GRAPH}/v23.0/${a.id}/media`);
      next.searchParams.set("access_token", tokenOf(rq) ?? "");
      next.searchParams.set("fields", rq.query.get("fields") ?? "id");
      next.searchParams.set("limit", String(limit));
      next.searchParams.set("after", cursor(end - 1));
      paging.next = next.toString();
    }
    if (start > 0) {
      const prev = new URL(`${state.baseUrl}${PREFIXES.GRAPH}/v23.0/${a.id}/media`);
      prev.searchParams.set("access_token", tokenOf(rq) ?? "");
      prev.searchParams.set("fields", rq.query.get("fields") ?? "id");
      prev.searchParams.set("limit", String(limit));
      prev.searchParams.set("before", cursor(start));
      paging.previous = prev.toString();
    }
    return json(200, { data, paging });
  }

  function cdnFile(rq: Rq): Reply {
    const [account, stem, file] = rq.params as [string, string, string];
    const path = rq.url.pathname;
    const oe = rq.query.get("oe") ?? "";
    const forbidden = (msg: string) => ({ status: 403, headers: { "content-type": "text/plain" }, body: msg });
    if (!state.accounts[ID].has(decodeURIComponent(account))) return { status: 404, body: "Not found" };
    if (rq.query.get("oh") !== sign(path, oe)) return forbidden("Bad URL hash");
    if (parseInt(oe, 16) * 1000 <= state.clock.nowMs()) return forbidden("URL signature expired");
    const key = `${CDN_PREFIX.slice("/cdn/".length)}/${account}/${stem}`;
    return file === "video.mp4"
      ? { status: 200, headers: { "content-type": "video/mp4" }, body: mp4For(key) }
      : { status: 200, headers: { "content-type": "image/jpeg" }, body: jpegFor(key, Number(file.split(".")[0])) };
  }

  const routes: Route[] = [
    {
      ...at("authorize"),
      method: "GET",
      pattern: new RegExp(`^${PREFIXES.AUTHORIZE}/oauth/authorize/?$`),
      handle: (rq) => consentPage(state, RULES, rq),
    },
    {
      ...at("authorize"),
      method: "POST",
      pattern: new RegExp(`^${PREFIXES.AUTHORIZE}/oauth/authorize/decision$`),
      handle: (rq) => decide(state, RULES, rq),
    },
    {
      ...at("token"),
      method: "POST",
      pattern: new RegExp(`^${PREFIXES.OAUTH}/oauth/access_token$`),
      account: (rq) => state.tokens.peekCode((rq.form.get("code") ?? "").replace(/#_$/, ""))?.accountId,
      handle: exchangeCode,
    },
    {
      ...at("access_token"),
      method: "GET",
      pattern: new RegExp(`^${GRAPH}/access_token$`),
      account: tokenOwner,
      handle: exchangeLongLived,
    },
    {
      ...at("refresh_access_token"),
      method: "GET",
      pattern: new RegExp(`^${GRAPH}/refresh_access_token$`),
      account: tokenOwner,
      handle: refreshLongLived,
    },
    {
      ...at("me"),
      method: "GET",
      pattern: new RegExp(`^${GRAPH}/(me|\\d+)$`),
      account: tokenOwner,
      handle: (rq) => {
        const a = node(rq);
        if (isReply(a)) return a;
        const picked = pick(a.profile(), parseFields(rq.query.get("fields") ?? "id"), PROFILE_FIELDS, "User");
        return isReply(picked) ? picked : json(200, picked);
      },
    },
    {
      ...at("media"),
      method: "GET",
      pattern: new RegExp(`^${GRAPH}/(me|\\d+)/media$`),
      account: tokenOwner,
      handle: (rq) => {
        const a = node(rq);
        return isReply(a) ? a : media(rq, a);
      },
    },
    {
      ...at("cdn"),
      method: "GET",
      pattern: new RegExp(`^${CDN_PREFIX}/([^/]+)/([^/]+)/(\\d+\\.jpg|video\\.mp4)$`),
      account: (rq) => decodeURIComponent(rq.params[0]!),
      handle: cdnFile,
    },
  ];

  function faultReply(f: ActiveFault, route: Route): Reply {
    switch (f.kind) {
      case "429":
        return rateLimited(f.retryAfterSeconds ?? 1);
      case "403":
        return graphError(403, "(#10) Application does not have permission for this action", 10);
      case "invalid_grant":
        return route.endpoint === "token"
          ? oauthError("This authorization code has been used")
          : graphError(400, "Error validating access token: Session has expired.", 190, 463);
      case "ig190":
        return graphError(
          400,
          "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
          190,
          460,
        );
      default: {
        const status = f.status ?? 503;
        return graphError(status, "(#2) Service temporarily unavailable", 2, undefined, { is_transient: true });
      }
    }
  }

  return { routes, faultReply, rateLimited };
}

function isReply(x: unknown): x is Reply {
  return (
    typeof x === "object" && x !== null && "status" in x && typeof (x as Reply).status === "number" && "headers" in x
  );
}
