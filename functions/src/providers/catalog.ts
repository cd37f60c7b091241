/**
 * The provider catalog: every provider the product knows, as plain data that the functions, the
 * web app, the fake provider server and the scripts all import. Nothing here may need Node or a
 * server library (the web app bundles it).
 *
 * A provider is one entry, exported by its own folder (`providers/<id>/catalog.ts`): its id,
 * display name, brand, what a sync stores (snapshot names, the Storage folder of its mirrored
 * files), the settings it owns (client credentials, base URLs, queue limits, refresh margin, an
 * optional mirror switch — config.ts derives every one of them from the entry), and where the
 * single-tenant layout kept its data (the migration's defaults).
 *
 * Adding a provider: its folders (functions/src/providers/<id>/, scripts/fake-providers/<id>/,
 * web/src/providers/<id>/) and its line in CATALOG below; the typed registries then make the
 * compiler ask for the provider's module, fake and panels (CONTRIBUTING.md, "Adding a provider").
 */
import { instagramCatalog } from "./instagram/catalog";
import { spotifyCatalog } from "./spotify/catalog";
import { youtubeCatalog } from "./youtube/catalog";

/** Whose OAuth app people connect through (CatalogEntry.ownApps). */
export const OWN_APPS_MODES = ["shared", "own", "both"] as const;
export type OwnAppsMode = (typeof OWN_APPS_MODES)[number];

/** A base URL a provider is reached at: a setting `<PREFIX>_<KEY>_BASE_URL`, the real endpoint by default. */
export interface BaseUrlSpec {
  default: string;
  description: string;
}

/** The shape every catalog entry has. Entries are declared `as const satisfies CatalogEntry`. */
export interface CatalogEntry {
  /** Lower-case id: the path segment in Firestore and Storage, the task payload's `provider`. */
  id: string;
  /** How people and messages name it ("YouTube"). */
  name: string;
  /** What a sync brings, in words, for the Connections page ("playlists, top tracks and artists"). */
  blurb: string;
  brand: {
    /** The brand colour (CSS colour) for the provider's card and chips. */
    color: string;
    /** A one- or two-letter mark shown in the brand colour. */
    mark: string;
  };
  /** Snapshot documents a sync writes: `users/{uid}/{id}/last-response_{name}`. */
  snapshots: readonly string[];
  /** Words for the counts a sync records on the connection (`counts.<key>`), e.g. { media: "posts" }. */
  countLabels: Readonly<Record<string, string>>;
  /**
   * Mirrored files: `{uid}/{folder}/{itemId}.{ext}`; `folder` lies under `{id}/` (so disconnecting
   * with data removes it). `setting`: a boolean setting that switches mirroring off (absent: always on).
   * No `mirror`: the provider's files are never copied, and its syncs never touch Storage.
   */
  mirror?: {
    folder: string;
    setting?: { name: string; default: boolean; description: string };
  };
  /** Prefix of the provider's settings: `<PREFIX>_CLIENT_ID`, `<PREFIX>_API_BASE_URL`, … */
  settingsPrefix: string;
  /** The app's client id (the local default is the fake provider server's) and secret. */
  clientId: { default: string; description: string };
  clientSecret: {
    description: string;
    /** What development secrets (functions/.secret.local) hold: the fake server's secret. */
    local: string;
  };
  /** Every base URL, by key: a setting `<PREFIX>_<KEY>_BASE_URL` each. */
  baseUrls: Readonly<Record<string, BaseUrlSpec>>;
  /** Defaults of the provider's Cloud Tasks queue (settings `<PREFIX>_QUEUE_*`). */
  queue: {
    maxDispatchesPerSecond: number;
    maxConcurrent: number;
    maxAttempts: number;
    minBackoffSeconds: number;
    maxBackoffSeconds: number;
  };
  /**
   * A longer interval between two syncs of one connection than SYNC_INTERVAL_MINUTES (a provider
   * with a daily quota): a setting in minutes and its default. Absent: every SYNC_INTERVAL_MINUTES.
   */
  syncInterval?: { setting: string; default: number; description: string };
  /**
   * The provider keeps a play log (listening history) read from a short window of recent plays:
   * `activeSync`, a setting in minutes and its default, the shorter interval after a sync that
   * logged new plays (or found a gap), so an active listener is read before the window overflows.
   * Absent: the provider has no play log.
   */
  plays?: { activeSync: { setting: string; default: number; description: string } };
  /**
   * What the provider's terms ask of stored data (YouTube's developer policies): `maxAgeDays`, how
   * long synced data may be kept after its last successful sync (older data is deleted, sync/
   * retention.ts); `deleteOnDisconnect`, a disconnect always deletes the data and revokes the grant
   * at the provider. Absent: data is kept until the person deletes it.
   */
  dataPolicy?: { maxAgeDays: number; deleteOnDisconnect: boolean };
  /**
   * People may connect through an OAuth app of their own instead of the operator's (Spotify's
   * development mode serves five people per app): a setting naming the mode and its default.
   * `shared`: the operator's app only; `own`: each person's own app only; `both`: a person chooses.
   * Absent: the operator's app only. The provider's module checks an app (`checkApp`).
   */
  ownApps?: {
    setting: string;
    default: OwnAppsMode;
    description: string;
    /**
     * Defaults of the second queue, for connections made through people's own apps (settings
     * `<PREFIX>_OWN_APPS_QUEUE_*`): each own app has its own budget at the provider, so those tasks
     * never use the operator's app's dispatch rate (`queue` above), and theirs is bounded by the
     * functions' capacity only.
     */
    queue: { maxDispatchesPerSecond: number; maxConcurrent: number };
  };
  /** When to refresh tokens: a setting (named here: its unit is part of its name) and its default. */
  refresh: { setting: string; unit: "seconds" | "days"; default: number; max?: number; description: string };
  /** The single-tenant layout's collections and Storage prefixes of this provider (the migration's defaults). */
  legacy: { collections: readonly string[]; storagePrefixes: readonly string[] };
}

