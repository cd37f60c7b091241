/**
 * The YouTube provider: Google's authorization-code flow (offline access, consent every time),
 * refresh (Google sends no new refresh token: the old one is kept), and the per-sync fetch through
 * Google's own client for the YouTube Data API v3, `@googleapis/youtube`: the person's channel
 * (snippet, statistics), every page of their liked videos, subscriptions and playlists.
 *
 * Google's client builds the requests (methods, parameters, paths under its `rootUrl`, the DATA
 * base URL); its transport is replaced by the product's HttpClient through gaxios's `adapter`
 * hook, so the same timeouts, byte caps, retries, typed errors and log rules apply as for every
 * other provider, and no token reaches an error. The client is loaded on the first YouTube call
 * only: the other providers' functions do not pay for it at cold start.
 *
 * Quota: each Data API request costs one unit of the project's daily quota (counts.quotaUnits). A
 * `quotaExceeded` answer pauses YouTube for the whole app until midnight Pacific time, when the
 * quota resets (RateLimitedError, kind quota, scope app).
 */
import type { youtube_v3 } from "@googleapis/youtube";
import type { z } from "zod";
import {
  type AppError,
  ConfigError,
  NotAllowedError,
  ProviderSchemaError,
  RateLimitedError,
  ReauthRequiredError,
  isAppError,
} from "../../errors";
import {
  type ErrorClassifier,
  type HttpClient,
  errorJson,
  providerMessage,
  requestLabel,
  scrub,
} from "../../http/client";
import { nextMidnight } from "../../time";
import {
  ItemParser,
  appOf,
  authorizeUrl,
  baseUrl,
  buildUrl,
  exchangeCodeForTokens,
  pages,
  parseEnvelope,
  providerClient,
  refreshDue,
  refreshTokenOperatorTokens,
  refreshWithToken,
} from "../descriptor";
import type { FetchResult, ProviderAccount, ProviderContext, ProviderModule } from "../types";
import { QUOTA_TIME_ZONE, REVOKE_PATH, TOKENINFO_PATH, YOUTUBE_READONLY, youtubeDescriptor as d } from "./descriptor";
import {
  type ChannelSnapshot,
  type ListSnapshot,
  NO_CHANNEL_MESSAGE,
  mapChannel,
  mapPlaylist,
  mapSubscription,
  mapVideo,
} from "./mapping";
import { ApiError, Channel, ListPage, OAuthError, Playlist, Subscription, TokenInfo, Video } from "./schemas";

const REAUTH_REASON = "YouTube access was revoked or has expired; reconnect YouTube.";
const SCOPE_REASON =
  "YouTube was connected without permission to read your YouTube account; connect again and allow it on Google's page.";

/** Reasons of Google's 403 answers that are short rate limits of one user or project. */
const SHORT_LIMITS = new Set(["rateLimitExceeded", "userRateLimitExceeded"]);

function apiReasons(res: { body: Buffer }): string[] {
  const parsed = ApiError.safeParse(errorJson(res as never));
  if (!parsed.success) return [];
  return (parsed.data.error.errors ?? []).flatMap((e) => (e.reason ? [e.reason] : []));
}

/**
 * Reads Google's answers: the OAuth endpoints' `{error: "invalid_grant"}`, and the Data API's
 * `{error: {errors: [{reason}]}}` (quotaExceeded, the short rate limits, insufficientPermissions).
 */
const classify: ErrorClassifier = (res, info, now): AppError | undefined => {
  const reasons = apiReasons(res);
  // dailyLimitExceeded: the older name of the same answer.
  if (reasons.includes("quotaExceeded") || reasons.includes("dailyLimitExceeded")) {
    const resetAt = nextMidnight(now, QUOTA_TIME_ZONE);
    return new RateLimitedError(
      `${requestLabel(info)} answered quotaExceeded: the project's YouTube Data API quota for today is used up ` +
        `(it resets at midnight Pacific time, ${resetAt.toISOString()}).`,
      resetAt,
      { scope: "app", kind: "quota" },
    );
  }
  // A 429 goes the generic way (Retry-After waited out in place, retried); Google's 403 form of a
  // short limit cannot be retried in place, so this account waits a minute.
  if (res.status === 403 && reasons.some((r) => SHORT_LIMITS.has(r))) {
    return new RateLimitedError(
      `${requestLabel(info)} answered ${reasons.join(", ")}.`,
      new Date(now.getTime() + 60_000),
    );
  }
  if (res.status === 403 && reasons.includes("insufficientPermissions")) {
    return new ReauthRequiredError(`${requestLabel(info)} answered insufficientPermissions.`, { reason: SCOPE_REASON });
  }
  if (res.status === 403) {
    return new NotAllowedError(`${requestLabel(info)} answered 403${providerMessage(res)}.`);
  }
  const oauth = OAuthError.safeParse(errorJson(res));
  if (!oauth.success) return undefined;
  const detail = oauth.data.error_description ? ` (${scrub(oauth.data.error_description)})` : "";
  if (oauth.data.error === "invalid_grant") {
    return new ReauthRequiredError(`${requestLabel(info)} answered invalid_grant${detail}.`, { reason: REAUTH_REASON });
  }
  if (oauth.data.error === "invalid_client" || oauth.data.error === "unauthorized_client") {
    return new ConfigError(
      `Google rejected the app credentials (${oauth.data.error}${detail}): check YOUTUBE_CLIENT_ID and YOUTUBE_CLIENT_SECRET.`,
    );
  }
  return undefined;
};

