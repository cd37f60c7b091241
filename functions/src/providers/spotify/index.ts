/**
 * The Spotify provider: confidential authorization-code OAuth, refresh (a rotated refresh token
 * replaces the old one; an answer without one keeps it), and the per-sync fetch: `/me`, every page
 * of `/me/playlists`, top tracks and top artists for the three time ranges, recently played.
 *
 * Requests are made one after another: a sync of one account is cheap next to the app-wide rolling
 * rate limit, and a failure stops the fetch at the first typed error (never a partial result).
 */
import type { z } from "zod";
import { ConfigError, NotAllowedError, ReauthRequiredError } from "../../errors";
import {
  type ErrorClassifier,
  errorJson,
  type HttpClient,
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
} from "../descriptor";
import type { FetchResult, ProviderAccount, ProviderContext, ProviderModule } from "../types";
import { spotifyDescriptor as d, TIME_RANGES } from "./descriptor";
import { coverMirrorItems, mapArtist, mapPlay, mapPlaylist, mapProfile, mapTrack, type TopSnapshot } from "./mapping";
import { AccountsError, Artist, CursorPage, OffsetPage, Playlist, PlayHistory, Track, User } from "./schemas";

/** Items per top list and time range (one page: Spotify's maximum `limit`). */
export const TOP_LIMIT = 50;
/** Recently played: the most recent plays, one page (Spotify's maximum `limit`). */
export const RECENT_LIMIT = 50;

const REAUTH_REASON = "Spotify access was revoked or has expired; reconnect Spotify.";

/**
 * Reads the accounts service's `{error: "invalid_grant" | "invalid_client"}` answers, and the Web
 * API's 403 (in development mode: the person is not under the app's User Management).
 */
const classify: ErrorClassifier = (res, info) => {
  if (res.status === 403) {
    return new NotAllowedError(
      `${requestLabel(info)} answered 403${providerMessage(res)}: Spotify does not allow this account for this app ` +
        `(for a development-mode app, the person must be added under User Management).`,
    );
  }
  const parsed = AccountsError.safeParse(errorJson(res));
  if (!parsed.success) return undefined;
  const detail = parsed.data.error_description ? ` (${scrub(parsed.data.error_description)})` : "";
  if (parsed.data.error === "invalid_grant") {
    return new ReauthRequiredError(`${requestLabel(info)} answered invalid_grant${detail}.`, {
      reason: REAUTH_REASON,
    });
  }
  if (parsed.data.error === "invalid_client") {
    return new ConfigError(
      `Spotify rejected the app credentials (invalid_client${detail}): check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET.`,
    );
  }
  return undefined;
};

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

async function fetchAll(ctx: ProviderContext, accessToken: string): Promise<FetchResult> {
  const client = providerClient(d, ctx, classify);
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
  const recent = parseEnvelope(
    d,
    "recently played",
    CursorPage,
    await apiGet(client, apiUrl(ctx, "/me/player/recently-played", { limit: RECENT_LIMIT }), accessToken),
  );
  const plays = parser.parse("recently played", PlayHistory, recent.items).map(mapPlay);

  const mirror = ctx.config.MIRROR_SPOTIFY_COVERS ? coverMirrorItems(playlists.items) : [];
  const sum = (s: TopSnapshot<unknown>) => TIME_RANGES.reduce((n, r) => n + s[r].items.length, 0);
  return {
    account: { id: user.id, displayName: user.display_name ?? null },
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
      mirror: mirror.length,
      skipped: parser.skipped,
    },
    requests: client.requests,
  };
}

export const spotify: ProviderModule = {
  id: d.id,
  name: d.name,
  scopes: d.scopes,

  authorizeUrl: (ctx, args) => authorizeUrl(d, ctx, args),

  exchangeCode: (ctx, args) => exchangeCodeForTokens(d, ctx, classify, args),

  refreshDue: (ctx, tokens) => refreshDue(d, ctx, tokens),

  refresh: (ctx, tokens) => refreshWithToken(d, ctx, classify, tokens, REAUTH_REASON),

  async identify(ctx, accessToken): Promise<ProviderAccount> {
    const client = providerClient(d, ctx, classify);
    const user = parseEnvelope(d, "/me", User, await apiGet(client, apiUrl(ctx, "/me"), accessToken));
    return { id: user.id, displayName: user.display_name ?? null };
  },

  fetchAll,

  operatorTokens: refreshTokenOperatorTokens(d, (ctx, tokens) => spotify.refresh(ctx, tokens)),
};
