/** Fake YouTube's fixed names: its id, app, scopes, route prefixes and endpoints. */
import type { RouteKind } from "../faults";
import { type BaseUrlKey, appOf } from "../fake";
import { youtubeCatalog } from "../../../functions/src/providers/youtube/catalog";

export const ID = youtubeCatalog.id;
export const APP = appOf(youtubeCatalog);

/** Read-only access to the person's YouTube account (what the Data API routes require). */
export const YOUTUBE_READONLY = "https://www.googleapis.com/auth/youtube.readonly";
export const SCOPES = ["openid", YOUTUBE_READONLY] as const;
/** Scopes that also allow reading (the broader YouTube scopes include read access). */
export const READ_SCOPES: readonly string[] = [
  YOUTUBE_READONLY,
  "https://www.googleapis.com/auth/youtube",
  "https://www.googleapis.com/auth/youtube.force-ssl",
];
/**
 * Sign-in scopes Google's granular consent never lets a person untick (the app always gets them
 * when it asks); every other requested scope gets a checkbox on the consent page.
 */
export const BASIC_SCOPES: readonly string[] = ["openid", "email", "profile"];

/**
 * The route prefix that answers for each base URL (functions/.env.local points there). DATA is the
 * fake's root: Google's client library replaces the origin of its URLs with `rootUrl` and drops
 * any path of it, so the Data API has to answer at /youtube/v3/… on the root.
 */
export const PREFIXES: Record<BaseUrlKey<typeof ID>, string> = {
  AUTHORIZE: "/google-accounts",
  OAUTH: "/google-oauth2",
  DATA: "",
};
/** Thumbnails (i.ytimg.com and yt3.ggpht.com in production). */
export const CDN_PREFIX = "/cdn/youtube";
/** The Data API's path below the DATA base URL. */
export const DATA_PATH = `${PREFIXES.DATA}/youtube/v3`;

/** Endpoint names (faults, stats) and their kind of route. */
export const ENDPOINTS = {
  authorize: "page",
  token: "token",
  revoke: "token",
  tokeninfo: "token",
  channels: "api",
  videos: "api",
  subscriptions: "api",
  playlists: "api",
  cdn: "cdn",
} as const satisfies Record<string, RouteKind>;
export type Endpoint = keyof typeof ENDPOINTS;
