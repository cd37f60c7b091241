/**
 * Every setting of the product, declared once.
 *
 * A setting is one entry of SETTINGS: its kind, default, description and zod schema. Everything
 * else is derived from that table: the firebase-functions params (so `firebase deploy` knows each
 * setting, prompts for it and fills in the default; secrets are `defineSecret`s), the typed,
 * zod-checked `Config` that `loadConfig()` returns, ALL_SECRETS, the production checks
 * (placeholders, plain http), and the secrets of tests and local development. Code reads settings
 * only through `loadConfig()` / `getConfig()`; nothing else reads `process.env` for a setting.
 *
 * The settings a provider owns come from its catalog entry (providers/catalog.ts): client id and
 * secret, base URLs, its queue's rate, concurrency, attempts and backoff, its refresh margin and
 * mirror switch, all named `<PREFIX>_…` by providerSettingSpecs(); `providerSettings(config, id)`
 * reads them back as one object.
 *
 * Locally, `functions/.env.local` points the functions at the fake provider server and
 * `functions/.secret.local` (generated, git-ignored) holds development secrets.
 */
import { defineBoolean, defineInt, defineSecret, defineString } from "firebase-functions/params";
import { z } from "zod";
import { ConfigError } from "./errors";
import {
  CATALOG,
  type Catalog,
  type CatalogEntry,
  OWN_APPS_MODES,
  type OwnAppsMode,
  type ProviderId,
  type QueueLane,
  catalogEntry,
} from "./providers/catalog";

type Kind = "string" | "url" | "int" | "boolean" | "secret";

/** One setting. `schema` turns the raw string (or the default) into the typed value. */
export interface SettingSpec<K extends Kind = Kind, S extends z.ZodType = z.ZodType> {
  kind: K;
  /** Default used when the environment has no value. Secrets have none. */
  default?: string;
  description: string;
  schema: S;
  /** Secrets: the development value `functions/.secret.local` gets (the fake provider server's). */
  local?: string;
  /** A default that only makes sense locally (a fake client id): a deployed function refuses it. */
  localDefault?: boolean;
}

// --- Value schemas ---------------------------------------------------------------------------------

const urlSchema = z
  .string()
  .url()
  .transform((s) => s.replace(/\/+$/, ""));
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const bool = z.enum(["true", "false"]).transform((s) => s === "true");
const nonEmpty = z.string().min(1);

const spec = <K extends Kind, S extends z.ZodType>(
  kind: K,
  schema: S,
  description: string,
  def?: string,
  extra: Pick<SettingSpec, "local" | "localDefault"> = {},
): SettingSpec<K, S> => ({ kind, schema, description, ...(def !== undefined ? { default: def } : {}), ...extra });

const str = (def: string, description: string) => spec("string", nonEmpty, description, def);
const url = (def: string, description: string) => spec("url", urlSchema, description, def);
const int = <S extends z.ZodType<number>>(schema: S, def: number, description: string) =>
  spec("int", schema, description, String(def));
const flag = (def: boolean, description: string) => spec("boolean", bool, description, String(def));