/** Google's granular consent lets a person untick the YouTube scope: then there is nothing to read. */
function requireYouTubeScope(scopes: readonly string[]): void {
  if (!scopes.includes(YOUTUBE_READONLY)) {
    throw new NotAllowedError(`Google granted no ${YOUTUBE_READONLY} scope. ${SCOPE_REASON}`);
  }
}

// --- The Data API through Google's client -----------------------------------------------------

type Youtube = youtube_v3.Youtube;
type GaxiosAdapter = NonNullable<youtube_v3.Options["adapter"]>;

/**
 * The Data API client of one sync: Google's library with the DATA base URL as its `rootUrl` and
 * the product's HttpClient as its transport (bearer token added there, nothing retried by gaxios).
 */
async function dataApi(ctx: ProviderContext, client: HttpClient, accessToken: string): Promise<Youtube> {
  const root = new URL(baseUrl(ctx, d, d.api.baseUrl));
  // The library keeps only the origin of rootUrl: a path there would silently be dropped.
  if (root.pathname !== "/" && root.pathname !== "") {
    throw new ConfigError("YOUTUBE_DATA_BASE_URL must be an origin without a path (Google's client adds /youtube/v3).");
  }
  const adapter: GaxiosAdapter = async (opts) => {
    const url = String(opts.url);
    const data = await client.json({ method: "GET", url, headers: { authorization: `Bearer ${accessToken}` } });
    return Object.assign(new Response(null, { status: 200 }), { config: opts, data }) as never;
  };
  const { youtube_v3: v3 } = await import("@googleapis/youtube");
  return new v3.Youtube({ rootUrl: `${root.origin}/`, adapter, retry: false });
}

/**
 * Calls one Data API method. gaxios wraps whatever the adapter throws in a GaxiosError (which
 * carries the request, Authorization header included): the product's typed error inside is
 * rethrown as it is, anything else becomes a ProviderSchemaError without the request.
 */
async function call<T>(what: string, request: () => Promise<{ data: T }>): Promise<unknown> {
  try {
    return (await request()).data;
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause;
    if (isAppError(cause)) throw cause;
    if (isAppError(e)) throw e;
    throw new ProviderSchemaError(
      `YouTube ${what} failed in Google's client: ${e instanceof Error ? e.name : "error"}.`,
    );
  }
}

/**
 * The `part` parameter as one comma-separated value, the form Google documents (the client would
 * otherwise repeat the parameter once per part).
 */
const parts = (...names: string[]): string[] => [names.join(",")];

/** Every page of one `list` method (pageToken paging), items validated one by one. */
async function listAll<T, E>(
  ctx: ProviderContext,
  parser: ItemParser,
  what: string,
  fetchPage: (pageToken: string | undefined) => Promise<unknown>,
  itemSchema: z.ZodType<T>,
  map: (item: T) => E,
): Promise<ListSnapshot<E> & { pages: number }> {
  const items: E[] = [];
  let total: number | null = null;
  let count = 0;
  // `pages` asks for a URL per token; Google's client builds the real request from the token.
  const listing = pages(
    d,
    ctx,
    { kind: "page-token", url: (token) => token ?? "", next: (p: ListPage) => p.nextPageToken },
    async (token) => parseEnvelope(d, `${what} page`, ListPage, await fetchPage(token === "" ? undefined : token)),
  );
  for await (const page of listing) {
    if (count === 0) total = page.pageInfo?.totalResults ?? null;
    count++;
    items.push(...parser.parse(what, itemSchema, page.items ?? []).map(map));
  }
  return { total, items, pages: count };
}

/**
 * The Google account behind an access token: tokeninfo's `sub` (which exists with or without a
 * channel), after checking the token was issued to this app (`aud`) with the YouTube scope.
 * tokeninfo is an OAuth endpoint: it costs no Data API quota.
 */
async function googleAccount(ctx: ProviderContext, client: HttpClient, accessToken: string): Promise<string> {
  const info = parseEnvelope(
    d,
    "tokeninfo",
    TokenInfo,
    await client.json({
      method: "GET",
      url: buildUrl(baseUrl(ctx, d, d.token.baseUrl), TOKENINFO_PATH, { access_token: accessToken }),
    }),
  );
  if (info.aud !== appOf(d, ctx).clientId) {
    throw new NotAllowedError("Google issued this access token to another app (tokeninfo aud): refused.");
  }
  requireYouTubeScope((info.scope ?? "").split(" "));
  return info.sub;
}

