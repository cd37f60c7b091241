/**
 * The Spotify provider: confidential authorization-code OAuth, refresh (a rotated refresh token
 * replaces the old one; an answer without one keeps it), and the per-sync fetch: `/me`, every page
 * of `/me/playlists`, top tracks and top artists for the three time ranges, recently played.
 *
 * Requests are made one after another: a sync of one account is cheap next to the app-wide rolling
 * rate limit, and a failure stops the fetch at the first typed error (never a partial result).
 */
import type { z } from "zod";
import {
  ConfigError,
  InvalidInputError,
  NotAllowedError,
  OwnAppRejectedError,
  RateLimitedError,
  ReauthRequiredError,
} from "../../errors";
import {
  type ErrorClassifier,
  errorJson,
  type HttpClient,
  type HttpResponse,
  parseRetryAfter,
  providerMessage,
  requestLabel,
  scrub,
} from "../../http/client";
import {
  authorizeUrl,
  baseUrl,
  buildUrl,
  exchangeCodeForTokens,
  ItemParser,
  pages,
  parseEnvelope,
  providerClient,
  refreshDue,
  refreshTokenOperatorTokens,
  refreshWithToken,
  tokenPost,
} from "../descriptor";
import type { FetchResult, ProviderAccount, ProviderApp, ProviderContext, ProviderModule } from "../types";
import { spotifyDescriptor as d, TIME_RANGES } from "./descriptor";
import {
  coverMirrorItems,
  historyPoint,
  mapArtist,
  mapPlay,
  mapPlaylist,
  mapProfile,
  mapTrack,
  toPlay,
  type TopSnapshot,
} from "./mapping";
import {
  AccountsError,
  ApiErrorBody,
  AppTokenAnswer,
  Artist,
  CursorPage,
  OffsetPage,
  Playlist,
  PlayHistory,
  Track,
  User,
} from "./schemas";

/** Items per top list and time range (one page: Spotify's maximum `limit`). */
export const TOP_LIMIT = 50;
/**
 * Recently played: Spotify keeps only the latest 50 plays (its maximum `limit` too), so a read
 * that comes back with 50 plays may have missed older ones: the window is full.
 */
export const RECENT_LIMIT = 50;
/**
 * How far before the newest logged play the `after` cursor reads again. Plays appear only once
 * finished and offline plays hours late, with their original (older) `played_at`: re-reading the
 * last six hours catches those that surface late, and the log dedupes what was read before.
 */
export const PLAYS_OVERLAP_MS = 6 * 3_600_000;
/** Pages of recently played followed in one sync (`next`, older plays still after the cursor). */
export const RECENT_MAX_PAGES = 4;

const REAUTH_REASON = "Spotify access was revoked or has expired; reconnect Spotify.";

/** A 429 with `reason: QUOTA_EXCEEDED` without Retry-After: try again after this long. */
export const QUOTA_DEFAULT_WAIT_MS = 24 * 3_600_000;

/** What a person fixes in their own app, by problem (OwnAppRejectedError.reason). */
export const OWN_APP_FIXES = {
  credentials:
    "Spotify refused your app's client id and secret: copy both again from your app's Settings in the Spotify developer dashboard, save them here, then reconnect.",
  redirect_uri:
    "Spotify refused the redirect URI: add the exact redirect URI shown on the Connections page to your app's Redirect URIs, save there, then reconnect.",
  not_registered:
    "Your Spotify account is not in your app's User Management: add the email of your Spotify account there, then reconnect.",
} as const;

/** The sentence a person sees when checking their own app fails on its credentials. */
export const OWN_APP_REFUSED =
  "Spotify refused this client id and secret: copy both again from your app's Settings in the Spotify developer dashboard.";

function quotaExceeded(res: HttpResponse): boolean {
  const body = ApiErrorBody.safeParse(errorJson(res));
  return body.success && (body.data.error?.reason === "QUOTA_EXCEEDED" || body.data.reason === "QUOTA_EXCEEDED");
}

