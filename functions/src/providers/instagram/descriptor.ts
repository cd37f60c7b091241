/**
 * Instagram (Instagram API with Instagram Login) as data: endpoints (base URLs by their catalog key:
 * INSTAGRAM_<KEY>_BASE_URL settings), scope, refresh and rate-limit style.
 */
import type { ProviderDescriptor } from "../descriptor";
import { instagramCatalog } from "./catalog";

export const instagramDescriptor = {
  id: instagramCatalog.id,
  name: instagramCatalog.name,
  authorize: { baseUrl: "AUTHORIZE", path: "/oauth/authorize" },
  // Code → short-lived token; the credentials go in the form body.
  token: { baseUrl: "OAUTH", path: "/oauth/access_token", clientAuth: "form" },
  scopes: ["instagram_business_basic"],
  scopeSeparator: ",",
  codeSuffixToStrip: "#_",
  api: { baseUrl: "GRAPH", pathPrefix: "", pageSize: 50, maxPages: 1_000 },
  // Media: scontent-*.cdninstagram.com, scontent-*.fbcdn.net (signed, expiring URLs).
  images: { hostSuffixes: ["cdninstagram.com", "fbcdn.net"] },
  refresh: {
    style: "ig_refresh_token",
    baseUrl: "GRAPH",
    path: "/refresh_access_token",
    minAgeHours: 24,
  },
  rateLimit: {
    style: "usage-headers",
    headers: ["x-business-use-case-usage", "x-app-usage"],
    errorCodes: [4, 17, 32, 613],
    // 4 is the application's limit; 17 (user), 32 (page) and 613 (call type) are one account's.
    appErrorCodes: [4],
    // Meta's usage windows are rolling hours.
    defaultWaitSeconds: 3_600,
  },
} as const satisfies ProviderDescriptor;

/** Short-lived → long-lived token exchange (on the Graph host). */
export const LONG_LIVED_EXCHANGE = { baseUrl: "GRAPH", path: "/access_token" } as const;

/**
 * Fields asked for. Media children come inline (field expansion), so a carousel costs no extra
 * request. The counts (`followers_count`, `follows_count`, `media_count`; per media `like_count`,
 * `comments_count`) are the professional account's own, readable with instagram_business_basic;
 * they feed the daily history point.
 */
export const PROFILE_FIELDS =
  "user_id,username,name,account_type,profile_picture_url,media_count,followers_count,follows_count";
export const MEDIA_FIELDS =
  "id,caption,media_type,media_url,permalink,thumbnail_url,timestamp,like_count,comments_count,children{id,media_type,media_url,thumbnail_url}";
