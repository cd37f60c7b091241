/**
 * Fake YouTube's routes (prefixes in ids.ts): Google's consent page under /google-accounts
 * (/o/oauth2/v2/auth), its token, revocation and tokeninfo endpoints under /google-oauth2, the
 * YouTube Data API v3 at the fake's root (/youtube/v3/channels, videos, subscriptions,
 * playlists), and thumbnails under /cdn/youtube (laid out like i.ytimg.com: vi/{id}/mqdefault.jpg).
 *
 * Behaviour follows Google's: a refresh token only for access_type=offline with prompt=consent,
 * granular consent (the person may untick the YouTube scope), refreshes that keep the refresh
 * token, revocation of the whole grant, Data API errors in Google's shape
 * {"error":{"code","message","errors":[{message,domain,reason}],"status"}}, opaque page tokens,
 * and statistics as strings.
 */
import { consentPage, decide, type AuthorizeRules } from "../consent";
import type { ActiveFault } from "../faults";
import { hash } from "../data";
import { jpegFor } from "../images";
import { type Reply, type Rq, basicAuth, bearer, escapeHtml, graphError, html, json, redirect } from "../reply";
import type { ProviderHandlers, Route } from "../server";
import type { FakeState } from "../state";
import { type Resource, type Urls, type YouTubeAccount, etagOf } from "./account";
import {
  APP,
  BASIC_SCOPES,
  CDN_PREFIX,
  DATA_PATH,
  ENDPOINTS,
  type Endpoint,
  ID,
  PREFIXES,
  READ_SCOPES,
  YOUTUBE_READONLY,
} from "./ids";
import { LIFETIMES, grantAccess, grantsOf, openGrant, revokeGrant } from "./tokens";

const RULES: AuthorizeRules = {
  provider: ID,
  clientId: APP.clientId,
  scopeSeparator: /\s+/,
  fragment: "",
  denyExtras: {},
};
const MAX_RESULTS = 50;
const DEFAULT_MAX_RESULTS = 5;
const AUTHORIZE_PATH = `${PREFIXES.AUTHORIZE}/o/oauth2/v2/auth`;
const GOOGLE_REALM = 'Bearer realm="https://accounts.google.com/"';

// --- Google's error shapes ------------------------------------------------------------------------

export interface GoogleErrorItem {
  message?: string;
  domain: string;
  reason: string;
  location?: string;
  locationType?: string;
}

/** A Google API error: {"error":{"code","message","errors":[…],"status"}} (the item's message defaults to the error's). */
export function googleError(
  code: number,
  status: string,
  message: string,
  item: GoogleErrorItem,
  headers: Record<string, string> = {},
): Reply {
  return json(code, { error: { code, message, errors: [{ message, ...item }], status } }, headers);
}

const badParameter = (reason: string, message: string, location: string, domain = "youtube.parameter") =>
  googleError(400, "INVALID_ARGUMENT", message, { domain, reason, location, locationType: "parameter" });

export const QUOTA_MESSAGE =
  'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.';

export function quotaExceeded(): Reply {
  return googleError(403, "PERMISSION_DENIED", QUOTA_MESSAGE, { domain: "youtube.quota", reason: "quotaExceeded" });
}

/** Google's short rate limit: 429 RESOURCE_EXHAUSTED, or (status 403) the older 403 rateLimitExceeded. */
export function rateLimited(retryAfterSeconds: number, status = 429): Reply {
  const headers = { "retry-after": String(retryAfterSeconds) };
  return status === 403
    ? googleError(
        403,
        "PERMISSION_DENIED",
        "The request cannot be completed because you have exceeded your rate limit.",
        { domain: "usageLimits", reason: "rateLimitExceeded" },
        headers,
      )
    : googleError(
        429,
        "RESOURCE_EXHAUSTED",
        "Resource has been exhausted (e.g. check quota).",
        { domain: "global", reason: "rateLimitExceeded" },
        headers,
      );
}

