/**
 * Every setting of the product, declared once.
 *
 * Each setting is a firebase-functions param (so `firebase deploy` knows it, prompts for it and
 * fills in the default), and `loadConfig()` turns the raw values into one typed, zod-checked
 * object. Code reads settings only through `loadConfig()` / `getConfig()`; nothing else reads
 * `process.env` for a setting.
 *
 * Locally, `functions/.env.local` points the functions at the fake provider server and
 * `functions/.secret.local` (generated, git-ignored) holds development secrets.
 */
import { defineBoolean, defineInt, defineSecret, defineString } from "firebase-functions/params";
import { z } from "zod";
import { ConfigError } from "./errors";

type Kind = "string" | "int" | "boolean" | "secret";

interface SettingSpec {
  kind: Kind;
  /** Default used when the environment has no value. Secrets have none. */
  default?: string;
  description: string;
}

/**
 * The table of settings. Names are the environment variable / param names.
 * Keep descriptions short: they are shown by `firebase deploy` when it prompts.
 */
export const SETTINGS = {
  // --- Where the app lives -------------------------------------------------------------------
  APP_URL: {
    kind: "string",
    default: "http://127.0.0.1:5002",
    description: "Public URL of the web app (Hosting); OAuth callbacks redirect back here.",
  },
  OAUTH_REDIRECT_URI: {
    kind: "string",
    default: "http://127.0.0.1:5002/api/oauth/callback",
    description:
      "Base of the OAuth redirect URIs (the oauthCallback function behind a Hosting rewrite): register <this>/spotify with Spotify and <this>/instagram with Instagram.",
  },
  RETURN_URL_ALLOWLIST: {
    kind: "string",
    default: "",
    description:
      "Comma-separated origins the OAuth callback may redirect to after connecting (APP_URL is always allowed).",
  },

  // --- Provider apps ---------------------------------------------------------------------------
  SPOTIFY_CLIENT_ID: {
    kind: "string",
    default: "fake-spotify-client-id",
    description: "Spotify app client id (developer.spotify.com dashboard).",
  },
  SPOTIFY_CLIENT_SECRET: { kind: "secret", description: "Spotify app client secret." },
  INSTAGRAM_CLIENT_ID: {
    kind: "string",
    default: "fake-instagram-app-id",
    description: "Instagram app id (Meta app dashboard, Instagram API with Instagram Login).",
  },
  INSTAGRAM_CLIENT_SECRET: { kind: "secret", description: "Instagram app secret." },

  // --- Provider base URLs (real endpoints by default; the fake server locally) ----------------
  SPOTIFY_ACCOUNTS_BASE_URL: {
    kind: "string",
    default: "https://accounts.spotify.com",
    description: "Spotify accounts service (authorize and token endpoints).",
  },
  SPOTIFY_API_BASE_URL: {
    kind: "string",
    default: "https://api.spotify.com",
    description: "Spotify Web API.",
  },
  INSTAGRAM_AUTHORIZE_BASE_URL: {
    kind: "string",
    default: "https://www.instagram.com",
    description: "Instagram authorize page.",
  },
  INSTAGRAM_OAUTH_BASE_URL: {
    kind: "string",
    default: "https://api.instagram.com",
    description: "Instagram code exchange endpoint.",
  },
  INSTAGRAM_GRAPH_BASE_URL: {
    kind: "string",
    default: "https://graph.instagram.com",
    description: "Instagram Graph API (media, long-lived tokens, refresh).",
  },

  // --- Token vault -----------------------------------------------------------------------------
  TOKEN_ENCRYPTION_KEYS: {
    kind: "secret",
    description:
      "Key ring for OAuth tokens: comma-separated `keyId:base64key` (32-byte keys). The first key encrypts; all keys decrypt.",
  },

  // --- Sync scheduling -------------------------------------------------------------------------
  SYNC_SCHEDULE: {
    kind: "string",
    default: "every 60 minutes",
    description: "Cloud Scheduler schedule of the fan-out.",
  },
  SYNC_TIME_ZONE: {
    kind: "string",
    default: "Etc/UTC",
    description: "Time zone of the fan-out schedule.",
  },
  SYNC_INTERVAL_MINUTES: {
    kind: "int",
    default: "60",
    description: "Minutes between two syncs of one connection (also the task-id time slot).",
  },
  FANOUT_PAGE_SIZE: {
    kind: "int",
    default: "500",
    description: "Due connections read per Firestore page during fan-out.",
  },
  FANOUT_CONCURRENCY: {
    kind: "int",
    default: "100",
    description: "Enqueue calls in flight at once during fan-out.",
  },
  MANUAL_SYNC_COOLDOWN_SECONDS: {
    kind: "int",
    default: "300",
    description: "Minimum seconds between two manual syncs of one connection.",
  },
  LEASE_SECONDS: {
    kind: "int",
    default: "600",
    description: "How long a sync holds its lease on a connection before another may take it.",
  },
  FAILURE_BACKOFF_THRESHOLD: {
    kind: "int",
    default: "3",
    description: "Consecutive failures after which a connection backs off exponentially.",
  },
  MAX_BACKOFF_HOURS: {
    kind: "int",
    default: "48",
    description: "Upper bound of the exponential backoff of a failing connection.",
  },
  SYNC_RUN_TTL_DAYS: {
    kind: "int",
    default: "30",
    description: "Days a sync_runs document is kept (Firestore TTL on expiresAt).",
  },
  MIRROR_SPOTIFY_COVERS: {
    kind: "boolean",
    default: "true",
    description:
      "Copy Spotify playlist covers to Storage. Spotify's developer terms restrict downloading cover art: check yours.",
  },
  MAX_IMAGE_BYTES: {
    kind: "int",
    default: String(20 * 1024 * 1024),
    description: "Largest image or media file mirrored to Storage, in bytes.",
  },
  MIRROR_CONCURRENCY: {
    kind: "int",
    default: "8",
    description: "Images or media files downloaded and stored at once by one sync.",
  },
  QUEUE_MIN_BACKOFF_SECONDS: {
    kind: "int",
    default: "60",
    description: "Seconds Cloud Tasks waits before retrying a failed sync task (doubles each retry).",
  },
  QUEUE_MAX_BACKOFF_SECONDS: {
    kind: "int",
    default: "900",
    description: "Longest wait between two retries of a failed sync task, in seconds.",
  },

  // --- Task queues (per provider) --------------------------------------------------------------
  SPOTIFY_QUEUE_MAX_DISPATCHES_PER_SECOND: {
    kind: "int",
    default: "5",
    description: "Spotify sync tasks started per second, for the whole app.",
  },
  SPOTIFY_QUEUE_MAX_CONCURRENT: {
    kind: "int",
    default: "10",
    description: "Spotify sync tasks running at once.",
  },
  SPOTIFY_QUEUE_MAX_ATTEMPTS: {
    kind: "int",
    default: "5",
    description: "Attempts per Spotify sync task before Cloud Tasks gives up.",
  },
  INSTAGRAM_QUEUE_MAX_DISPATCHES_PER_SECOND: {
    kind: "int",
    default: "5",
    description: "Instagram sync tasks started per second, for the whole app.",
  },
  INSTAGRAM_QUEUE_MAX_CONCURRENT: {
    kind: "int",
    default: "10",
    description: "Instagram sync tasks running at once.",
  },
  INSTAGRAM_QUEUE_MAX_ATTEMPTS: {
    kind: "int",
    default: "5",
    description: "Attempts per Instagram sync task before Cloud Tasks gives up.",
  },

  // --- HTTP to providers -----------------------------------------------------------------------
  HTTP_TIMEOUT_MS: {
    kind: "int",
    default: "15000",
    description: "Timeout of one provider request (connect + response), in ms.",
  },
  HTTP_MAX_RESPONSE_BYTES: {
    kind: "int",
    default: String(10 * 1024 * 1024),
    description: "Largest provider API response accepted, in bytes.",
  },
  HTTP_MAX_RETRIES: {
    kind: "int",
    default: "3",
    description: "Retries of one provider request on 408/429/5xx.",
  },
  RETRY_AFTER_CAP_SECONDS: {
    kind: "int",
    default: "30",
    description:
      "Longest Retry-After waited in place; a longer one becomes a rate-limit error and the sync is rescheduled.",
  },
  MAX_PAUSE_HOURS: {
    kind: "int",
    default: "24",
    description:
      "Longest a provider's rate limit may pause syncing (app-wide or one connection); at the cap the next sync probes again.",
  },
  TOKEN_REFRESH_MARGIN_SECONDS: {
    kind: "int",
    default: "300",
    description: "Refresh a Spotify access token expiring within this many seconds.",
  },
  INSTAGRAM_REFRESH_MARGIN_DAYS: {
    kind: "int",
    default: "10",
    description: "Refresh an Instagram long-lived token when fewer days than this remain.",
  },

  // --- The web app's edges ---------------------------------------------------------------------
  APP_CHECK_ENFORCED: {
    kind: "boolean",
    default: "false",
    description:
      "Refuse callables, media and OAuth start requests without a valid App Check token (build the web app with APP_CHECK_SITE_KEY first).",
  },
  HTTP_MAX_INSTANCES: {
    kind: "int",
    default: "20",
    description:
      "Most instances of each HTTP function and callable (oauthStart, oauthCallback, media, syncNow, disconnect).",
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

// --- firebase-functions params (what `firebase deploy` sees) -----------------------------------

function declare<N extends SettingName>(name: N) {
  const spec: SettingSpec = SETTINGS[name];
  switch (spec.kind) {
    case "secret":
      return defineSecret(name);
    case "int":
      return defineInt(name, { default: Number(spec.default), description: spec.description });
    case "boolean":
      return defineBoolean(name, { default: spec.default === "true", description: spec.description });
    default:
      return defineString(name, { default: spec.default, description: spec.description });
  }
}

/** Params, for trigger options that accept expressions (queue limits, schedule, secrets). */
export const params = {
  SPOTIFY_CLIENT_SECRET: defineSecret("SPOTIFY_CLIENT_SECRET"),
  INSTAGRAM_CLIENT_SECRET: defineSecret("INSTAGRAM_CLIENT_SECRET"),
  TOKEN_ENCRYPTION_KEYS: defineSecret("TOKEN_ENCRYPTION_KEYS"),
  SYNC_SCHEDULE: defineString("SYNC_SCHEDULE", {
    default: SETTINGS.SYNC_SCHEDULE.default,
    description: SETTINGS.SYNC_SCHEDULE.description,
  }),
  SYNC_TIME_ZONE: defineString("SYNC_TIME_ZONE", {
    default: SETTINGS.SYNC_TIME_ZONE.default,
    description: SETTINGS.SYNC_TIME_ZONE.description,
  }),
  SPOTIFY_QUEUE_MAX_DISPATCHES_PER_SECOND: defineInt("SPOTIFY_QUEUE_MAX_DISPATCHES_PER_SECOND", {
    default: Number(SETTINGS.SPOTIFY_QUEUE_MAX_DISPATCHES_PER_SECOND.default),
    description: SETTINGS.SPOTIFY_QUEUE_MAX_DISPATCHES_PER_SECOND.description,
  }),
  SPOTIFY_QUEUE_MAX_CONCURRENT: defineInt("SPOTIFY_QUEUE_MAX_CONCURRENT", {
    default: Number(SETTINGS.SPOTIFY_QUEUE_MAX_CONCURRENT.default),
    description: SETTINGS.SPOTIFY_QUEUE_MAX_CONCURRENT.description,
  }),
  SPOTIFY_QUEUE_MAX_ATTEMPTS: defineInt("SPOTIFY_QUEUE_MAX_ATTEMPTS", {
    default: Number(SETTINGS.SPOTIFY_QUEUE_MAX_ATTEMPTS.default),
    description: SETTINGS.SPOTIFY_QUEUE_MAX_ATTEMPTS.description,
  }),
  INSTAGRAM_QUEUE_MAX_DISPATCHES_PER_SECOND: defineInt("INSTAGRAM_QUEUE_MAX_DISPATCHES_PER_SECOND", {
    default: Number(SETTINGS.INSTAGRAM_QUEUE_MAX_DISPATCHES_PER_SECOND.default),
    description: SETTINGS.INSTAGRAM_QUEUE_MAX_DISPATCHES_PER_SECOND.description,
  }),
  INSTAGRAM_QUEUE_MAX_CONCURRENT: defineInt("INSTAGRAM_QUEUE_MAX_CONCURRENT", {
    default: Number(SETTINGS.INSTAGRAM_QUEUE_MAX_CONCURRENT.default),
    description: SETTINGS.INSTAGRAM_QUEUE_MAX_CONCURRENT.description,
  }),
  INSTAGRAM_QUEUE_MAX_ATTEMPTS: defineInt("INSTAGRAM_QUEUE_MAX_ATTEMPTS", {
    default: Number(SETTINGS.INSTAGRAM_QUEUE_MAX_ATTEMPTS.default),
    description: SETTINGS.INSTAGRAM_QUEUE_MAX_ATTEMPTS.description,
  }),
  QUEUE_MIN_BACKOFF_SECONDS: defineInt("QUEUE_MIN_BACKOFF_SECONDS", {
    default: Number(SETTINGS.QUEUE_MIN_BACKOFF_SECONDS.default),
    description: SETTINGS.QUEUE_MIN_BACKOFF_SECONDS.description,
  }),
  QUEUE_MAX_BACKOFF_SECONDS: defineInt("QUEUE_MAX_BACKOFF_SECONDS", {
    default: Number(SETTINGS.QUEUE_MAX_BACKOFF_SECONDS.default),
    description: SETTINGS.QUEUE_MAX_BACKOFF_SECONDS.description,
  }),
  HTTP_MAX_INSTANCES: defineInt("HTTP_MAX_INSTANCES", {
    default: Number(SETTINGS.HTTP_MAX_INSTANCES.default),
    description: SETTINGS.HTTP_MAX_INSTANCES.description,
  }),
} as const;

/**
 * Declares every remaining setting as a param so the deploy tooling knows all of them
 * (the ones above are declared explicitly because triggers take them as expressions).
 */
export const otherParams = Object.fromEntries(
  (Object.keys(SETTINGS) as SettingName[]).filter((name) => !(name in params)).map((name) => [name, declare(name)]),
);

// --- The typed config --------------------------------------------------------------------------

const url = z
  .string()
  .url()
  .transform((s) => s.replace(/\/+$/, ""));
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const bool = z.enum(["true", "false"]).transform((s) => s === "true");

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

const schema = z.object({
  APP_URL: url,
  OAUTH_REDIRECT_URI: url,
  RETURN_URL_ALLOWLIST: z.string().transform((s) =>
    s
      .split(",")
      .map((x) => x.trim().replace(/\/+$/, ""))
      .filter(Boolean),
  ),
  SPOTIFY_CLIENT_ID: z.string().min(1),
  SPOTIFY_CLIENT_SECRET: z.string().min(1),
  INSTAGRAM_CLIENT_ID: z.string().min(1),
  INSTAGRAM_CLIENT_SECRET: z.string().min(1),
  SPOTIFY_ACCOUNTS_BASE_URL: url,
  SPOTIFY_API_BASE_URL: url,
  INSTAGRAM_AUTHORIZE_BASE_URL: url,
  INSTAGRAM_OAUTH_BASE_URL: url,
  INSTAGRAM_GRAPH_BASE_URL: url,
  TOKEN_ENCRYPTION_KEYS: keyRing,
  SYNC_SCHEDULE: z.string().min(1),
  SYNC_TIME_ZONE: z.string().min(1),
  SYNC_INTERVAL_MINUTES: positiveInt,
  FANOUT_PAGE_SIZE: positiveInt.max(10_000),
  FANOUT_CONCURRENCY: positiveInt.max(1_000),
  MANUAL_SYNC_COOLDOWN_SECONDS: nonNegativeInt,
  LEASE_SECONDS: positiveInt,
  FAILURE_BACKOFF_THRESHOLD: positiveInt,
  MAX_BACKOFF_HOURS: positiveInt,
  SYNC_RUN_TTL_DAYS: positiveInt,
  MIRROR_SPOTIFY_COVERS: bool,
  MAX_IMAGE_BYTES: positiveInt,
  MIRROR_CONCURRENCY: positiveInt.max(100),
  QUEUE_MIN_BACKOFF_SECONDS: positiveInt,
  QUEUE_MAX_BACKOFF_SECONDS: positiveInt,
  SPOTIFY_QUEUE_MAX_DISPATCHES_PER_SECOND: positiveInt,
  SPOTIFY_QUEUE_MAX_CONCURRENT: positiveInt,
  SPOTIFY_QUEUE_MAX_ATTEMPTS: positiveInt,
  INSTAGRAM_QUEUE_MAX_DISPATCHES_PER_SECOND: positiveInt,
  INSTAGRAM_QUEUE_MAX_CONCURRENT: positiveInt,
  INSTAGRAM_QUEUE_MAX_ATTEMPTS: positiveInt,
  HTTP_TIMEOUT_MS: positiveInt,
  HTTP_MAX_RESPONSE_BYTES: positiveInt,
  HTTP_MAX_RETRIES: nonNegativeInt.max(10),
  RETRY_AFTER_CAP_SECONDS: nonNegativeInt,
  MAX_PAUSE_HOURS: positiveInt.max(24 * 30),
  TOKEN_REFRESH_MARGIN_SECONDS: nonNegativeInt,
  INSTAGRAM_REFRESH_MARGIN_DAYS: positiveInt.max(59),
  APP_CHECK_ENFORCED: bool,
  HTTP_MAX_INSTANCES: positiveInt.max(1000),
} satisfies Record<SettingName, z.ZodType>);

export type Config = z.output<typeof schema>;

/** Names of the settings a caller needs; loadConfig checks only those (scripts need fewer). */
export type ConfigKeys = readonly SettingName[];

/**
 * Reads and checks settings from an environment (defaults to `process.env`).
 * A missing or malformed setting throws a ConfigError whose message names it in one sentence.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, string | undefined> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const spec: SettingSpec = SETTINGS[name];
    const value = env[name];
    raw[name] = value !== undefined && value !== "" ? value : spec.default;
  }
  const missing = (Object.keys(SETTINGS) as SettingName[]).filter((n) => raw[n] === undefined);
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
    const shown = SETTINGS[name as SettingName]?.kind === "secret" ? "(secret, not shown)" : JSON.stringify(raw[name]);
    throw new ConfigError(`Setting ${name} ${describeIssue(first)}; its value is ${shown}.`);
  }
  return parsed.data;
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
  const problems: string[] = [];
  if (c.SPOTIFY_CLIENT_ID.startsWith("fake-")) problems.push("SPOTIFY_CLIENT_ID");
  if (c.INSTAGRAM_CLIENT_ID.startsWith("fake-")) problems.push("INSTAGRAM_CLIENT_ID");
  for (const name of URL_SETTINGS) {
    if (isLoopbackUrl(c[name])) problems.push(name);
  }
  if (c.RETURN_URL_ALLOWLIST.some(isLoopbackUrl)) problems.push("RETURN_URL_ALLOWLIST");
  return problems;
}

/** The settings that hold one URL the product calls or sends people to. */
const URL_SETTINGS = [
  "APP_URL",
  "OAUTH_REDIRECT_URI",
  "SPOTIFY_ACCOUNTS_BASE_URL",
  "SPOTIFY_API_BASE_URL",
  "INSTAGRAM_AUTHORIZE_BASE_URL",
  "INSTAGRAM_OAUTH_BASE_URL",
  "INSTAGRAM_GRAPH_BASE_URL",
] as const satisfies readonly SettingName[];

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
  const problems: string[] = URL_SETTINGS.filter((name) => plain(c[name]));
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

/**
 * Secrets every function binds. getConfig() checks all settings, so each function that reads
 * config must have all secrets available; binding them all keeps that one simple rule.
 */
export const ALL_SECRETS = [params.SPOTIFY_CLIENT_SECRET, params.INSTAGRAM_CLIENT_SECRET, params.TOKEN_ENCRYPTION_KEYS];