/**
 * Reads the accounts service's `{error: "invalid_grant" | "invalid_client"}` answers, the Web
 * API's 403 (in development mode: the person is not under the app's User Management) and a 429
 * that says QUOTA_EXCEEDED. What the person can fix in their own app (`ctx.app`) is an
 * OwnAppRejectedError; the same answers for the operator's app are the operator's to fix.
 */
function classifier(ctx: ProviderContext): ErrorClassifier {
  const own = ctx.app !== undefined;
  return (res, info, now) => {
    if (res.status === 429 && quotaExceeded(res)) {
      const waitMs = parseRetryAfter(res.headers["retry-after"], now) ?? QUOTA_DEFAULT_WAIT_MS;
      return new RateLimitedError(
        `${requestLabel(info)} answered 429 QUOTA_EXCEEDED: the app's Spotify quota is used up.`,
        new Date(now.getTime() + waitMs),
        { scope: "app", kind: "quota" },
      );
    }
    if (res.status === 403) {
      const message =
        `${requestLabel(info)} answered 403${providerMessage(res)}: Spotify does not allow this account for this app ` +
        `(for a development-mode app, the person must be added under User Management).`;
      return own
        ? new OwnAppRejectedError(message, "not_registered", { reason: OWN_APP_FIXES.not_registered })
        : new NotAllowedError(message);
    }
    const parsed = AccountsError.safeParse(errorJson(res));
    if (!parsed.success) return undefined;
    const description = parsed.data.error_description ?? "";
    const detail = description ? ` (${scrub(description)})` : "";
    if (parsed.data.error === "invalid_grant" && /redirect[ _-]?uri/i.test(description)) {
      const message = `${requestLabel(info)} answered invalid_grant${detail}.`;
      return own
        ? new OwnAppRejectedError(message, "redirect_uri", { reason: OWN_APP_FIXES.redirect_uri })
        : new ConfigError(`${message} Register OAUTH_REDIRECT_URI/spotify with the Spotify app.`);
    }
    if (parsed.data.error === "invalid_grant") {
      return new ReauthRequiredError(`${requestLabel(info)} answered invalid_grant${detail}.`, {
        reason: REAUTH_REASON,
      });
    }
    if (parsed.data.error === "invalid_client") {
      return own
        ? new OwnAppRejectedError(
            `Spotify rejected the person's own app credentials (invalid_client${detail}).`,
            "credentials",
            { reason: OWN_APP_FIXES.credentials },
          )
        : new ConfigError(
            `Spotify rejected the app credentials (invalid_client${detail}): check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET.`,
          );
    }
    return undefined;
  };
}

/** The connection's account: the stable `account_id` when Spotify sends it, the user id otherwise. */
function accountOf(user: User): ProviderAccount {
  return {
    id: user.account_id ?? user.id,
    displayName: user.display_name ?? null,
    ...(user.account_id !== undefined && user.account_id !== user.id ? { formerIds: [user.id] } : {}),
  };
}

/**
 * A person's own app, checked with the client-credentials grant before it is stored: a wrong id
 * or secret is refused with a sentence. (Redirect URIs and User Management cannot be read through
 * Spotify's API: those show at the first connect.)
 */
async function checkApp(ctx: ProviderContext, app: ProviderApp): Promise<void> {
  const appCtx = { ...ctx, app };
  try {
    const body = await tokenPost(d, appCtx, providerClient(d, appCtx, classifier(appCtx)), {
      grant_type: "client_credentials",
    });
    parseEnvelope(d, "client-credentials answer", AppTokenAnswer, body);
  } catch (e) {
    if (e instanceof OwnAppRejectedError && e.problem === "credentials")
      throw new InvalidInputError(OWN_APP_REFUSED, { cause: e });
    throw e;
  }
}

/** GET an API path as JSON with the access token. */
function apiGet(client: HttpClient, url: string, accessToken: string): Promise<unknown> {
  return client.json({ method: "GET", url, headers: { authorization: `Bearer ${accessToken}` } });
}

function apiUrl(ctx: ProviderContext, path: string, query?: Record<string, string | number>): string {
  return buildUrl(baseUrl(ctx, d, d.api.baseUrl), `${d.api.pathPrefix}${path}`, query);
}