/** A key ring entry: 32 raw bytes under an id. */
export interface KeyRingEntry {
  id: string;
  key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_BYTES = 32;
const ENTRY_SHAPE = 'is not "keyId:base64key"';

/**
 * The key ring, or a sentence saying what is wrong with it. Strict on purpose: a lenient parser
 * that keeps what it understands (the first key of `new:A;old:B`, the first line of a list) drops
 * the old keys during a rotation, and every token sealed with them then fails with `unknown_key`.
 * Entries are `keyId:base64key` separated by single commas; each key is canonical standard base64
 * of exactly 32 bytes; ids are unique. Messages name the entry by position (and its id once the id
 * is valid), never key material.
 */
function parseKeyRing(raw: string): KeyRingEntry[] | string {
  const out: KeyRingEntry[] = [];
  const entries = raw.split(",");
  for (const [i, entry] of entries.entries()) {
    const at = `entry ${i + 1}${entries.length > 1 ? ` of ${entries.length}` : ""}`;
    if (entry === "") {
      return `${at} is empty (a doubled, leading or trailing comma): entries are "keyId:base64key" separated by single commas`;
    }
    if (/\s/.test(entry)) {
      return `${at} contains whitespace (a space, tab or line break, also a trailing newline from \`echo\`): entries are "keyId:base64key" separated by commas only`;
    }
    if (/["'`]/.test(entry)) return `${at} contains quotes: write the entries without quotes`;
    if (entry.includes(";"))
      return `${at} contains ";": entries are "keyId:base64key" separated by commas, not semicolons`;
    const sep = entry.indexOf(":");
    if (sep < 0) return `${at} ${ENTRY_SHAPE} (there is no ":" between a key id and the key)`;
    const id = entry.slice(0, sep);
    const b64 = entry.slice(sep + 1);
    if (!KEY_ID.test(id)) {
      return `${at} ${ENTRY_SHAPE} (the key id before ":" must be 1 to 32 letters, digits, "_" or "-")`;
    }
    const named = `${at} (key id "${id}")`;
    if (b64 === "") return `${named} ${ENTRY_SHAPE} (there is no key after ":")`;
    const key = Buffer.from(b64, "base64");
    if (key.toString("base64") !== b64) {
      return `${named} ${ENTRY_SHAPE} (the key is not canonical standard base64: only A-Z, a-z, 0-9, "+" and "/", padded with "=")`;
    }
    if (key.length !== KEY_BYTES) {
      return `${named} decodes to ${key.length} bytes: AES-256 needs exactly ${KEY_BYTES} bytes (\`openssl rand -base64 32\`)`;
    }
    const first = out.findIndex((e) => e.id === id);
    if (first >= 0) return `${at} repeats the key id "${id}" of entry ${first + 1}: every key id must be unique`;
    out.push({ id, key });
  }
  return out;
}

const keyRing = z.string().transform((raw, ctx): KeyRingEntry[] => {
  const parsed = parseKeyRing(raw);
  if (typeof parsed === "string") {
    ctx.addIssue({ code: "custom", message: parsed });
    return z.NEVER;
  }
  return parsed;
});

// --- The general settings ----------------------------------------------------------------------------

/**
 * The timeout of the sync task functions and the dispatch deadline of their tasks (triggers/sync.ts,
 * sync/taskQueue.ts). The sync's own settings are checked against it (checkSyncTimes):
 * - SYNC_DEADLINE_SECONDS < this: the fetch stops (one request's HTTP_TIMEOUT_MS at most after the
 *   deadline) and the run still has the rest of the timeout to record `timeout` and release its
 *   lease, so a slow sync is a counted failure instead of a killed function that records nothing;
 * - LEASE_SECONDS > this + the longest `<PREFIX>_QUEUE_MIN_BACKOFF_SECONDS`: the lease outlives the
 *   longest an attempt can live and Cloud Tasks' wait before it sends the retry of an attempt it gave
 *   up on, so that retry finds the lease rather than running beside an attempt still finishing
 *   (its timeout counts from when the function received the request, the dispatch deadline from
 *   when Cloud Tasks sent it). Defaults: 420 < 540, and 660 > 540 + 60.
 */
export const SYNC_FUNCTION_TIMEOUT_SECONDS = 540;

/**
 * Settings that belong to no provider. Names are the environment variable / param names.
 * Keep descriptions short: they are shown by `firebase deploy` when it prompts.
 */
const GENERAL = {
  // --- Where the app lives -----------------------------------------------------------------------
  APP_URL: url("http://127.0.0.1:5002", "Public URL of the web app (Hosting); OAuth callbacks redirect back here."),
  OAUTH_REDIRECT_URI: url(
    "http://127.0.0.1:5002/api/oauth/callback",
    "Base of the OAuth redirect URIs (the oauthCallback function behind a Hosting rewrite): register <this>/<provider> with each provider.",
  ),
  RETURN_URL_ALLOWLIST: spec(
    "string",
    z.string().transform((s) =>
      s
        .split(",")
        .map((x) => x.trim().replace(/\/+$/, ""))
        .filter(Boolean),
    ),
    "Comma-separated origins the OAuth callback may redirect to after connecting (APP_URL is always allowed).",
    "",
  ),

  // --- Token vault -------------------------------------------------------------------------------
  TOKEN_ENCRYPTION_KEYS: spec(
    "secret",
    keyRing,
    "Key ring for OAuth tokens: comma-separated `keyId:base64key` (32-byte keys). The first key encrypts; all keys decrypt.",
  ),

  // --- Sync scheduling ---------------------------------------------------------------------------
  SYNC_SCHEDULE: str(
    "every 20 minutes",
    "Cloud Scheduler schedule of the fan-out: every SYNC_TICK_MINUTES (a connection is synced only when it is due).",
  ),
  SYNC_TIME_ZONE: str("Etc/UTC", "Time zone of the fan-out schedule."),
  SYNC_INTERVAL_MINUTES: int(
    positiveInt,
    60,
    "Minutes between two syncs of one connection (a whole number of SYNC_TICK_MINUTES).",
  ),
  SYNC_TICK_MINUTES: int(
    positiveInt.max(1_440),
    20,
    "Minutes between two fan-outs (SYNC_SCHEDULE's period, dividing SYNC_INTERVAL_MINUTES): the task-id time slot and the step of every next sync time.",
  ),
  FANOUT_PAGE_SIZE: int(positiveInt.max(10_000), 500, "Due connections read per Firestore page during fan-out."),
  FANOUT_CONCURRENCY: int(positiveInt.max(1_000), 100, "Enqueue calls in flight at once during fan-out."),
  PENDING_TASK_EXPIRY_MINUTES: int(
    positiveInt.max(7 * 1_440),
    180,
    "Minutes a connection's enqueued, not yet started sync task keeps the fan-out from enqueueing another; older, it counts as lost (and the task, should it still arrive, exits as stale).",
  ),
  QUEUE_RATE_ADAPTIVE: flag(
    false,
    "Let the fan-out adjust each provider queue's dispatch rate every tick: up by QUEUE_RATE_INCREASE while no app-wide rate limit came back, down to QUEUE_RATE_DECREASE_PERCENT after one.",
  ),
  QUEUE_RATE_MIN: int(positiveInt, 1, "Lowest dispatch rate (tasks per second) the adaptive queue rate sets."),
  QUEUE_RATE_MAX: int(positiveInt, 50, "Highest dispatch rate (tasks per second) the adaptive queue rate sets."),
  QUEUE_RATE_INCREASE: int(
    positiveInt,
    1,
    "Tasks per second the adaptive queue rate adds per fan-out tick without an app-wide rate limit.",
  ),
  QUEUE_RATE_DECREASE_PERCENT: int(
    positiveInt.max(99),
    50,
    "Percent of its dispatch rate the adaptive queue rate keeps after an app-wide rate limit (a provider pause).",
  ),
  MANUAL_SYNC_COOLDOWN_SECONDS: int(nonNegativeInt, 300, "Minimum seconds between two manual syncs of one connection."),
  LEASE_SECONDS: int(
    positiveInt,
    660,
    "How long a sync holds its lease on a connection before another may take it: longer than the sync function's 540 s timeout plus its queue's minimum retry backoff (540 + 60 < 660).",
  ),
  SYNC_DEADLINE_SECONDS: int(
    positiveInt,
    420,
    "Seconds a sync may fetch before it stops at the next request or page and records `timeout` (below the 540 s function timeout, leaving time to record the outcome).",
  ),
  FAILURE_BACKOFF_THRESHOLD: int(
    positiveInt,
    3,
    "Consecutive failures after which a connection backs off exponentially.",
  ),
  MAX_BACKOFF_HOURS: int(positiveInt, 48, "Upper bound of the exponential backoff of a failing connection."),
  SYNC_RUN_TTL_DAYS: int(positiveInt, 30, "Days a sync_runs document is kept (Firestore TTL on expiresAt)."),
  SYNC_RUNS_UNCHANGED: flag(
    false,
    "Write a sync_runs document for every run, also a scheduled one that succeeded and changed nothing (by default such runs are only counted on the connection, quietRuns).",
  ),
  PLAY_RETENTION_DAYS: int(
    nonNegativeInt,
    0,
    "Days raw plays are kept in the play log (aggregates stay); 0 keeps them forever.",
  ),
  MAX_IMAGE_BYTES: int(positiveInt, 20 * 1024 * 1024, "Largest image or media file mirrored to Storage, in bytes."),
  MIRROR_CONCURRENCY: int(positiveInt.max(100), 8, "Images or media files downloaded and stored at once by one sync."),
  MIRROR_RECONCILE_HOURS: int(
    nonNegativeInt.max(24 * 30),
    24,
    "Hours between two listings of a connection's mirror folder (restoring missing objects, deleting orphans); in between the sync trusts the manifest on the connection and an unchanged sync makes no Storage call. 0 lists on every sync.",
  ),
  EXPORT_TTL_HOURS: int(
    positiveInt.max(24 * 30),
    24,
    'Hours a finished "Download my data" export is kept in Storage before it is deleted.',
  ),

  // --- HTTP to providers -------------------------------------------------------------------------
  HTTP_TIMEOUT_MS: int(positiveInt, 15_000, "Timeout of one provider request (connect + response), in ms."),
  HTTP_MAX_RESPONSE_BYTES: int(positiveInt, 10 * 1024 * 1024, "Largest provider API response accepted, in bytes."),
  HTTP_MAX_RETRIES: int(nonNegativeInt.max(10), 3, "Retries of one provider request on 408/429/5xx."),
  RETRY_AFTER_CAP_SECONDS: int(
    nonNegativeInt,
    30,
    "Longest Retry-After waited in place; a longer one becomes a rate-limit error and the sync is rescheduled.",
  ),
  MAX_PAUSE_HOURS: int(
    positiveInt.max(24 * 30),
    24,
    "Longest a provider's rate limit may pause syncing (app-wide or one connection); at the cap the next sync probes again.",
  ),
  PROVIDER_PAUSE_CACHE_SECONDS: int(
    nonNegativeInt.max(300),
    10,
    "Seconds an instance reuses what it read of a provider's app-wide pause before reading provider_state again (0: every sync reads it).",
  ),

  // --- Imports from the web app -----------------------------------------------------------------
  IMPORT_TASK_BUDGET_SECONDS: int(
    positiveInt.max(500),
    420,
    "Seconds one importHistory task imports before it saves its checkpoint and hands over to the next task (below its 540 s timeout).",
  ),

  // --- The web app's edges -----------------------------------------------------------------------
  APP_CHECK_ENFORCED: flag(
    false,
    "Refuse callables, media and OAuth start requests without a valid App Check token (build the web app with APP_CHECK_SITE_KEY first).",
  ),
  HTTP_MAX_INSTANCES: int(
    positiveInt.max(1000),
    20,
    "Most instances of each HTTP function and callable (oauthStart, oauthCallback, media, syncNow, disconnect).",
  ),
} as const;

// --- The settings of each provider (from its catalog entry) ----------------------------------------

/** The queue settings every provider has: `<PREFIX>_QUEUE_<KEY>`. */
export const QUEUE_SETTINGS = {
  MAX_DISPATCHES_PER_SECOND: "maxDispatchesPerSecond",
  MAX_CONCURRENT: "maxConcurrent",
  MAX_ATTEMPTS: "maxAttempts",
  MIN_BACKOFF_SECONDS: "minBackoffSeconds",
  MAX_BACKOFF_SECONDS: "maxBackoffSeconds",
} as const satisfies Record<string, keyof CatalogEntry["queue"]>;
type QueueKey = keyof typeof QUEUE_SETTINGS;

type StringSpec = SettingSpec<"string", z.ZodType<string>>;
type SecretSpec = SettingSpec<"secret", z.ZodType<string>>;
type UrlSpec = SettingSpec<"url", z.ZodType<string>>;
type IntSpec = SettingSpec<"int", z.ZodType<number>>;
type BoolSpec = SettingSpec<"boolean", z.ZodType<boolean>>;
type ModeSpec = SettingSpec<"string", z.ZodType<OwnAppsMode>>;

/** The settings one catalog entry declares, with their literal names. */
type ProviderSettingSpecs<E extends CatalogEntry> = Record<`${E["settingsPrefix"]}_CLIENT_ID`, StringSpec> &
  Record<`${E["settingsPrefix"]}_CLIENT_SECRET`, SecretSpec> &
  Record<`${E["settingsPrefix"]}_${Extract<keyof E["baseUrls"], string>}_BASE_URL`, UrlSpec> &
  Record<`${E["settingsPrefix"]}_QUEUE_${QueueKey}`, IntSpec> &
  Record<E["refresh"]["setting"], IntSpec> &
  (E extends { syncInterval: { setting: infer N extends string } } ? Record<N, IntSpec> : unknown) &
  (E extends { plays: { activeSync: { setting: infer N extends string } } } ? Record<N, IntSpec> : unknown) &
  (E extends { ownApps: { setting: infer N extends string } }
    ? Record<N, ModeSpec> &
        Record<`${E["settingsPrefix"]}_OWN_APPS_QUEUE_${"MAX_DISPATCHES_PER_SECOND" | "MAX_CONCURRENT"}`, IntSpec>
    : unknown) &
  (E["mirror"] extends { setting: { name: infer N extends string } } ? Record<N, BoolSpec> : unknown);

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type EverySettingOfProviders = UnionToIntersection<
  Catalog[number] extends infer E ? (E extends CatalogEntry ? ProviderSettingSpecs<E> : never) : never
>;

/** The names of a provider's settings (what providerSettingSpecs declares). */
export function providerSettingNames(e: CatalogEntry) {
  const p = e.settingsPrefix;
  return {
    clientId: `${p}_CLIENT_ID`,
    clientSecret: `${p}_CLIENT_SECRET`,
    baseUrl: (key: string) => `${p}_${key}_BASE_URL`,
    queue: (key: QueueKey) => `${p}_QUEUE_${key}`,
    refresh: e.refresh.setting,
    mirror: e.mirror?.setting?.name,
    syncInterval: e.syncInterval?.setting,
    activeSync: e.plays?.activeSync.setting,
    ownApps: e.ownApps?.setting,
    ownAppsQueue: (key: "MAX_DISPATCHES_PER_SECOND" | "MAX_CONCURRENT") => `${p}_OWN_APPS_QUEUE_${key}`,
  };
}

/** Declares a provider's settings from its catalog entry (the one place provider settings are made). */
export function providerSettingSpecs(e: CatalogEntry): Record<string, SettingSpec> {
  const n = providerSettingNames(e);
  const out: Record<string, SettingSpec> = {
    [n.clientId]: spec("string", nonEmpty, e.clientId.description, e.clientId.default, { localDefault: true }),
    [n.clientSecret]: spec("secret", nonEmpty, e.clientSecret.description, undefined, { local: e.clientSecret.local }),
  };
  for (const [key, b] of Object.entries(e.baseUrls)) out[n.baseUrl(key)] = url(b.default, b.description);
  const q = e.queue;
  out[n.queue("MAX_DISPATCHES_PER_SECOND")] = int(
    positiveInt,
    q.maxDispatchesPerSecond,
    `${e.name} sync tasks started per second, for the whole app.`,
  );
  out[n.queue("MAX_CONCURRENT")] = int(positiveInt, q.maxConcurrent, `${e.name} sync tasks running at once.`);
  out[n.queue("MAX_ATTEMPTS")] = int(
    positiveInt,
    q.maxAttempts,
    `Attempts per ${e.name} sync task before Cloud Tasks gives up.`,
  );
  out[n.queue("MIN_BACKOFF_SECONDS")] = int(
    positiveInt,
    q.minBackoffSeconds,
    `Seconds Cloud Tasks waits before retrying a failed ${e.name} sync task (doubles each retry).`,
  );
  out[n.queue("MAX_BACKOFF_SECONDS")] = int(
    positiveInt,
    q.maxBackoffSeconds,
    `Longest wait between two retries of a failed ${e.name} sync task, in seconds.`,
  );
  const r = e.refresh;
  const margin = r.unit === "days" ? positiveInt : nonNegativeInt;
  out[n.refresh] = int(r.max !== undefined ? margin.max(r.max) : margin, r.default, r.description);
  if (e.mirror?.setting) out[e.mirror.setting.name] = flag(e.mirror.setting.default, e.mirror.setting.description);
  if (e.syncInterval)
    out[e.syncInterval.setting] = int(positiveInt, e.syncInterval.default, e.syncInterval.description);
  if (e.plays)
    out[e.plays.activeSync.setting] = int(positiveInt, e.plays.activeSync.default, e.plays.activeSync.description);
  if (e.ownApps) {
    out[e.ownApps.setting] = spec("string", z.enum(OWN_APPS_MODES), e.ownApps.description, e.ownApps.default);
    out[n.ownAppsQueue("MAX_DISPATCHES_PER_SECOND")] = int(
      positiveInt,
      e.ownApps.queue.maxDispatchesPerSecond,
      `${e.name} sync tasks of connections through people's own apps started per second.`,
    );
    out[n.ownAppsQueue("MAX_CONCURRENT")] = int(
      positiveInt,
      e.ownApps.queue.maxConcurrent,
      `${e.name} sync tasks of connections through people's own apps running at once.`,
    );
  }
  return out;
}

// --- The table -------------------------------------------------------------------------------------

type Settings = typeof GENERAL & EverySettingOfProviders;

function buildSettings(): Settings {
  const out: Record<string, SettingSpec> = { ...GENERAL };
  for (const e of CATALOG) {
    for (const [name, s] of Object.entries(providerSettingSpecs(e))) {
      if (name in out) throw new Error(`Setting ${name} is declared twice (check the catalog's settings prefixes).`);
      out[name] = s;
    }
  }
  return out as unknown as Settings;
}

/** Every setting: the general ones, then each provider's. */
export const SETTINGS: Settings = buildSettings();

export type SettingName = keyof Settings & string;
const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

const specOf = (name: string): SettingSpec | undefined => (SETTINGS as Record<string, SettingSpec>)[name];

// --- firebase-functions params (what `firebase deploy` sees) ---------------------------------------

type ParamOf<S> =
  S extends SettingSpec<"secret">
    ? ReturnType<typeof defineSecret>
    : S extends SettingSpec<"int">
      ? ReturnType<typeof defineInt>
      : S extends SettingSpec<"boolean">
        ? ReturnType<typeof defineBoolean>
        : ReturnType<typeof defineString>;

function declare(name: string, s: SettingSpec) {
  switch (s.kind) {
    case "secret":
      return defineSecret(name);
    case "int":
      return defineInt(name, { default: Number(s.default), description: s.description });
    case "boolean":
      return defineBoolean(name, { default: s.default === "true", description: s.description });
    case "string":
    case "url":
      return defineString(name, { default: s.default, description: s.description });
  }
}

/**
 * Every setting as a firebase-functions param, so the deploy tooling knows all of them; triggers
 * pass some as expressions (queue limits, the schedule, maxInstances, secrets).
 */
export const params = Object.fromEntries(SETTING_NAMES.map((name) => [name, declare(name, specOf(name)!)])) as {
  [K in SettingName]: ParamOf<Settings[K]>;
};

/**
 * Secrets every function binds. getConfig() checks all settings, so each function that reads
 * config must have all secrets available; binding them all keeps that one simple rule.
 */
export const ALL_SECRETS = SETTING_NAMES.filter((n) => specOf(n)!.kind === "secret").map(
  (n) => params[n] as ReturnType<typeof defineSecret>,
);

/**
 * The queue params of a provider, for its onTaskDispatched trigger; lane `own`: the queue of
 * connections through people's own apps (its own rate limits, the provider's retry settings).
 */
export function providerQueueParams(id: ProviderId, lane: QueueLane = "shared") {
  const e = catalogEntry(id);
  const n = providerSettingNames(e);
  const p = (key: QueueKey) => (params as Record<string, unknown>)[n.queue(key)] as ReturnType<typeof defineInt>;
  const own = (key: "MAX_DISPATCHES_PER_SECOND" | "MAX_CONCURRENT") =>
    (params as Record<string, unknown>)[n.ownAppsQueue(key)] as ReturnType<typeof defineInt>;
  const ownLane = lane === "own" && e.ownApps !== undefined;
  return {
    maxDispatchesPerSecond: ownLane ? own("MAX_DISPATCHES_PER_SECOND") : p("MAX_DISPATCHES_PER_SECOND"),
    maxConcurrent: ownLane ? own("MAX_CONCURRENT") : p("MAX_CONCURRENT"),
    maxAttempts: p("MAX_ATTEMPTS"),
    minBackoffSeconds: p("MIN_BACKOFF_SECONDS"),
    maxBackoffSeconds: p("MAX_BACKOFF_SECONDS"),
  };
}

// --- The typed config ------------------------------------------------------------------------------

const schema = z.object(
  Object.fromEntries(SETTING_NAMES.map((name) => [name, specOf(name)!.schema])) as {
    [K in SettingName]: Settings[K]["schema"];
  },
);

export type Config = z.output<typeof schema>;

/** Names of the settings a caller needs; loadConfig checks only those (scripts need fewer). */
export type ConfigKeys = readonly SettingName[];

/** A provider's settings, read from the config as one object (providerSettingSpecs declares them). */
export interface ProviderSettings {
  clientId: string;
  clientSecret: string;
  /** By the catalog entry's base-URL key ("API"), without a trailing slash. */
  baseUrls: Readonly<Record<string, string>>;
  queue: CatalogEntry["queue"];
  /** The refresh margin in seconds, whatever unit its setting uses. */
  refreshMarginSeconds: number;
  /** Whether the sync mirrors the provider's files (false without a catalog `mirror`, true without a switch). */
  mirror: boolean;
  /**
   * Minutes from one sync of a connection to its next: SYNC_INTERVAL_MINUTES, or the provider's
   * longer `syncInterval` setting rounded up to whole slots (the fan-out runs once a slot).
   */
  syncIntervalMinutes: number;
  /**
   * Minutes to the next sync after one that logged new plays or found a gap (catalog `plays`: an
   * active listener is read more often, so fewer plays fall out of the provider's short window):
   * whole SYNC_TICK_MINUTES, at least one tick and at most `syncIntervalMinutes`. Null for a
   * provider without a play log.
   */
  activeSyncMinutes: number | null;
  /**
   * Whose OAuth app people connect through (catalog `ownApps`): `shared`, the operator's app above;
   * `own`, each person's own app; `both`, a person chooses. `shared` for a provider without the setting.
   */
  apps: OwnAppsMode;
}

/** The active-listener interval: whole ticks, at least one, never longer than the regular interval. */
function activeSyncMinutes(
  config: Pick<Config, "SYNC_TICK_MINUTES">,
  own: number | undefined,
  regular: number,
): number | null {
  if (own === undefined) return null;
  const tick = config.SYNC_TICK_MINUTES;
  return Math.min(regular, Math.max(tick, Math.ceil(own / tick) * tick));
}

/** A provider's interval, never below one slot and a whole number of slots. */
function syncIntervalMinutes(config: Pick<Config, "SYNC_INTERVAL_MINUTES">, own: number | undefined): number {
  const slot = config.SYNC_INTERVAL_MINUTES;
  if (own === undefined || own <= slot) return slot;
  return Math.ceil(own / slot) * slot;
}

export function providerSettings(config: Config, id: ProviderId): ProviderSettings {
  const e = catalogEntry(id);
  const n = providerSettingNames(e);
  const c = config as unknown as Record<string, unknown>;
  const queue = Object.fromEntries(
    (Object.keys(QUEUE_SETTINGS) as QueueKey[]).map((k) => [QUEUE_SETTINGS[k], c[n.queue(k)] as number]),
  ) as unknown as CatalogEntry["queue"];
  const interval = syncIntervalMinutes(
    config,
    n.syncInterval === undefined ? undefined : (c[n.syncInterval] as number),
  );
  return {
    clientId: c[n.clientId] as string,
    clientSecret: c[n.clientSecret] as string,
    baseUrls: Object.fromEntries(Object.keys(e.baseUrls).map((k) => [k, c[n.baseUrl(k)] as string])),
    queue,
    refreshMarginSeconds: (c[n.refresh] as number) * (e.refresh.unit === "days" ? 86_400 : 1),
    mirror: e.mirror !== undefined && (n.mirror === undefined ? true : (c[n.mirror] as boolean)),
    syncIntervalMinutes: interval,
    activeSyncMinutes: activeSyncMinutes(
      config,
      n.activeSync === undefined ? undefined : (c[n.activeSync] as number),
      interval,
    ),
    apps: n.ownApps === undefined ? "shared" : (c[n.ownApps] as OwnAppsMode),
  };
}

/**
 * Values for every secret that tests and local runs can use: the development value a secret
 * declares (`local`: the fake provider server's client secrets), a fresh key ring for
 * TOKEN_ENCRYPTION_KEYS. Adding a provider adds its secret here by itself.
 */
export function localSecrets(newKey: () => string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const s = specOf(name)!;
    if (s.kind !== "secret") continue;
    out[name] = name === "TOKEN_ENCRYPTION_KEYS" ? `dev1:${newKey()}` : (s.local ?? `local-${name.toLowerCase()}`);
  }
  return out;
}

/**
 * Reads and checks settings from an environment (defaults to `process.env`).
 * A missing or malformed setting throws a ConfigError whose message names it in one sentence.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, string | undefined> = {};
  for (const name of SETTING_NAMES) {
    const value = env[name];
    raw[name] = value !== undefined && value !== "" ? value : specOf(name)!.default;
  }
  const missing = SETTING_NAMES.filter((n) => raw[n] === undefined);
  if (missing.length > 0) {
    throw new ConfigError(
      `Missing setting${missing.length > 1 ? "s" : ""} ${missing.join(", ")}: ` +
        `set ${missing.length > 1 ? "them" : "it"} with \`firebase functions:secrets:set\` ` +
        `(locally: functions/.secret.local, written by \`npm run dev-secrets\`).`,
    );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    const name = String(first.path[0] ?? "config");
    const shown = specOf(name)?.kind === "secret" ? "(secret, not shown)" : JSON.stringify(raw[name]);
    throw new ConfigError(`Setting ${name} ${describeIssue(first)}; its value is ${shown}.`);
  }
  const { SYNC_INTERVAL_MINUTES: interval, SYNC_TICK_MINUTES: tick } = parsed.data;
  if (interval % tick !== 0) {
    throw new ConfigError(
      `Setting SYNC_TICK_MINUTES (${tick}) must divide SYNC_INTERVAL_MINUTES (${interval}): the fan-out runs every tick and a connection is due a whole number of ticks later.`,
    );
  }
  checkSyncTimes(parsed.data);
  return parsed.data;
}

/** The deadline, the function timeout and the lease, as SYNC_FUNCTION_TIMEOUT_SECONDS says. */
function checkSyncTimes(c: Config): void {
  const timeout = SYNC_FUNCTION_TIMEOUT_SECONDS;
  if (c.SYNC_DEADLINE_SECONDS >= timeout) {
    throw new ConfigError(
      `Setting SYNC_DEADLINE_SECONDS (${c.SYNC_DEADLINE_SECONDS}) must be below the sync function's ${timeout} s timeout: a sync past it must still have time to record its outcome.`,
    );
  }
  const backoffs = CATALOG.map((e) => ({
    name: providerSettingNames(e).queue("MIN_BACKOFF_SECONDS"),
    seconds: providerSettings(c, e.id).queue.minBackoffSeconds,
  }));
  const longest = backoffs.reduce((a, b) => (b.seconds > a.seconds ? b : a));
  if (c.LEASE_SECONDS <= timeout + longest.seconds) {
    throw new ConfigError(
      `Setting LEASE_SECONDS (${c.LEASE_SECONDS}) must be longer than the sync function's ${timeout} s timeout plus ${longest.name} (${longest.seconds} s): a lease must outlive its run and the retry delay.`,
    );
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "custom") return issue.message;
  return `is malformed (${issue.message.toLowerCase()})`;
}

let cached: Config | undefined;

/**
 * Settings whose defaults only make sense locally (fake client ids, loopback URLs). In a deployed
 * function they mean the operator forgot to set them; say so instead of calling a fake.
 */
export function placeholderSettings(c: Config): string[] {
  const values = c as unknown as Record<string, unknown>;
  const problems: string[] = [];
  for (const name of SETTING_NAMES) {
    const s = specOf(name)!;
    const v = values[name];
    if (typeof v !== "string") continue;
    if (s.localDefault && (v === s.default || v.startsWith("fake-"))) problems.push(name);
    else if (s.kind === "url" && isLoopbackUrl(v)) problems.push(name);
  }
  if (c.RETURN_URL_ALLOWLIST.some(isLoopbackUrl)) problems.push("RETURN_URL_ALLOWLIST");
  return problems;
}

/** The settings that hold one URL the product calls or sends people to. */
const URL_SETTINGS = SETTING_NAMES.filter((n) => specOf(n)!.kind === "url");

/** True for http(s) URLs on 127.0.0.0/8, localhost or [::1]. */
export function isLoopbackUrl(u: string): boolean {
  return /^https?:\/\/(127(?:\.\d{1,3}){3}|localhost|\[::1\])(:|\/|$)/i.test(u);
}

/**
 * URL settings (and RETURN_URL_ALLOWLIST entries) that use plain http on a host other than loopback:
 * tokens, codes and the session cookie would cross the network in clear text.
 */
export function insecureSettings(c: Config): string[] {
  const plain = (u: string) => /^http:/i.test(u) && !isLoopbackUrl(u);
  const values = c as unknown as Record<string, string>;
  const problems: string[] = URL_SETTINGS.filter((name) => plain(values[name]!));
  if (c.RETURN_URL_ALLOWLIST.some(plain)) problems.push("RETURN_URL_ALLOWLIST");
  return problems;
}

/** True inside a deployed Cloud Function (Cloud Run sets K_SERVICE; the emulator sets FUNCTIONS_EMULATOR). */
export function isDeployed(env: Record<string, string | undefined> = process.env): boolean {
  return env.K_SERVICE !== undefined && env.FUNCTIONS_EMULATOR !== "true";
}

/** The config of this process, loaded once. Call inside handlers, not at module load. */
export function getConfig(): Config {
  if (cached) return cached;
  const config = loadConfig();
  if (isDeployed()) checkProductionSettings(config);
  cached = config;
  return cached;
}

/**
 * What a deployed function refuses to run with: local placeholders (fake client ids, loopback
 * URLs) and plain-http URLs. Throws one ConfigError sentence naming the settings.
 */
export function checkProductionSettings(config: Config): void {
  const placeholders = placeholderSettings(config);
  if (placeholders.length > 0) {
    throw new ConfigError(
      `Setting${placeholders.length > 1 ? "s" : ""} ${placeholders.join(", ")} still ` +
        `${placeholders.length > 1 ? "have" : "has"} a local value (a fake client id or a loopback URL); ` +
        "set the production value in functions/.env.<project> or when `firebase deploy` asks.",
    );
  }
  const insecure = insecureSettings(config);
  if (insecure.length > 0) {
    throw new ConfigError(
      `Setting${insecure.length > 1 ? "s" : ""} ${insecure.join(", ")} ${insecure.length > 1 ? "use" : "uses"} ` +
        "plain http on a public host; production URLs must be https.",
    );
  }
}

/** For tests: forget the loaded config. */
export function resetConfigForTests(): void {
  cached = undefined;
}