function unauthenticated(missing: boolean): Reply {
  const message = missing
    ? "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
    : "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
  return json(
    401,
    {
      error: {
        code: 401,
        message,
        errors: [
          {
            message: missing ? "Login Required." : "Invalid Credentials",
            domain: "global",
            reason: "authError",
            location: "Authorization",
            locationType: "header",
          },
        ],
        status: "UNAUTHENTICATED",
      },
    },
    { "www-authenticate": missing ? GOOGLE_REALM : `${GOOGLE_REALM}, error="invalid_token"` },
  );
}

function insufficientScope(): Reply {
  const message = "Request had insufficient authentication scopes.";
  return json(
    403,
    {
      error: {
        code: 403,
        message,
        errors: [{ message: "Insufficient Permission", domain: "global", reason: "insufficientPermissions" }],
        status: "PERMISSION_DENIED",
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            domain: "googleapis.com",
            metadata: { service: "youtube.googleapis.com" },
          },
        ],
      },
    },
    { "www-authenticate": `${GOOGLE_REALM}, error="insufficient_scope", scope="${YOUTUBE_READONLY}"` },
  );
}

/** The Data API switched off for the app's project: the app-level 403 (the "403" fault). */
function accessNotConfigured(): Reply {
  return googleError(
    403,
    "PERMISSION_DENIED",
    "YouTube Data API v3 has not been used in project 123456789012 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/youtube.googleapis.com/overview?project=123456789012 then retry.",
    { domain: "usageLimits", reason: "accessNotConfigured" },
  );
}

function backendError(status: number): Reply {
  const [message, name] =
    status === 500
      ? ["Internal error encountered.", "INTERNAL"]
      : status === 503
        ? ["The service is currently unavailable.", "UNAVAILABLE"]
        : ["Backend Error", status === 504 ? "DEADLINE_EXCEEDED" : "UNAVAILABLE"];
  return googleError(status, name, message, { domain: "global", reason: "backendError" });
}

/** Google's OAuth endpoints answer {"error","error_description"}. */
const oauthError = (status: number, error: string, description: string) =>
  json(status, { error, error_description: description });
const expiredOrRevoked = () => oauthError(400, "invalid_grant", "Token has been expired or revoked.");

// --- Page tokens ----------------------------------------------------------------------------------

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return out;
}

const check = (list: string, offset: number) => [...hash("yt-page", list, offset).subarray(0, 4)];

/**
 * A page token: like YouTube's, a small protobuf in base64 (field 1 the offset, field 2 the
 * direction: "CAUQAA" is offset 5 forward), plus a checksum of the list it belongs to, so a
 * token of another list, account or order is refused. Clients must treat it as opaque.
 */
export function pageToken(list: string, offset: number, back = false): string {
  return Buffer.from([0x08, ...varint(offset), 0x10, back ? 1 : 0, 0x1a, 4, ...check(list, offset)]).toString(
    "base64url",
  );
}

/** The offset a page token of `list` stands for, or undefined when it is not one. */
export function readPageToken(list: string, token: string): number | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const b = Buffer.from(token, "base64url");
  let i = 0;
  if (b[i++] !== 0x08) return undefined;
  let offset = 0;
  for (let shift = 1; ; shift *= 128) {
    const byte = b[i++];
    if (byte === undefined || shift > 2 ** 28) return undefined;
    offset += (byte & 0x7f) * shift;
    if (!(byte & 0x80)) break;
  }
  if (b[i++] !== 0x10 || (b[i] !== 0 && b[i] !== 1)) return undefined;
  i++;
  if (b[i++] !== 0x1a || b[i++] !== 4 || b.length !== i + 4) return undefined;
  const sum = check(list, offset);
  return sum.every((x, j) => b[i + j] === x) ? offset : undefined;
}

// --- Request parameters ---------------------------------------------------------------------------

/** The `part` values of a request (comma-separated, and/or repeated), or the 400 Google answers. */
function partsOf(rq: Rq, allowed: readonly string[]): Set<string> | Reply {
  const parts = rq.query
    .getAll("part")
    .flatMap((p) => p.split(","))
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) {
    return googleError(400, "INVALID_ARGUMENT", "Required parameter: part", {
      domain: "global",
      reason: "required",
      location: "part",
      locationType: "parameter",
    });
  }
  const unknown = parts.find((p) => !allowed.includes(p));
  if (unknown !== undefined) return badParameter("unknownPart", `'${unknown}'`, "part", "youtube.part");
  return new Set(parts);
}

