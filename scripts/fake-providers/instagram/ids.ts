/** Fake Instagram's fixed names: its id, app, scopes, route prefixes and endpoints. */
import type { RouteKind } from "../faults";
import { type BaseUrlKey, appOf } from "../fake";
import { instagramCatalog } from "../../../functions/src/providers/instagram/catalog";

export const ID = instagramCatalog.id;
export const APP = appOf(instagramCatalog);

export const SCOPES = ["instagram_business_basic"] as const;

/** The route prefix that answers for each base URL (functions/.env.local points there). */
export const PREFIXES: Record<BaseUrlKey<typeof ID>, string> = {
  AUTHORIZE: "/instagram-www",
  OAUTH: "/instagram-api",
  GRAPH: "/instagram-graph",
};
/** Media files (signed, expiring URLs). */
export const CDN_PREFIX = "/cdn/instagram";

/** Endpoint names (faults, stats) and their kind of route. */
export const ENDPOINTS = {
  authorize: "page",
  token: "token",
  access_token: "token",
  refresh_access_token: "token",
  me: "api",
  media: "api",
  cdn: "cdn",
} as const satisfies Record<string, RouteKind>;
export type Endpoint = keyof typeof ENDPOINTS;
