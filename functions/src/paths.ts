/**
 * The ONE place that spells Firestore and Storage paths. No other file builds a path from strings.
 *
 * Every user-owned Firestore path starts with `users/{uid}`; every user-owned Storage object
 * starts with `{uid}/`. Each id is checked so a hostile or broken value ("..", "a/b", "__x__")
 * can never address another user's data.
 */
import { InvalidInputError } from "./errors";
import { CATALOG, PROVIDERS, type ProviderId, catalogEntry, isProviderId } from "./providers/catalog";

/** TextEncoder (not Buffer) so the web app can bundle this module too. */
const utf8 = new TextEncoder();

/** The providers of the catalog (providers/catalog.ts). */
export { PROVIDERS };
export type Provider = ProviderId;

export const isProvider = isProviderId;

/** Checks one path segment: non-empty, no '/', not '.' or '..', not Firestore-reserved `__x__`, ≤ 1,500 bytes. */
export function segment(kind: string, value: string): string {
  if (
    typeof value !== "string" ||
    value.length === 0 ||
    value.includes("/") ||
    value === "." ||
    value === ".." ||
    /^__.*__$/.test(value) ||
    utf8.encode(value).length > 1500
  ) {
    throw new InvalidInputError(`Invalid ${kind} for a path: ${JSON.stringify(String(value).slice(0, 64))}.`);
  }
  return value;
}

function provider(p: Provider): Provider {
  if (!isProvider(p)) throw new InvalidInputError(`Unknown provider ${JSON.stringify(p)}.`);
  return p;
}

// --- Firestore ---------------------------------------------------------------------------------

export const USERS = "users";
/** Collection-group id of connections (the fan-out queries it). */
export const CONNECTIONS = "connections";
export const OAUTH_TOKENS = "oauth_tokens";
/**
 * Collection-group id of people's own OAuth apps (`users/{uid}/provider_apps/{provider}`: client
 * id and the sealed client secret). Server only.
 */
export const PROVIDER_APPS = "provider_apps";
/** Under `provider_state/{provider}`: the rate-limit pause of one person's own app, by client id. */
export const APP_STATE = "apps";
export const SYNC_RUNS = "sync_runs";
export const OAUTH_STATES = "oauth_states";
/** Server-only state per provider (`provider_state/{provider}`): an app-wide rate-limit pause. */
export const PROVIDER_STATE = "provider_state";
/**
 * Server-only claims of provider accounts: `provider_accounts/{provider}-{sha256(account id)}` =
 * { uid }. A provider account is connected under one person of the app at a time.
 */
export const PROVIDER_ACCOUNTS = "provider_accounts";
/**
 * Server-only claims of people's own apps: `provider_app_claims/{provider}-{sha256(client id)}` =
 * { uid }. An own app serves the one person who saved it (Spotify's terms for development mode).
 */
export const PROVIDER_APP_CLAIMS = "provider_app_claims";
/** The play log: `users/{uid}/plays/{playId}` (history/model.ts). Owner reads. */
export const PLAYS = "plays";
/** Month aggregates of the play log: `users/{uid}/play_stats/{provider}-{YYYY-MM}`. Owner reads. */
export const PLAY_STATS = "play_stats";
/** Daily points of the other data: `users/{uid}/history/{provider}-{YYYY-MM}`. Owner reads. */
export const HISTORY = "history";
/** Imports of Spotify's streaming history: `users/{uid}/imports/{importId}` (imports/job.ts). Owner reads. */
export const IMPORTS = "imports";
/** "Download my data" exports: `users/{uid}/exports/{exportId}` (exports/). Owner reads. */
export const EXPORTS = "exports";
/** Server-only operational documents (checkpoints of scripts, fan-out bookkeeping). */
export const OPS = "ops";
/** Sub-collection holding the parts of a snapshot too large for one document. */
export const SNAPSHOT_PARTS = "parts";
export const SNAPSHOT_PREFIX = "last-response_";

/** Trigger pattern of the profile document (firebase-functions path pattern). */
export const USER_DOC_PATTERN = `${USERS}/{uid}`;

