/** Fake Spotify's fixed names: its id, app, scopes, route prefixes and endpoints. */
import type { RouteKind } from "../faults";
import { type BaseUrlKey, appOf } from "../fake";
import { spotifyCatalog } from "../../../functions/src/providers/spotify/catalog";

export const ID = spotifyCatalog.id;
export const APP = appOf(spotifyCatalog);

export const SCOPES = [
  "playlist-read-private",
  "playlist-read-collaborative",
  "user-top-read",
  "user-read-recently-played",
] as const;

/** The route prefix that answers for each base URL (functions/.env.local points there). */
export const PREFIXES: Record<BaseUrlKey<typeof ID>, string> = {
  ACCOUNTS: "/spotify-accounts",
  API: "/spotify-api",
};
/** Cover images. */
export const CDN_PREFIX = "/cdn/spotify";

/** Endpoint names (faults, stats) and their kind of route. */
export const ENDPOINTS = {
  authorize: "page",
  token: "token",
  me: "api",
  "me/playlists": "api",
  "me/top/artists": "api",
  "me/top/tracks": "api",
  "me/player/recently-played": "api",
  cdn: "cdn",
} as const satisfies Record<string, RouteKind>;
export type Endpoint = keyof typeof ENDPOINTS;
