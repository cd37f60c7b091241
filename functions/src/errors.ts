/**
 * Typed errors, classified by what the caller must do next.
 *
 * - `retry_at`  — rate limited: try again at `retryAt`, not before (never spin).
 * - `retry`     — transient (5xx, timeout, network): retry soon, with backoff, a bounded number of times.
 * - `reauth`    — the person must reconnect (revoked/expired grant, Instagram error 190).
 * - `give_up`   — retrying cannot help (403 not allowed, schema drift, bad input, bad config).
 *
 * Messages never contain tokens, codes or secrets.
 */
export type ErrorAction = "retry" | "retry_at" | "reauth" | "give_up";

export abstract class AppError extends Error {
  abstract readonly code: string;
  abstract readonly action: ErrorAction;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
  /** A log- and Firestore-safe summary. */
  toJSON(): { code: string; action: ErrorAction; message: string } {
    return { code: this.code, action: this.action, message: this.message };
  }
}

/**
 * The provider said "slow down"; carry the time at which trying again is allowed, and whether the
 * limit is the whole app's (`app`: every connection of the provider must wait, e.g. Spotify's
 * per-app window) or this account's (`account`).
 */
export class RateLimitedError extends AppError {
  /** `quota_exceeded`: a quota (YouTube's daily units) is used up until `retryAt`, not a short limit. */
  readonly code: "rate_limited" | "quota_exceeded";
  readonly action = "retry_at";
  readonly scope: "app" | "account";
  constructor(
    message: string,
    readonly retryAt: Date,
    options?: { cause?: unknown; scope?: "app" | "account"; kind?: "rate_limit" | "quota" },
  ) {
    super(message, options);
    this.scope = options?.scope ?? "account";
    this.code = options?.kind === "quota" ? "quota_exceeded" : "rate_limited";
  }
}

/** 5xx, timeouts, resets: retry soon with backoff. */
export class TransientError extends AppError {
  readonly code = "transient";
  readonly action = "retry";
}

/**
 * The sync ran out of its time (SYNC_DEADLINE_SECONDS, below the function's timeout): the fetch
 * stopped between two requests or pages, before anything was written. A class of its own so the
 * sync policy records it as `timeout` (a counted failure) rather than a transient error.
 */
export class DeadlineExceededError extends AppError {
  readonly code = "timeout";
  readonly action = "retry";
}

/** The stored grant no longer works; the person has to reconnect. `reason` is shown to them. */
export class ReauthRequiredError extends AppError {
  readonly code = "needs_reauth";
  readonly action = "reauth";
  /** A sentence for the person (e.g. "Spotify access was revoked or has expired; reconnect Spotify."). */
  readonly reason: string;
  constructor(message: string, options?: { cause?: unknown; reason?: string }) {
    super(message, options);
    this.reason = options?.reason ?? message;
  }
}

/**
 * The provider refused a person's own OAuth app (apps/store.ts) in a way only that person can fix:
 * `credentials`, the client id and secret no longer match; `redirect_uri`, the app lacks the
 * product's redirect URI; `not_registered`, their provider account is not among the app's users
 * (Spotify's User Management). `reason` tells them what to change, then reconnect.
 */
export class OwnAppRejectedError extends ReauthRequiredError {
  constructor(
    message: string,
    readonly problem: "credentials" | "redirect_uri" | "not_registered",
    options: { cause?: unknown; reason: string },
  ) {
    super(message, options);
  }
}

/**
 * The provider rejected an access token (HTTP 401) that looked valid. Refresh it and try once
 * more; a 401 right after a fresh refresh is a ReauthRequiredError (providers/session.ts).
 */
export class TokenRejectedError extends AppError {
  readonly code = "token_rejected";
  readonly action = "retry";
}

/** The provider refuses this account or app (e.g. Spotify development-mode allow-list). */
export class NotAllowedError extends AppError {
  readonly code = "not_allowed";
  readonly action = "give_up";
}

/** A provider response failed validation: the API changed or answered garbage. */
export class ProviderSchemaError extends AppError {
  readonly code = "provider_schema";
  readonly action = "give_up";
}

/**
 * A file to mirror cannot be stored: too large, not an allowed content type, the CDN refused it
 * (e.g. an expired signed URL), or the download rules refused the URL before connecting (`url`:
 * unparseable or a disallowed scheme; `host`: not the provider's image CDN; `address`: the host is
 * or resolves to a loopback, private, link-local or metadata address; `redirect`: too many
 * redirects or one without a usable Location). Retrying the same URL cannot help; the next sync
 * brings a fresh one.
 */
export class DownloadRejectedError extends AppError {
  readonly code = "download_rejected";
  readonly action = "give_up";
  constructor(
    message: string,
    readonly reason: "too_large" | "content_type" | "status" | "url" | "host" | "address" | "redirect",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Input from a caller (task payload, callback parameters, CLI flags) is invalid. */
export class InvalidInputError extends AppError {
  readonly code = "invalid_input";
  readonly action = "give_up";
}

/** A setting is missing or malformed. */
export class ConfigError extends AppError {
  readonly code = "config";
  readonly action = "give_up";
}

/** A local harness or tool precondition is not met (ports in use, Java missing, …). */
export class EnvironmentError extends AppError {
  readonly code = "environment";
  readonly action = "give_up";
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** Unknown errors are treated as transient: a bug should be retried a bounded number of times, then surface. */
export function actionOf(e: unknown): ErrorAction {
  return isAppError(e) ? e.action : "retry";
}