export const firestorePaths = {
  usersCollection: () => USERS,
  /** The profile: the seed's `/users/{userId}/profile`. */
  user: (uid: string) => `${USERS}/${segment("uid", uid)}`,
  oauthTokens: (uid: string) => `${USERS}/${segment("uid", uid)}/${OAUTH_TOKENS}`,
  oauthToken: (uid: string, p: Provider) => `${USERS}/${segment("uid", uid)}/${OAUTH_TOKENS}/${provider(p)}`,
  connections: (uid: string) => `${USERS}/${segment("uid", uid)}/${CONNECTIONS}`,
  connection: (uid: string, p: Provider) => `${USERS}/${segment("uid", uid)}/${CONNECTIONS}/${provider(p)}`,
  /** The provider's snapshot collection, e.g. `users/{uid}/spotify`. */
  snapshots: (uid: string, p: Provider) => `${USERS}/${segment("uid", uid)}/${provider(p)}`,
  /** A snapshot document, e.g. `users/{uid}/spotify/last-response_playlists`. */
  snapshot: (uid: string, p: Provider, name: string) =>
    `${USERS}/${segment("uid", uid)}/${provider(p)}/${SNAPSHOT_PREFIX}${segment("snapshot name", name)}`,
  /** Parts of a large snapshot: `users/{uid}/spotify/last-response_playlists/parts/{n}`. */
  snapshotParts: (uid: string, p: Provider, name: string) =>
    `${firestorePaths.snapshot(uid, p, name)}/${SNAPSHOT_PARTS}`,
  snapshotPart: (uid: string, p: Provider, name: string, index: number) =>
    `${firestorePaths.snapshotParts(uid, p, name)}/${partId(index)}`,
  /**
   * A part of one generation of a large snapshot: `…/parts/{generation}-{00000}`. The sync writes a
   * new generation's parts before switching the snapshot document to it, so the last good snapshot
   * stays whole if a write stops halfway.
   */
  snapshotGenerationPart: (uid: string, p: Provider, name: string, generation: string, index: number) =>
    `${firestorePaths.snapshotParts(uid, p, name)}/${segment("snapshot generation", generation)}-${partId(index)}`,
  syncRuns: (uid: string) => `${USERS}/${segment("uid", uid)}/${SYNC_RUNS}`,
  syncRun: (uid: string, runId: string) => `${USERS}/${segment("uid", uid)}/${SYNC_RUNS}/${segment("run id", runId)}`,
  oauthStates: () => OAUTH_STATES,
  oauthState: (id: string) => `${OAUTH_STATES}/${segment("state id", id)}`,
  providerState: (p: Provider) => `${PROVIDER_STATE}/${provider(p)}`,
  /** The pauses of people's own apps of a provider: `provider_state/{provider}/apps`. */
  appStates: (p: Provider) => `${PROVIDER_STATE}/${provider(p)}/${APP_STATE}`,
  /** The pause of one own app: `provider_state/{provider}/apps/{clientId}`. */
  appState: (p: Provider, clientId: string) =>
    `${PROVIDER_STATE}/${provider(p)}/${APP_STATE}/${segment("client id", clientId)}`,
  providerApps: (uid: string) => `${USERS}/${segment("uid", uid)}/${PROVIDER_APPS}`,
  /** A person's own app of a provider: `users/{uid}/provider_apps/{provider}`. */
  providerApp: (uid: string, p: Provider) => `${USERS}/${segment("uid", uid)}/${PROVIDER_APPS}/${provider(p)}`,
  providerAccountClaims: () => PROVIDER_ACCOUNTS,
  /** The claim of a provider account; `accountKey` is the hex SHA-256 of the provider's account id. */
  providerAccountClaim: (p: Provider, accountKey: string) =>
    `${PROVIDER_ACCOUNTS}/${provider(p)}-${segment("account key", accountKey)}`,
  providerAppClaims: () => PROVIDER_APP_CLAIMS,
  /** The claim of an own app; `appKey` is the hex SHA-256 of its client id. */
  providerAppClaim: (p: Provider, appKey: string) =>
    `${PROVIDER_APP_CLAIMS}/${provider(p)}-${segment("app key", appKey)}`,
  plays: (uid: string) => `${USERS}/${segment("uid", uid)}/${PLAYS}`,
  play: (uid: string, playId: string) => `${USERS}/${segment("uid", uid)}/${PLAYS}/${segment("play id", playId)}`,
  playStats: (uid: string) => `${USERS}/${segment("uid", uid)}/${PLAY_STATS}`,
  /** `monthId` from history/model.ts monthDocId: `spotify-2026-12`. */
  playStatsMonth: (uid: string, monthId: string) =>
    `${USERS}/${segment("uid", uid)}/${PLAY_STATS}/${segment("month id", monthId)}`,
  history: (uid: string) => `${USERS}/${segment("uid", uid)}/${HISTORY}`,
  historyMonth: (uid: string, monthId: string) =>
    `${USERS}/${segment("uid", uid)}/${HISTORY}/${segment("month id", monthId)}`,
  imports: (uid: string) => `${USERS}/${segment("uid", uid)}/${IMPORTS}`,
  importJob: (uid: string, importId: string) =>
    `${USERS}/${segment("uid", uid)}/${IMPORTS}/${segment("import id", importId)}`,
  exports: (uid: string) => `${USERS}/${segment("uid", uid)}/${EXPORTS}`,
  exportJob: (uid: string, exportId: string) =>
    `${USERS}/${segment("uid", uid)}/${EXPORTS}/${segment("export id", exportId)}`,
  ops: () => OPS,
  opsDoc: (id: string) => `${OPS}/${segment("ops id", id)}`,
} as const;