export const CATALOG = [spotifyCatalog, instagramCatalog, youtubeCatalog] as const satisfies readonly CatalogEntry[];

export type Catalog = typeof CATALOG;
export type ProviderId = Catalog[number]["id"];
/** The catalog entry of one provider, with its literal types. */
export type CatalogEntryOf<P extends ProviderId> = Extract<Catalog[number], { id: P }>;

export const PROVIDERS: readonly ProviderId[] = CATALOG.map((e) => e.id);

export function isProviderId(value: unknown): value is ProviderId {
  return typeof value === "string" && (PROVIDERS as readonly string[]).includes(value);
}

const BY_ID = new Map<string, CatalogEntry>(CATALOG.map((e) => [e.id, e]));

/** The entry of a provider id (throws for an unknown id: callers check ids at the boundary). */
export function catalogEntry(id: ProviderId): CatalogEntry {
  const e = BY_ID.get(id);
  if (!e) throw new Error(`Unknown provider ${JSON.stringify(String(id).slice(0, 32))}.`);
  return e;
}

/** The display name of a provider id ("Spotify"); the id itself for an unknown one. */
export function providerName(id: string): string {
  return BY_ID.get(id)?.name ?? id;
}

/**
 * The onTaskDispatched function (and so the Cloud Tasks queue) of a provider: `sync` + its id with
 * a capital first letter (`syncSpotify`). Deployed function names: keep them stable.
 */
export function queueFunctionName(id: ProviderId): string {
  return `sync${id.charAt(0).toUpperCase()}${id.slice(1)}`;
}

/** Which queue a connection's tasks go to: its provider's (the operator's app) or the own-apps one. */
export type QueueLane = "shared" | "own";

/**
 * The queue function of a lane: `queueFunctionName(id)` for the operator's app, `…OwnApps`
 * (`syncSpotifyOwnApps`) for connections made through people's own apps — only for providers
 * with `ownApps`; others have one queue whatever the lane.
 */
export function laneFunctionName(id: ProviderId, lane: QueueLane): string {
  return lane === "own" && catalogEntry(id).ownApps ? `${queueFunctionName(id)}OwnApps` : queueFunctionName(id);
}

/** The providers with a queue for own apps. */
export function providersWithOwnApps(): ProviderId[] {
  return PROVIDERS.filter((p) => catalogEntry(p).ownApps !== undefined);
}
