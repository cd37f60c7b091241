/** Instagram in the provider catalog (catalog.ts): plain data, safe for the web app to bundle. */
import type { CatalogEntry } from "../catalog";

export const instagramCatalog = {
  id: "instagram",
  name: "Instagram",
  blurb: "your posts, photos and videos",
  brand: { color: "#c13584", mark: "Ig" },
  snapshots: ["profile", "media"],
  countLabels: { media: "posts", images: "images mirrored" },
  // Media of the person's own account are always mirrored: their CDN URLs expire within days.
  mirror: { folder: "instagram" },
  settingsPrefix: "INSTAGRAM",
  clientId: {
    default: "fake-instagram-app-id",
    description: "Instagram app id (Meta app dashboard, Instagram API with Instagram Login).",
  },
  clientSecret: { description: "Instagram app secret.", local: "fake-instagram-app-secret" },
  baseUrls: {
    AUTHORIZE: { default: "https://www.instagram.com", description: "Instagram authorize page." },
    OAUTH: { default: "https://api.instagram.com", description: "Instagram code exchange endpoint." },
    GRAPH: {
      default: "https://graph.instagram.com",
      description: "Instagram Graph API (media, long-lived tokens, refresh).",
    },
  },
  // Meta's platform rate limit is per app and grows with its people (calls per rolling hour =
  // 200 × daily active users); an hourly sync makes 2 calls, 1% of a person's share. So the
  // budget does not bound the queue, and a faster queue keeps more syncs on one instance (cost).
  queue: {
    maxDispatchesPerSecond: 20,
    maxConcurrent: 20,
    maxAttempts: 5,
    minBackoffSeconds: 60,
    maxBackoffSeconds: 900,
  },
  refresh: {
    setting: "INSTAGRAM_REFRESH_MARGIN_DAYS",
    unit: "days",
    default: 10,
    max: 59,
    description: "Refresh an Instagram long-lived token when fewer days than this remain.",
  },
  // The single-tenant version kept media under `ig` (Firestore and Storage) as well as `instagram`.
  legacy: { collections: ["instagram", "ig"], storagePrefixes: ["ig/"] },
} as const satisfies CatalogEntry;
