/**
 * Structured, named log events. Every event is `logs.info("sync.completed", { uid, provider, … })`.
 *
 * Fields are redacted before they reach the logger: any key that looks like a credential
 * (token, secret, code, authorization, password, key, cookie, state) is replaced by "[redacted]",
 * at any depth, and long strings are cut. Never pass a full provider response.
 */
import * as logger from "firebase-functions/logger";

export type LogFields = Record<string, unknown>;

const SENSITIVE_KEY =
  /(token|secret|authorization|password|passwd|cookie|api[-_]?key|private[-_]?key|^key$|^keys$|^code$|^state$|client[-_]?secret|ciphertext)/i;
const MAX_STRING = 500;
const MAX_DEPTH = 5;

/**
 * A value under a sensitive-looking key that cannot be a credential: a boolean, a number, null,
 * or — for `code` — a short identifier such as an error code ("rate_limited", "needs_reauth").
 * OAuth codes are long random strings and stay redacted.
 */
function harmless(key: string, value: unknown): boolean {
  if (value === null || typeof value === "boolean" || typeof value === "number") return true;
  return key === "code" && typeof value === "string" && /^[a-z][a-z_/-]{0,48}$/.test(value);
}

/** Returns a copy of `value` safe to log. */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === "string") return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[…]";
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: redact(value.message, depth + 1), ...(code !== undefined ? { code } : {}) };
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SENSITIVE_KEY.test(k) && !harmless(k, v) ? "[redacted]" : redact(v, depth + 1);
  }
  return out;
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