/** Every page of an offset-paged listing (following `next`), items validated one by one. */
async function allPages<T>(
  ctx: ProviderContext,
  client: HttpClient,
  accessToken: string,
  parser: ItemParser,
  what: string,
  firstUrl: string,
  itemSchema: z.ZodType<T>,
): Promise<{ items: T[]; total: number; pages: number }> {
  const items: T[] = [];
  let total = 0;
  let count = 0;
  const listing = pages(d, ctx, { kind: "next-url", first: firstUrl, next: (p: OffsetPage) => p.next }, async (url) =>
    parseEnvelope(d, `${what} page`, OffsetPage, await apiGet(client, url, accessToken)),
  );
  for await (const page of listing) {
    if (count === 0) total = page.total;
    count++;
    items.push(...parser.parse(what, itemSchema, page.items));
  }
  return { items, total, pages: count };
}

/** One page (TOP_LIMIT items) of top tracks or artists for each of the three time ranges. */
async function topLists<T, E>(
  ctx: ProviderContext,
  client: HttpClient,
  accessToken: string,
  parser: ItemParser,
  kind: "tracks" | "artists",
  itemSchema: z.ZodType<T>,
  map: (item: T) => E,
): Promise<TopSnapshot<E>> {
  const out = {} as TopSnapshot<E>;
  for (const range of TIME_RANGES) {
    const url = apiUrl(ctx, `/me/top/${kind}`, { time_range: range, limit: TOP_LIMIT, offset: 0 });
    const page = parseEnvelope(d, `top ${kind} (${range})`, OffsetPage, await apiGet(client, url, accessToken));
    out[range] = { total: page.total, items: parser.parse(`top ${kind} ${range}`, itemSchema, page.items).map(map) };
  }
  return out;
}

/**
 * Recently played for the log: with `after` = the newest logged play − PLAYS_OVERLAP_MS (no
 * cursor on the first sync), following `next` (older plays) while a full page still reaches no
 * further back than the cursor, at most RECENT_MAX_PAGES pages. Newest first (as Spotify sends
 * them), plays at or before the cursor dropped (they were read before). `full`: the first page
 * came back with the whole window (RECENT_LIMIT plays).
 */