function maxResultsOf(rq: Rq): number | Reply {
  const raw = rq.query.get("maxResults");
  if (raw === null) return DEFAULT_MAX_RESULTS;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > MAX_RESULTS) {
    return badParameter(
      "invalidParameter",
      `Invalid value '${raw}'. Values must be within the range: [0, ${MAX_RESULTS}]`,
      "maxResults",
    );
  }
  return n;
}

const isReply = (x: unknown): x is Reply =>
  typeof x === "object" && x !== null && typeof (x as Reply).status === "number" && "body" in x;

/** A resource with only the requested parts (kind, etag and id always), its etag over what is sent. */
function render(r: Resource, parts: Set<string>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(r.parts)) if (parts.has(name)) picked[name] = value;
  return { kind: r.kind, etag: etagOf([r.id, picked]), id: r.id, ...picked };
}

/** The parts each listing accepts (Google's documented parts; the fake fills the ones it generates). */
const PARTS = {
  channels: [
    "auditDetails",
    "brandingSettings",
    "contentDetails",
    "contentOwnerDetails",
    "id",
    "localizations",
    "snippet",
    "statistics",
    "status",
    "topicDetails",
  ],
  videos: [
    "contentDetails",
    "fileDetails",
    "id",
    "liveStreamingDetails",
    "localizations",
    "player",
    "processingDetails",
    "recordingDetails",
    "snippet",
    "statistics",
    "status",
    "suggestions",
    "topicDetails",
  ],
  subscriptions: ["contentDetails", "id", "snippet", "subscriberSnippet"],
  playlists: ["contentDetails", "id", "localizations", "player", "snippet", "status"],
} as const;

const SUBSCRIPTION_ORDERS = ["alphabetical", "relevance", "unread"] as const;

/** A route's provider, endpoint name and kind. */
const at = (endpoint: Endpoint) => ({ provider: ID, endpoint, kind: ENDPOINTS[endpoint] });

/** The fake's own URLs that generated data points at. */
export function urlsOf(state: FakeState): Urls {
  return { cdn: `${state.baseUrl}${CDN_PREFIX}` };
}

