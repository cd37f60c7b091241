/** Spotify as data: endpoints (base URLs are settings), scopes, refresh and rate-limit style. */
import type { ProviderDescriptor } from "../descriptor";

export const spotifyDescriptor = {
  id: "spotify",
  name: "Spotify",
  clientIdSetting: "SPOTIFY_CLIENT_ID",
  clientSecretSetting: "SPOTIFY_CLIENT_SECRET",
  // show_dialog: the consent page on every connect, so an earlier approval never completes a connect silently.
  authorize: { baseUrl: "SPOTIFY_ACCOUNTS_BASE_URL", path: "/authorize", params: { show_dialog: "true" } },
  // Confidential authorization-code flow: the server holds the secret and sends it as Basic auth.
  token: { baseUrl: "SPOTIFY_ACCOUNTS_BASE_URL", path: "/api/token", clientAuth: "basic" },
  scopes: ["playlist-read-private", "playlist-read-collaborative", "user-top-read", "user-read-recently-played"],
  scopeSeparator: " ",
  api: { baseUrl: "SPOTIFY_API_BASE_URL", pathPrefix: "/v1", pageSize: 50, maxPages: 2_100 },
  // Covers: i.scdn.co, mosaic.scdn.co, image-cdn-ak.spotifycdn.com, …
  images: { hostSuffixes: ["scdn.co", "spotifycdn.com"] },
  refresh: { style: "refresh_token", marginSetting: "TOKEN_REFRESH_MARGIN_SECONDS", marginUnitSeconds: 1 },
  // Spotify counts requests per app in a rolling 30 s window: a long Retry-After is everyone's.
  rateLimit: { style: "retry-after", scope: "app" },
} as const satisfies ProviderDescriptor;

/** The three windows of Spotify's top items, each stored in the top-* snapshots. */
export const TIME_RANGES = ["short_term", "medium_term", "long_term"] as const;
export type TimeRange = (typeof TIME_RANGES)[number];