/** Zero-padded part ids sort in order. */
export function partId(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 99_999) {
    throw new InvalidInputError(`Invalid snapshot part index ${index}.`);
  }
  return String(index).padStart(5, "0");
}

/** Extracts (uid, provider) from a connection document path, or undefined if it is not one. */
export function parseConnectionPath(path: string): { uid: string; provider: Provider } | undefined {
  const parts = path.split("/");
  if (parts.length !== 4 || parts[0] !== USERS || parts[2] !== CONNECTIONS) return undefined;
  const [, uid, , p] = parts;
  if (!uid || !isProvider(p)) return undefined;
  return { uid, provider: p };
}

// --- Cloud Storage -----------------------------------------------------------------------------

/** Folder of a provider's mirrored objects under a user (the catalog's `mirror.folder`). */
function mirrorFolder(p: Provider): string {
  const mirror = catalogEntry(provider(p)).mirror;
  if (!mirror) throw new Error(`${catalogEntry(p).name} mirrors no files.`);
  return mirror.folder;
}

export const storagePaths = {
  /** Every object a user owns starts with this prefix. */
  userPrefix: (uid: string) => `${segment("uid", uid)}/`,
  /** Every object of one provider for one user. */
  providerPrefix: (uid: string, p: Provider) => `${segment("uid", uid)}/${provider(p)}/`,
  /** The mirrored objects of a provider (e.g. playlist covers, media files). */
  mirrorPrefix: (uid: string, p: Provider) => `${segment("uid", uid)}/${mirrorFolder(p)}/`,
  /** One mirrored file: `{uid}/{mirror folder}/{itemId}.{ext}` (e.g. `u1/spotify/playlists/p1.jpg`). */
  mirrorObject: (uid: string, p: Provider, itemId: string, ext: string) =>
    `${storagePaths.mirrorPrefix(uid, p)}${segment("item id", itemId)}.${extension(ext)}`,
  /** An upload being imported, in parts of at most a request each: `{uid}/imports/{importId}/`. */
  importPrefix: (uid: string, importId: string) =>
    `${segment("uid", uid)}/${IMPORTS}/${segment("import id", importId)}/`,
  /** Part `index` of an upload: `{uid}/imports/{importId}/part-00000`. */
  importPart: (uid: string, importId: string, index: number) =>
    `${storagePaths.importPrefix(uid, importId)}part-${partId(index)}`,
  /** A finished export: `{uid}/exports/{exportId}.zip`, served to its owner by the media function. */
  exportObject: (uid: string, exportId: string) =>
    `${segment("uid", uid)}/${EXPORTS}/${segment("export id", exportId)}.zip`,
} as const;

