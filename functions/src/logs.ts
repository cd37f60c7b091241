/**
 * Structured, named log events. Every event is `logs.info("sync.completed", { uid, provider, … })`.
 *
 * Fields are redacted before they reach the logger, at any depth:
 * - a key that looks like a credential (token, secret, code, state, authorization, password, key,
 *   cookie, credential, jwt, nonce, assertion, verifier, …) has its value replaced by "[redacted]",
 *   unless the value cannot be one (a flag, a count, null, a short error code under `code`);
 * - every other string is searched for credential-looking values, which are masked in place:
 *   `access_token=…`, `code=…`, `state=…` and similar query / fragment / form parameters (also
 *   percent-encoded inside another URL, and as JSON `"access_token":"…"`), `Bearer …` / `Basic …`
 *   credentials and JWT-looking strings (`eyJ….….…`);
 * - long strings are cut, bytes are logged as their length.
 * Never pass a full provider response.
 */
import * as logger from "firebase-functions/logger";

export type LogFields = Record<string, unknown>;

export const REDACTED = "[redacted]";

const SENSITIVE_KEY = new RegExp(
  [
    "token",
    "secret",
    "authorization",
    "password",
    "passwd",
    "passphrase",
    "cookie",
    "credential",
    "jwt",
    "bearer",
    "assertion",
    "nonce",
    "verifier",
    "pkce",
    "signature",
    "ciphertext",
    "api[-_]?key",
    "private[-_]?key",
    "session[-_]?(id|key)",
    "(auth|oauth|access|grant)[-_]?code",
    "oauth[-_]?state",
    "^(key|keys|code|state|sig|otp|pwd|auth)$",
  ].join("|"),
  "i",
);
const MAX_STRING = 500;
const MAX_DEPTH = 5;
/** Work bound for masking: a string is searched only this far (it is cut to MAX_STRING afterwards). */
const MAX_SCANNED = 64 * 1024;

/**
 * A value under a sensitive-looking key that cannot be a credential: a boolean, a number, null,
 * or — for `code` — a short identifier such as an error code ("rate_limited", "needs_reauth",
 * "auth/id-token-expired", Node's "ECONNRESET"). OAuth codes are long mixed-case random strings
 * and stay redacted.
 */
function harmless(key: string, value: unknown): boolean {
  if (value === null || typeof value === "boolean" || typeof value === "number") return true;
  return (
    key.toLowerCase() === "code" &&
    typeof value === "string" &&
    /^(?:[a-z][a-z_/-]{0,48}|[A-Z][A-Z0-9_]{0,31})$/.test(value)
  );
}

/** Names of query / fragment / form parameters whose value is a credential. */
const PARAM_NAME =
  "(?:[A-Za-z0-9_.-]*(?:token|secret|password|signature|credential|assertion|verifier|api[-_]?key)|code|state|nonce|key|sig|jwt)";
/** Where a parameter name starts: the start, `?`, `&`, `#`, `;`, whitespace, quotes, `,`, `(` — or `?`/`&`/`#` percent-encoded. */
const PARAM_START = `(^|[?&#;\\s"',(]|%3[Ff]|%26|%23)`;
/** A parameter value: up to the next separator (a percent-encoded `&` or `#` also ends it). */
const PARAM_VALUE = "(?:[^&#\\s\"',;%]|%(?!2[36])[0-9A-Fa-f]{2})+";

const MASKS: readonly [RegExp, string][] = [
  // `access_token=…`, `#state=…`, `&code=…`, and `%3Fcode%3D…` inside an encoded URL.
  [new RegExp(`${PARAM_START}(${PARAM_NAME})(=|%3[Dd])${PARAM_VALUE}`, "gi"), `$1$2$3${REDACTED}`],
  // JSON inside a message: `"access_token":"…"` (also with escaped quotes).
  [
    new RegExp(`(\\\\?")(${PARAM_NAME}|authorization|cookie)(\\\\?"\\s*:\\s*\\\\?")(?:[^"\\\\]|\\\\(?!"))*`, "gi"),
    `$1$2$3${REDACTED}`,
  ],
  // `Authorization: Bearer …` and the like; Basic only when the word after it looks like base64.
  [/\b(Bearer)\s+[A-Za-z0-9._~+/-]+=*/gi, `$1 ${REDACTED}`],
  [/\b([Bb]asic|BASIC)\s+(?=[A-Za-z0-9+/]*(?:[0-9+/=]|[a-z][A-Z]))[A-Za-z0-9+/]{6,}=*/g, `$1 ${REDACTED}`],
  // JWTs (also one cut after its second part).
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?/g, REDACTED],
];

/** Masks credential-looking values inside a string (see the module comment). */
export function maskCredentials(s: string): string {
  let out = s;
  for (const [pattern, replacement] of MASKS) out = out.replace(pattern, replacement);
  return out;
}

function redactString(s: string): string {
  const masked = maskCredentials(s.length > MAX_SCANNED ? s.slice(0, MAX_SCANNED) : s);
  if (masked.length <= MAX_STRING) return masked;
  // Mask again after the cut: a credential cut in half must not show its first half.
  return `${maskCredentials(masked.slice(0, MAX_STRING))}…`;
}

/** Returns a copy of `value` safe to log. */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === "string") return redactString(value);
  if (typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[…]";
  if (value instanceof Date) return value.toISOString();
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: redact(value.message, depth + 1),
      ...(code !== undefined ? { code: redactField("code", code, depth + 1) } : {}),
    };
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = redactField(k, v, depth + 1);
  return out;
}

function redactField(key: string, value: unknown, depth: number): unknown {
  if (value === undefined) return value;
  return SENSITIVE_KEY.test(key) && !harmless(key, value) ? REDACTED : redact(value, depth);
}

function emit(level: "debug" | "info" | "warn" | "error", event: string, fields: LogFields = {}): void {
  const entry = { event, ...(redact(fields) as LogFields) };
  logger[level](event, entry);
}

export const logs = {
  debug: (event: string, fields?: LogFields) => emit("debug", event, fields),
  info: (event: string, fields?: LogFields) => emit("info", event, fields),
  warn: (event: string, fields?: LogFields) => emit("warn", event, fields),
  error: (event: string, fields?: LogFields) => emit("error", event, fields),
};