async function recentlyPlayed(
  ctx: ProviderContext,
  client: HttpClient,
  accessToken: string,
  parser: ItemParser,
): Promise<{ items: PlayHistory[]; pages: number; full: boolean; latest: PlayHistory[] | null }> {
  const newest = ctx.history?.playsAfter ?? null;
  const afterMs = newest ? Math.max(0, newest.getTime() - PLAYS_OVERLAP_MS) : null;
  const items: PlayHistory[] = [];
  const seen = new Set<string>();
  const first = apiUrl(ctx, "/me/player/recently-played", {
    limit: RECENT_LIMIT,
    ...(afterMs !== null ? { after: afterMs } : {}),
  });
  const listing = pages(d, ctx, { kind: "next-url", first, next: (p: CursorPage) => p.next }, async (url) =>
    parseEnvelope(d, "recently played", CursorPage, await apiGet(client, url, accessToken)),
  );
  let count = 0;
  let full = false;
  let latest: PlayHistory[] | null = null;
  for await (const page of listing) {
    count++;
    const read = parser.parse("recently played", PlayHistory, page.items);
    if (count === 1) {
      full = page.items.length >= RECENT_LIMIT;
      // Without a cursor, or full: this page is the latest window itself.
      if (afterMs === null || full) latest = read;
    }
    let oldest = Infinity;
    for (const p of read) {
      const at = Date.parse(p.played_at);
      if (Number.isFinite(at)) oldest = Math.min(oldest, at);
      if (afterMs !== null && Number.isFinite(at) && at <= afterMs) continue;
      const key = `${p.played_at}|${p.track.id ?? p.track.uri ?? p.track.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      items.push(p);
    }
    // Older plays may remain after the cursor only behind a full page that did not reach it.
    const more = afterMs !== null && page.items.length >= RECENT_LIMIT && oldest > afterMs && oldest !== Infinity;
    if (!more || count >= RECENT_MAX_PAGES) break;
  }
  return { items, pages: count, full, latest };
}

/** The latest RECENT_LIMIT plays (no cursor): the recently-played snapshot. */
async function latestPlays(
  ctx: ProviderContext,
  client: HttpClient,
  accessToken: string,
  parser: ItemParser,
): Promise<PlayHistory[]> {
  const url = apiUrl(ctx, "/me/player/recently-played", { limit: RECENT_LIMIT });
  const page = parseEnvelope(d, "recently played", CursorPage, await apiGet(client, url, accessToken));
  return parser.parse("recently played (latest)", PlayHistory, page.items);
}

async function fetchAll(ctx: ProviderContext, accessToken: string): Promise<FetchResult> {
  const client = providerClient(d, ctx, classifier(ctx));
  const parser = new ItemParser(d);

  const user = parseEnvelope(d, "/me", User, await apiGet(client, apiUrl(ctx, "/me"), accessToken));
  const playlists = await allPages(
    ctx,
    client,
    accessToken,
    parser,
    "playlists",
    apiUrl(ctx, "/me/playlists", { limit: d.api.pageSize, offset: 0 }),
    Playlist,
  );

  const topTracks = await topLists(ctx, client, accessToken, parser, "tracks", Track, mapTrack);
  const topArtists = await topLists(ctx, client, accessToken, parser, "artists", Artist, mapArtist);
  const recent = await recentlyPlayed(ctx, client, accessToken, parser);
  const logged = recent.items.flatMap((p) => toPlay(p) ?? []);
  // The snapshot the dashboard shows stays the latest RECENT_LIMIT plays: the read above when it
  // was the whole window (first sync, or a full page), else one read without a cursor.
  // (Its own parser: a bad item it shares with the read above is counted as skipped once.)
  const latest = recent.latest ?? (await latestPlays(ctx, client, accessToken, new ItemParser(d)));
  const plays = latest.map(mapPlay);

  const mirror = ctx.config.MIRROR_SPOTIFY_COVERS ? coverMirrorItems(playlists.items) : [];
  const sum = (s: TopSnapshot<unknown>) => TIME_RANGES.reduce((n, r) => n + s[r].items.length, 0);
  return {
    account: accountOf(user),
    snapshots: {
      profile: mapProfile(user),
      playlists: { total: playlists.total, items: playlists.items.map(mapPlaylist) },
      "top-tracks": topTracks,
      "top-artists": topArtists,
      "recently-played": { items: plays },
    },
    mirror,
    counts: {
      playlists: playlists.items.length,
      playlistPages: playlists.pages,
      topTracks: sum(topTracks),
      topArtists: sum(topArtists),
      recentlyPlayed: plays.length,
      recentlyPlayedPages: recent.pages + (recent.latest ? 0 : 1),
      mirror: mirror.length,
      skipped: parser.skipped,
    },
    requests: client.requests,
    plays: { items: logged, fullWindow: recent.full },
  };
}

export const spotify: ProviderModule = {
  id: d.id,
  name: d.name,
  scopes: d.scopes,

  authorizeUrl: (ctx, args) => authorizeUrl(d, ctx, args),

  exchangeCode: (ctx, args) => exchangeCodeForTokens(d, ctx, classifier(ctx), args),

  refreshDue: (ctx, tokens) => refreshDue(d, ctx, tokens),

  refresh: (ctx, tokens) => refreshWithToken(d, ctx, classifier(ctx), tokens, REAUTH_REASON),

  async identify(ctx, accessToken): Promise<ProviderAccount> {
    const client = providerClient(d, ctx, classifier(ctx));
    return accountOf(parseEnvelope(d, "/me", User, await apiGet(client, apiUrl(ctx, "/me"), accessToken)));
  },

  fetchAll,

  checkApp,

  historyPoint,

  operatorTokens: refreshTokenOperatorTokens(d, (ctx, tokens) => spotify.refresh(ctx, tokens)),
};
