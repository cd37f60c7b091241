/** YouTube in the provider catalog (catalog.ts): plain data, safe for the web app to bundle. */
import type { CatalogEntry } from "../catalog";

export const youtubeCatalog = {
  id: "youtube",
  name: "YouTube",
  blurb: "your channel's statistics, liked videos, subscriptions and playlists",
  brand: { color: "#ff0000", mark: "YT" },
  snapshots: ["channel", "liked-videos", "subscriptions", "playlists"],
  countLabels: { likedVideos: "liked videos", subscriptions: "subscriptions", playlists: "playlists" },
  // No mirror: YouTube's developer policies leave thumbnails with YouTube; the app shows them from
  // their public URLs (README, "YouTube").
  settingsPrefix: "YOUTUBE",
  clientId: {
    default: "fake-youtube-client-id.apps.googleusercontent.com",
    description: "Google OAuth client id (Google Cloud console, APIs & Services, Credentials; type Web application).",
  },
  clientSecret: { description: "Google OAuth client secret.", local: "fake-youtube-client-secret" },
  baseUrls: {
    AUTHORIZE: { default: "https://accounts.google.com", description: "Google's consent page (/o/oauth2/v2/auth)." },
    OAUTH: {
      default: "https://oauth2.googleapis.com",
      description: "Google's token and revocation endpoints (/token, /revoke).",
    },
    DATA: {
      default: "https://youtube.googleapis.com",
      description: "YouTube Data API v3 root (the googleapis client's rootUrl; requests go to /youtube/v3/…).",
    },
  },
  // A day's syncs must fit the project's 10,000 quota units (README, "YouTube quota"): the quota
  // counts units a day, not a rate, so the queue never holds syncs back (one task a second would
  // already be far above what a day allows); the sync interval below keeps the day inside the
  // quota. Five a second drains a slot sooner, with more syncs sharing an instance (cost).
  queue: {
    maxDispatchesPerSecond: 5,
    maxConcurrent: 10,
    maxAttempts: 5,
    minBackoffSeconds: 60,
    maxBackoffSeconds: 900,
  },
  syncInterval: {
    setting: "YOUTUBE_SYNC_INTERVAL_MINUTES",
    default: 360,
    description:
      "Minutes between two YouTube syncs of one connection (at least SYNC_INTERVAL_MINUTES): the daily quota is per project.",
  },
  // YouTube API Services Developer Policies III.E.4.c (Authorized Data refreshed or deleted within
  // 30 days) and III.D.2.c (revoking in the app revokes the token and deletes the data).
  dataPolicy: { maxAgeDays: 30, deleteOnDisconnect: true },
  refresh: {
    setting: "YOUTUBE_REFRESH_MARGIN_SECONDS",
    unit: "seconds",
    default: 300,
    description: "Refresh a Google access token expiring within this many seconds.",
  },
  // The single-tenant version had no YouTube data: nothing to migrate.
  legacy: { collections: [], storagePrefixes: [] },
} as const satisfies CatalogEntry;
