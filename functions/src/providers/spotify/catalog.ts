/** Spotify in the provider catalog (catalog.ts): plain data, safe for the web app to bundle. */
import type { CatalogEntry } from "../catalog";

export const spotifyCatalog = {
  id: "spotify",
  name: "Spotify",
  blurb: "playlists, top tracks and artists, recently played",
  brand: { color: "#1db954", mark: "S" },
  snapshots: ["profile", "playlists", "top-tracks", "top-artists", "recently-played"],
  countLabels: {
    playlists: "playlists",
    topTracks: "top tracks",
    topArtists: "top artists",
    recentlyPlayed: "recent plays",
  },
  mirror: {
    folder: "spotify/playlists",
    setting: {
      name: "MIRROR_SPOTIFY_COVERS",
      default: true,
      description:
        "Copy Spotify playlist covers to Storage. Spotify's developer terms restrict downloading cover art: check yours.",
    },
  },
  settingsPrefix: "SPOTIFY",
  clientId: {
    default: "fake-spotify-client-id",
    description: "Spotify app client id (developer.spotify.com dashboard).",
  },
  clientSecret: { description: "Spotify app client secret.", local: "fake-spotify-client-secret" },
  baseUrls: {
    ACCOUNTS: {
      default: "https://accounts.spotify.com",
      description: "Spotify accounts service (authorize and token endpoints).",
    },
    API: { default: "https://api.spotify.com", description: "Spotify Web API." },
  },
  queue: {
    maxDispatchesPerSecond: 5,
    maxConcurrent: 10,
    maxAttempts: 5,
    minBackoffSeconds: 60,
    maxBackoffSeconds: 900,
  },
  // A development-mode app serves at most five people (since 9 March 2026): people may bring their own.
  ownApps: {
    setting: "SPOTIFY_APPS",
    default: "shared",
    description:
      "Whose Spotify app people connect through: shared (the operator's app: SPOTIFY_CLIENT_ID), own (each person registers their own app) or both (a person chooses).",
    // One person per own app, one sync an hour: the functions' capacity is the bound, not Spotify's.
    queue: { maxDispatchesPerSecond: 20, maxConcurrent: 20 },
  },
  // Recently played holds the latest 50 plays: an hourly read loses plays of a listener who plays
  // more than 50 an hour, so a connection with new plays is read again sooner.
  plays: {
    activeSync: {
      setting: "SPOTIFY_ACTIVE_SYNC_MINUTES",
      default: 20,
      description:
        "Minutes to the next Spotify sync after one that logged new plays (whole SYNC_TICK_MINUTES, at most SYNC_INTERVAL_MINUTES); idle connections sync every SYNC_INTERVAL_MINUTES.",
    },
  },
  refresh: {
    setting: "TOKEN_REFRESH_MARGIN_SECONDS",
    unit: "seconds",
    default: 300,
    description: "Refresh a Spotify access token expiring within this many seconds.",
  },
  legacy: { collections: ["spotify"], storagePrefixes: ["spotify/playlists/"] },
} as const satisfies CatalogEntry;