/**
 * Whether `objectPath` names an object owned by `uid` (it lies under `{uid}/`). Every segment is
 * checked first: a malformed path ("..", empty segments, over 10 segments) throws InvalidInputError.
 * The media function serves an object to a signed-in person only when this is true.
 */
export function isOwnedObject(uid: string, objectPath: string): boolean {
  const parts = String(objectPath).split("/");
  if (parts.length < 2 || parts.length > 10) {
    throw new InvalidInputError(`Invalid object path: ${JSON.stringify(String(objectPath).slice(0, 64))}.`);
  }
  for (const part of parts) segment("object path segment", part);
  return `${parts[0]}/` === storagePaths.userPrefix(uid);
}

function extension(ext: string): string {
  if (!/^[a-z0-9]{1,5}$/.test(ext)) throw new InvalidInputError(`Invalid file extension ${JSON.stringify(ext)}.`);
  return ext;
}

// --- The single-tenant (legacy) layout, read by the migration only ----------------------------

/** Legacy collection → provider, from the catalog's `legacy.collections`. */
const LEGACY_COLLECTIONS: ReadonlyMap<string, Provider> = new Map(
  CATALOG.flatMap((e) => e.legacy.collections.map((c) => [c, e.id] as const)),
);

export const legacyPaths = {
  /** Default legacy Firestore collections holding `last-response_*` documents (every provider's). */
  defaultCollections: [...LEGACY_COLLECTIONS.keys()] as readonly string[],
  /** Default legacy Storage prefixes and the provider each belongs to. */
  defaultStoragePrefixes: Object.fromEntries(
    CATALOG.flatMap((e) => e.legacy.storagePrefixes.map((prefix) => [prefix, e.id] as const)),
  ) as Readonly<Record<string, Provider>>,
  /** A legacy root collection (the catalog entries' `legacy.collections`). */
  collection: (name: string) => segment("legacy collection", name),
  /** The provider a legacy collection belongs to by default (the catalog says `ig` is Instagram's), or undefined. */
  providerOfCollection: (name: string): Provider | undefined => LEGACY_COLLECTIONS.get(name),
  /** A legacy Storage prefix: segments joined by '/', ending in '/'. */
  storagePrefix: (prefix: string) => {
    const parts = prefix.split("/");
    if (parts.pop() !== "" || parts.length === 0) {
      throw new InvalidInputError(
        `Invalid legacy Storage prefix ${JSON.stringify(prefix.slice(0, 64))}: it must end in '/'.`,
      );
    }
    return `${parts.map((p) => segment("legacy prefix segment", p)).join("/")}/`;
  },
} as const;

/** Where the migration puts legacy data, and its bookkeeping. */
export const migrationPaths = {
  /**
   * A legacy document `{collection}/{rel…}` moves to `users/{uid}/{provider}/{rel…}`, where `rel`
   * is the document's path below the legacy collection (doc id, then subcollection/doc pairs).
   */
  targetDoc: (uid: string, p: Provider, rel: readonly string[]) => {
    if (rel.length % 2 !== 1)
      throw new InvalidInputError(`A document path below a collection has an odd number of segments.`);
    return `${firestorePaths.snapshots(uid, p)}/${rel.map((s) => segment("document path segment", s)).join("/")}`;
  },
  /** A legacy object `{prefix}{rest}` moves to `{uid}/{provider's mirror folder}/{rest}`. */
  targetObject: (uid: string, p: Provider, rest: string) =>
    `${storagePaths.mirrorPrefix(uid, p)}${rest
      .split("/")
      .map((s) => segment("object name segment", s))
      .join("/")}`,
  /** The checkpoint of the migration into `uid`. */
  checkpoint: (uid: string) => firestorePaths.opsDoc(`migrate-${segment("uid", uid)}`),
  /** Ledger pages of the migration: what apply wrote ("written") and what verify checked ("verified"). */
  ledger: (uid: string, kind: "written" | "verified") => `${migrationPaths.checkpoint(uid)}/${kind}`,
  ledgerPage: (uid: string, kind: "written" | "verified", id: string) =>
    `${migrationPaths.ledger(uid, kind)}/${segment("ledger page id", id)}`,
} as const;
