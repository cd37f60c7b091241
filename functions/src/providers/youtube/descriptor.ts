/**
 * YouTube as data: Google's OAuth endpoints (base URLs by their catalog key: YOUTUBE_<KEY>_BASE_URL
 * settings), scopes, refresh and rate-limit style. The Data API itself is called through Google's
 * client library (index.ts), whose `rootUrl` is the DATA base URL.
 */
import type { ProviderDescriptor } from "../descriptor";
import { youtubeCatalog } from "./catalog";

/** Read-only access to the person's YouTube account: a sensitive scope (README, "YouTube"). */
export const YOUTUBE_READONLY = "https://www.googleapis.com/auth/youtube.readonly";

export const youtubeDescriptor = {
  id: youtubeCatalog.id,
  name: youtubeCatalog.name,
  // access_type=offline: a refresh token. prompt=consent: Google issues a refresh token only on a
  // consent, so a reconnect without it would come back without one.
  authorize: {
    baseUrl: "AUTHORIZE",
    path: "/o/oauth2/v2/auth",
    params: { access_type: "offline", prompt: "consent" },
  },
  token: { baseUrl: "OAUTH", path: "/token", clientAuth: "form" },
  // openid: the Google account id (`sub`), the connection's account id even without a channel.
  scopes: ["openid", YOUTUBE_READONLY],
  scopeSeparator: " ",
  api: { baseUrl: "DATA", pathPrefix: "/youtube/v3", pageSize: 50, maxPages: 400 },
  // Not downloaded (no mirror); the hosts thumbnails come from, for the record and the CSP.
  images: { hostSuffixes: ["ytimg.com", "ggpht.com", "googleusercontent.com"] },
  refresh: { style: "refresh_token" },
  // Google's short limits are per user; the daily quota (403 quotaExceeded) is read by the module.
  rateLimit: { style: "retry-after", scope: "account" },
} as const satisfies ProviderDescriptor;

/** Google's OAuth endpoints besides the token endpoint (on the OAUTH base URL). */
export const TOKENINFO_PATH = "/tokeninfo";
export const REVOKE_PATH = "/revoke";

/** The project's quota resets at midnight in this zone (daylight saving included). */
export const QUOTA_TIME_ZONE = "America/Los_Angeles";
