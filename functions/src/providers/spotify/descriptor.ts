/**
 * Spotify as data: endpoints (base URLs by their catalog key: SPOTIFY_<KEY>_BASE_URL settings),
 * scopes, refresh and rate-limit style.
 */
import type { ProviderDescriptor } from "../descriptor";
import { spotifyCatalog } from "./catalog";

export const spotifyDescriptor = {
  id: spotifyCatalog.id,
  name: spotifyCatalog.name,
  // show_dialog: the consent page on every connect, so an earlier approval never completes a connect silently.
  authorize: { baseUrl: "ACCOUNTS", path: "/authorize", params: { show_dialog: "true" } },
  // Confidential authorization-code flow: the server holds the secret and sends it as Basic auth.
  token: { baseUrl: "ACCOUNTS", path: "/api/token", clientAuth: "basic" },
  scopes: ["playlist-read-private", "playlist-read-collaborative", "user-top-read", "user-read-recently-played"],
  scopeSeparator: " ",
  api: { baseUrl: "API", pathPrefix: "/v1", pageSize: 50, maxPages: 2_100 },
  // Covers: i.scdn.co, mosaic.scdn.co, image-cdn-ak.spotifycdn.com, …
  images: { hostSuffixes: ["scdn.co", "spotifycdn.com"] },
  refresh: { style: "refresh_token" },
  // Spotify counts requests per app in a rolling 30 s window: a long Retry-After is everyone's.
  rateLimit: { style: "retry-after", scope: "app", windowSeconds: 30 },
} as const satisfies ProviderDescriptor;

/** The three windows of Spotify's top items, each stored in the top-* snapshots. */
export const TIME_RANGES = ["short_term", "medium_term", "long_term"] as const;
export type TimeRange = (typeof TIME_RANGES)[number];