/** The connect step: the Google account, named by its channel's title (null without a channel). */
async function identify(ctx: ProviderContext, client: HttpClient, accessToken: string): Promise<ProviderAccount> {
  const id = await googleAccount(ctx, client, accessToken);
  const yt = await dataApi(ctx, client, accessToken);
  const channels = parseEnvelope(
    d,
    "channels (mine)",
    ListPage,
    await call("channels.list", () => yt.channels.list({ part: parts("snippet"), mine: true })),
  );
  const [channel] = new ItemParser(d).parse("channel", Channel, channels.items ?? []);
  return { id, displayName: channel?.snippet?.title ?? null };
}

async function fetchAll(ctx: ProviderContext, accessToken: string): Promise<FetchResult> {
  const oauth = providerClient(d, ctx, classify);
  const accountId = await googleAccount(ctx, oauth, accessToken);
  const client = providerClient(d, ctx, classify);
  const parser = new ItemParser(d);
  const yt = await dataApi(ctx, client, accessToken);
  const max = d.api.pageSize;

  const channels = parseEnvelope(
    d,
    "channels (mine)",
    ListPage,
    await call("channels.list", () => yt.channels.list({ part: parts("snippet", "statistics"), mine: true })),
  );
  const [channel] = parser.parse("channel", Channel, channels.items ?? []);
  const empty = { total: 0, items: [], pages: 0 };
  // Without a channel there are no ratings, subscriptions or playlists to read: no units spent on them.
  const liked = channel
    ? await listAll(
        ctx,
        parser,
        "liked videos",
        (pageToken) =>
          call("videos.list", () =>
            yt.videos.list({
              part: parts("snippet", "contentDetails", "statistics"),
              myRating: "like",
              maxResults: max,
              pageToken,
            }),
          ),
        Video,
        mapVideo,
      )
    : empty;
  const subscriptions = channel
    ? await listAll(
        ctx,
        parser,
        "subscriptions",
        (pageToken) =>
          call("subscriptions.list", () =>
            yt.subscriptions.list({
              part: parts("snippet"),
              mine: true,
              maxResults: max,
              order: "alphabetical",
              pageToken,
            }),
          ),
        Subscription,
        mapSubscription,
      )
    : empty;
  const playlists = channel
    ? await listAll(
        ctx,
        parser,
        "playlists",
        (pageToken) =>
          call("playlists.list", () =>
            yt.playlists.list({
              part: parts("snippet", "contentDetails", "status"),
              mine: true,
              maxResults: max,
              pageToken,
            }),
          ),
        Playlist,
        mapPlaylist,
      )
    : empty;

  const channelSnapshot: ChannelSnapshot = channel
    ? { channel: mapChannel(channel), message: null }
    : { channel: null, message: NO_CHANNEL_MESSAGE };
  const snapshot = <E>(l: ListSnapshot<E>) => ({ total: l.total, items: l.items });
  return {
    account: { id: accountId, displayName: channel?.snippet?.title ?? null },
    snapshots: {
      channel: channelSnapshot,
      "liked-videos": snapshot(liked),
      subscriptions: snapshot(subscriptions),
      playlists: snapshot(playlists),
    },
    mirror: [],
    counts: {
      likedVideos: liked.items.length,
      subscriptions: subscriptions.items.length,
      playlists: playlists.items.length,
      // Every Data API request costs one unit (tokeninfo and token refreshes cost none).
      quotaUnits: client.requests,
      skipped: parser.skipped,
    },
    requests: oauth.requests + client.requests,
  };
}

export const youtube: ProviderModule = {
  id: d.id,
  name: d.name,
  scopes: d.scopes,

  authorizeUrl: (ctx, args) => authorizeUrl(d, ctx, args),

  async exchangeCode(ctx, args) {
    const tokens = await exchangeCodeForTokens(d, ctx, classify, args);
    requireYouTubeScope(tokens.scopes);
    return tokens;
  },

  refreshDue: (ctx, tokens) => refreshDue(d, ctx, tokens),

  refresh: (ctx, tokens) => refreshWithToken(d, ctx, classify, tokens, REAUTH_REASON),

  identify: (ctx, accessToken) => identify(ctx, providerClient(d, ctx, classify), accessToken),

  fetchAll,

  // Revoking either token ends the whole grant; the refresh token outlives any access token.
  async revoke(ctx, tokens) {
    const client = providerClient(d, ctx, classify);
    await client.request({
      method: "POST",
      url: buildUrl(baseUrl(ctx, d, d.token.baseUrl), REVOKE_PATH),
      form: { token: tokens.refreshToken ?? tokens.accessToken },
      // Revoking twice is harmless: a retry after a 5xx cannot do damage.
      idempotent: true,
    });
  },

  operatorTokens: refreshTokenOperatorTokens(d, (ctx, tokens) => youtube.refresh(ctx, tokens)),
};