export function youtubeHandlers(state: FakeState): ProviderHandlers {
  const grants = grantsOf(state);
  const accessTokenOf = (rq: Rq) => bearer(rq.headers) ?? rq.query.get("access_token") ?? undefined;
  const tokenOwner = (rq: Rq) => state.tokens.get(accessTokenOf(rq))?.accountId;

  // --- Consent -----------------------------------------------------------------------------------

  /** Google's checks of the authorize request, beyond the shared ones (client, response type, redirect). */
  function authorizeProblem(q: URLSearchParams): string | undefined {
    const scope = q.get("scope");
    if (!scope?.trim()) return "Error 400: invalid_request — Missing required parameter: scope";
    const invalid = scope
      .split(/\s+/)
      .filter((s) => s && !BASIC_SCOPES.includes(s) && !s.startsWith("https://www.googleapis.com/auth/"));
    if (invalid.length > 0) {
      return `Error 400: invalid_scope — Some requested scopes were invalid. {invalid=[${invalid.join(", ")}]}`;
    }
    const access = q.get("access_type");
    if (access !== null && access !== "online" && access !== "offline") {
      return `Error 400: invalid_request — Invalid access_type: ${access}`;
    }
    const prompts = (q.get("prompt") ?? "").split(/\s+/).filter(Boolean);
    const bad = prompts.find((p) => !["none", "consent", "select_account"].includes(p));
    if (bad !== undefined) return `Error 400: invalid_request — Invalid prompt: ${bad}`;
    if (prompts.includes("none") && prompts.length > 1) {
      return "Error 400: invalid_request — prompt=none must not be combined with other values";
    }
    return undefined;
  }

  const errorPage = (why: string) =>
    html(400, `<!doctype html><title>Error</title><h1>Access blocked</h1><p>${escapeHtml(why)}</p>`);

  /**
   * The shared consent page plus Google's granular consent: a checkbox per requested scope other
   * than the sign-in ones, which the person may untick (the app then gets only "openid").
   */
  function authorizePage(rq: Rq): Reply {
    const why = authorizeProblem(rq.query);
    if (why) return errorPage(why);
    const page = consentPage(state, RULES, rq);
    if (page.status !== 200 || typeof page.body !== "string") return page;
    const requested = (rq.query.get("scope") ?? "").split(/\s+/).filter(Boolean);
    const boxes = requested.map((s) =>
      BASIC_SCOPES.includes(s)
        ? `<label><input type="checkbox" checked disabled> ${escapeHtml(s)} (always shared)</label><br>`
        : `<label><input type="checkbox" name="granted_scope" value="${escapeHtml(s)}" checked> ${escapeHtml(s)}</label><br>`,
    );
    const granular = `<fieldset><legend>Select what the app can access</legend>
      <input type="hidden" name="granular" value="1">
      ${boxes.join("\n      ")}
    </fieldset>
    `;
    const cut = page.body.indexOf("<button");
    const body = cut < 0 ? page.body : `${page.body.slice(0, cut)}${granular}${page.body.slice(cut)}`;
    return { ...page, body };
  }

  /**
   * The consent decision. A form with `granular=1` (the page's) grants the sign-in scopes plus the
   * ticked ones; a form without it (a test posting the decision itself) grants all it asked for.
   * Allowed: Google's redirect also carries the granted `scope`, `authuser` and `prompt`.
   */
  function decision(rq: Rq): Reply {
    const f = new URLSearchParams(rq.form);
    const why = authorizeProblem(f);
    if (why) return errorPage(why);
    const requested = (f.get("scope") ?? "").split(/\s+/).filter(Boolean);
    const ticked = new Set(f.getAll("granted_scope"));
    const granted =
      f.get("granular") === "1" ? requested.filter((s) => BASIC_SCOPES.includes(s) || ticked.has(s)) : requested;
    f.delete("granular");
    f.delete("granted_scope");
    f.set("scope", granted.join(" "));
    const reply = decide(state, RULES, { ...rq, form: f });
    const location = reply.headers?.location;
    if (reply.status !== 302 || !location) return reply;
    const back = new URL(location);
    const code = back.searchParams.get("code");
    if (code === null) return reply;
    const offline = f.get("access_type") === "offline";
    const consented = (f.get("prompt") ?? "").split(/\s+/).includes("consent");
    grants.noteCode(code, { offline, refresh: offline && consented });
    back.searchParams.set("scope", granted.join(" "));
    back.searchParams.set("authuser", "0");
    back.searchParams.set("prompt", "consent");
    return redirect(back.toString());
  }

  // --- Tokens -------------------------------------------------------------------------------------

  /** An unsigned-looking JWT with Google's claims (an opaque string to the product; `sub` = the account). */
  function idToken(accountId: string): string {
    const now = Math.floor(state.clock.nowMs() / 1000);
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const claims = {
      iss: "https://accounts.google.com",
      azp: APP.clientId,
      aud: APP.clientId,
      sub: accountId,
      iat: now,
      exp: now + LIFETIMES.accessMs / 1000,
    };
    const signature = hash("yt-id-token", accountId, now).toString("base64url");
    return `${part({ alg: "RS256", kid: "fake", typ: "JWT" })}.${part(claims)}.${signature}`;
  }

  function token(rq: Rq): Reply {
    // Google takes the client credentials in the form (client_secret_post) or as Basic auth.
    const basic = basicAuth(rq.headers);
    const clientId = basic?.id ?? rq.form.get("client_id");
    const clientSecret = basic?.secret ?? rq.form.get("client_secret");
    if (clientId !== APP.clientId) return oauthError(401, "invalid_client", "The OAuth client was not found.");
    if (clientSecret !== APP.clientSecret) return oauthError(401, "invalid_client", "Unauthorized");
    const grantType = rq.form.get("grant_type");
    if (grantType === "authorization_code") {
      const code = rq.form.get("code");
      if (!code) return oauthError(400, "invalid_request", "Missing required parameter: code");
      const peek = state.tokens.peekCode(code);
      if (!peek || peek.provider !== ID || peek.clientId !== clientId) return expiredOrRevoked();
      if (peek.redirectUri !== rq.form.get("redirect_uri")) {
        return oauthError(400, "redirect_uri_mismatch", "Bad Request");
      }
      const rec = state.tokens.redeemCode(code);
      if (!rec) return expiredOrRevoked();
      const terms = grants.takeCode(code) ?? { offline: false, refresh: false };
      const { grant, accessToken } = openGrant(state, rec.accountId, rec.scopes, terms);
      const body: Record<string, unknown> = {
        access_token: accessToken,
        expires_in: LIFETIMES.accessMs / 1000,
        scope: rec.scopes.join(" "),
        token_type: "Bearer",
      };
      if (grant.refreshToken) body.refresh_token = grant.refreshToken;
      if (rec.scopes.includes("openid")) body.id_token = idToken(rec.accountId);
      return json(200, body);
    }
    if (grantType === "refresh_token") {
      const refreshToken = rq.form.get("refresh_token");
      if (!refreshToken) return oauthError(400, "invalid_request", "Missing required parameter: refresh_token");
      const rec = state.tokens.get(refreshToken);
      const grant = grants.of(refreshToken);
      if (!rec || rec.provider !== ID || state.tokens.problem(rec, ["refresh"]) || !grant) return expiredOrRevoked();
      // Google never rotates refresh tokens (whatever rotateRefreshTokens says): no refresh_token here.
      const body: Record<string, unknown> = {
        access_token: grantAccess(state, grant),
        expires_in: LIFETIMES.accessMs / 1000,
        scope: grant.scopes.join(" "),
        token_type: "Bearer",
      };
      if (grant.scopes.includes("openid")) body.id_token = idToken(grant.accountId);
      return json(200, body);
    }
    if (!grantType) return oauthError(400, "invalid_request", "Missing required parameter: grant_type");
    return oauthError(400, "unsupported_grant_type", `Invalid grant_type: ${grantType}`);
  }

  /** POST /revoke: `token` in the form, or in the query as Google's client library sends it. */
  function revoke(rq: Rq): Reply {
    const t = rq.form.get("token") ?? rq.query.get("token");
    if (!t) return oauthError(400, "invalid_request", "Missing required parameter: token");
    if (!revokeGrant(state, t)) return oauthError(400, "invalid_token", "Token expired or revoked");
    return json(200, {});
  }

  /** GET ?access_token=, or POST with the token in the form or as a bearer (Google's client library). */
  function tokeninfo(rq: Rq): Reply {
    const t = rq.query.get("access_token") ?? rq.form.get("access_token") ?? bearer(rq.headers);
    const rec = state.tokens.get(t ?? undefined);
    if (!rec || rec.provider !== ID || state.tokens.problem(rec, ["access"])) {
      return oauthError(400, "invalid_token", "Invalid Value");
    }
    const grant = grants.of(t ?? undefined);
    return json(200, {
      azp: APP.clientId,
      aud: APP.clientId,
      sub: rec.accountId,
      scope: rec.scopes.join(" "),
      exp: String(Math.floor(rec.expiresAtMs / 1000)),
      expires_in: String(Math.max(0, Math.floor((rec.expiresAtMs - state.clock.nowMs()) / 1000))),
      access_type: grant?.offline === false ? "online" : "offline",
    });
  }

  // --- Data API -----------------------------------------------------------------------------------

  /** Checks the bearer token (or access_token parameter) and its scope; returns the account or the error reply. */
  function dataAuth(rq: Rq): YouTubeAccount | Reply {
    const t = accessTokenOf(rq);
    if (!t) return unauthenticated(true);
    const rec = state.tokens.get(t);
    if (!rec || rec.provider !== ID || state.tokens.problem(rec, ["access"])) return unauthenticated(false);
    const account = state.accounts[ID].get(rec.accountId) as YouTubeAccount | undefined;
    if (!account) return unauthenticated(false);
    if (!rec.scopes.some((s) => READ_SCOPES.includes(s))) return insufficientScope();
    return account;
  }

  /** A list response: pageToken paging over `total` items, maxResults 0..50 (default 5). */
  function listing(
    rq: Rq,
    kind: string,
    list: string,
    parts: Set<string>,
    total: number,
    item: (i: number) => Resource,
  ): Reply {
    const max = maxResultsOf(rq);
    if (isReply(max)) return max;
    let start = 0;
    const tokenParam = rq.query.get("pageToken");
    if (tokenParam) {
      const offset = readPageToken(list, tokenParam);
      if (offset === undefined) {
        return badParameter("invalidPageToken", "The request specifies an invalid page token.", "pageToken");
      }
      start = offset;
    }
    const end = Math.min(total, start + max);
    const items: Record<string, unknown>[] = [];
    for (let i = start; i < end; i++) items.push(render(item(i), parts));
    const body: Record<string, unknown> = { kind, etag: etagOf([total, start, items]) };
    if (end < total) body.nextPageToken = pageToken(list, end);
    if (start > 0) body.prevPageToken = pageToken(list, Math.max(0, start - max), true);
    body.pageInfo = { totalResults: total, resultsPerPage: max };
    body.items = items;
    return json(200, body);
  }

  const mineRequired = (rq: Rq, filters: string) =>
    rq.query.get("mine") === "true"
      ? undefined
      : badParameter(
          "missingRequiredParameter",
          `No filter selected. Expected one of: ${filters}`,
          "parameters.",
          "youtube.parameter",
        );

  function channels(rq: Rq, a: YouTubeAccount): Reply {
    const parts = partsOf(rq, PARTS.channels);
    if (isReply(parts)) return parts;
    const missing = mineRequired(
      rq,
      "forUsername, managedByMe, categoryId, mine, mySubscribers, id, idParam, forHandle",
    );
    if (missing) return missing;
    const channel = a.channel(urlsOf(state));
    const reply = listing(
      rq,
      "youtube#channelListResponse",
      `${a.id}:channels`,
      parts,
      channel ? 1 : 0,
      () => channel!,
    );
    if (channel || reply.status !== 200) return reply;
    // No channel: no `items` key at all (not an empty list), as YouTube answers.
    const body = JSON.parse(String(reply.body)) as Record<string, unknown>;
    delete body.items;
    return json(200, body);
  }

  function videos(rq: Rq, a: YouTubeAccount): Reply {
    const parts = partsOf(rq, PARTS.videos);
    if (isReply(parts)) return parts;
    const rating = rq.query.get("myRating");
    if (rating === null) {
      return badParameter(
        "missingRequiredParameter",
        "No filter selected. Expected one of: chart, id, myRating",
        "parameters.",
      );
    }
    if (rating !== "like" && rating !== "dislike") {
      return badParameter("invalidParameter", `Invalid value '${rating}' for myRating.`, "myRating");
    }
    // Dislikes are not modelled; an account without a channel has an empty Liked list here.
    const total = rating === "like" && a.hasChannel ? a.likedCount : 0;
    const u = urlsOf(state);
    return listing(rq, "youtube#videoListResponse", `${a.id}:videos:${rating}`, parts, total, (i) =>
      a.likedVideo(i, u),
    );
  }

  function subscriptions(rq: Rq, a: YouTubeAccount): Reply {
    const parts = partsOf(rq, PARTS.subscriptions);
    if (isReply(parts)) return parts;
    const missing = mineRequired(rq, "channelId, id, mine, myRecentSubscribers, mySubscribers");
    if (missing) return missing;
    const order = rq.query.get("order") ?? "relevance";
    if (!(SUBSCRIPTION_ORDERS as readonly string[]).includes(order)) {
      return badParameter("invalidParameter", `Invalid value '${order}' for order.`, "order");
    }
    if (!a.hasChannel) {
      return googleError(404, "NOT_FOUND", "Subscriber not found.", {
        domain: "youtube.subscription",
        reason: "subscriberNotFound",
        location: "mine",
        locationType: "parameter",
      });
    }
    const indexes = a.subscriptionOrder(order as (typeof SUBSCRIPTION_ORDERS)[number]);
    const u = urlsOf(state);
    return listing(
      rq,
      "youtube#subscriptionListResponse",
      `${a.id}:subscriptions:${order}`,
      parts,
      indexes.length,
      (i) => a.subscription(indexes[i]!, u),
    );
  }

  function playlists(rq: Rq, a: YouTubeAccount): Reply {
    const parts = partsOf(rq, PARTS.playlists);
    if (isReply(parts)) return parts;
    const missing = mineRequired(rq, "channelId, id, mine");
    if (missing) return missing;
    if (!a.hasChannel) {
      return googleError(404, "NOT_FOUND", "Channel not found.", {
        domain: "youtube.playlist",
        reason: "channelNotFound",
        location: "channelId",
        locationType: "parameter",
      });
    }
    const u = urlsOf(state);
    return listing(rq, "youtube#playlistListResponse", `${a.id}:playlists`, parts, a.playlistCount, (i) =>
      a.playlist(i, u),
    );
  }

  const dataRoute = (endpoint: Endpoint, handle: (rq: Rq, a: YouTubeAccount) => Reply): Route => ({
    ...at(endpoint),
    method: "GET",
    pattern: new RegExp(`^${DATA_PATH}/${endpoint}$`),
    account: tokenOwner,
    handle: (rq) => {
      const a = dataAuth(rq);
      return isReply(a) ? a : handle(rq, a);
    },
  });

  const routes: Route[] = [
    {
      ...at("authorize"),
      method: "GET",
      pattern: new RegExp(`^${AUTHORIZE_PATH}$`),
      handle: authorizePage,
    },
    {
      ...at("authorize"),
      method: "POST",
      pattern: new RegExp(`^${AUTHORIZE_PATH}/decision$`),
      handle: decision,
    },
    {
      ...at("token"),
      method: "POST",
      pattern: new RegExp(`^${PREFIXES.OAUTH}/token$`),
      account: (rq) =>
        state.tokens.peekCode(rq.form.get("code") ?? "")?.accountId ??
        state.tokens.get(rq.form.get("refresh_token") ?? undefined)?.accountId,
      handle: token,
    },
    {
      ...at("revoke"),
      method: "POST",
      pattern: new RegExp(`^${PREFIXES.OAUTH}/revoke$`),
      account: (rq) => state.tokens.get(rq.form.get("token") ?? rq.query.get("token") ?? undefined)?.accountId,
      handle: revoke,
    },
    ...(["GET", "POST"] as const).map((method): Route => ({
      ...at("tokeninfo"),
      method,
      pattern: new RegExp(`^${PREFIXES.OAUTH}/tokeninfo$`),
      account: (rq) =>
        state.tokens.get(rq.query.get("access_token") ?? rq.form.get("access_token") ?? bearer(rq.headers))?.accountId,
      handle: tokeninfo,
    })),
    dataRoute("channels", channels),
    dataRoute("videos", videos),
    dataRoute("subscriptions", subscriptions),
    dataRoute("playlists", playlists),
    {
      // Public thumbnails: any well-formed video or channel id has one (as on i.ytimg.com). The
      // declared sizes are YouTube's; the bytes are the fake's (at most 64 px, images.ts).
      ...at("cdn"),
      method: "GET",
      pattern: new RegExp(
        `^${CDN_PREFIX}/(vi/[A-Za-z0-9_-]{11}/(?:default|mqdefault|hqdefault|sddefault|maxresdefault)|ch/UC[A-Za-z0-9_-]{22}(?:/s\\d+)?|img/no_thumbnail)\\.jpg$`,
      ),
      handle: (rq) => ({
        status: 200,
        headers: { "content-type": "image/jpeg", "cache-control": "public, max-age=86400" },
        body: jpegFor(`youtube/${rq.params[0]!}`),
      }),
    },
  ];

  function faultReply(f: ActiveFault, route: Route): Reply {
    switch (f.kind) {
      case "429":
        return rateLimited(f.retryAfterSeconds ?? 1, f.status === 403 ? 403 : 429);
      case "403":
        return accessNotConfigured();
      case "quota":
        return quotaExceeded();
      case "invalid_grant":
        if (route.endpoint === "token") return expiredOrRevoked();
        if (route.kind === "token") return oauthError(400, "invalid_token", "Invalid Value");
        return unauthenticated(false);
      case "ig190":
        // Like the other providers: the Graph error, whichever provider the fault is set on.
        return graphError(400, "Error validating access token: Session has expired.", 190, 463);
      default:
        return backendError(f.status ?? 503);
    }
  }

  return { routes, faultReply, rateLimited: (retryAfterSeconds) => rateLimited(retryAfterSeconds) };
}
