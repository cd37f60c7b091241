/**
 * The failure policy of a sync, as pure functions: what a run's outcome does to the connection
 * (status, nextSyncAt, counters) and whether the task queue should retry.
 *
 * | error (errors.ts action)      | connection                                         | queue            |
 * |-------------------------------|----------------------------------------------------|------------------|
 * | rate limited (`retry_at`)     | nextSyncAt = rateLimitedUntil = provider's retry time (≤ MAX_PAUSE_HOURS); status and failure count unchanged | done (no retry) |
 * | transient (`retry`, unknown)  | lastError recorded; nothing else until the last attempt | retried with backoff |
 * | …on the queue's last attempt  | counted as a failure (below)                       | done             |
 * | re-auth (`reauth`)            | status needs_reauth + reauthReason; fan-out skips it until reconnect | done |
 * | give up (`give_up`: schema drift, 403 not allowed, bad data) | counted as a failure | done      |
 * | past SYNC_DEADLINE_SECONDS (DeadlineExceededError) | outcome `timeout`, counted as a failure | done (a retry would run as long) |
 *
 * A counted failure increments consecutiveFailures. Below FAILURE_BACKOFF_THRESHOLD the next sync
 * is the next regular slot; from the threshold on, status becomes `error` and nextSyncAt backs off
 * exponentially (interval × 2^(failures − threshold + 1), capped at MAX_BACKOFF_HOURS). The fan-out
 * picks `error` connections up again when that time comes; one success resets everything.
 */
import type { Config, ProviderSettings } from "../config";
import type { ConnectionStatus } from "../connections/model";
import {
  DeadlineExceededError,
  type ErrorAction,
  RateLimitedError,
  ReauthRequiredError,
  actionOf,
  isAppError,
} from "../errors";
import { slotStart } from "./ports";

export type PolicyConfig = Pick<
  Config,
  "SYNC_INTERVAL_MINUTES" | "SYNC_TICK_MINUTES" | "FAILURE_BACKOFF_THRESHOLD" | "MAX_BACKOFF_HOURS" | "MAX_PAUSE_HOURS"
>;

/**
 * The end of a rate-limit wait the provider asked for, bounded: at most MAX_PAUSE_HOURS from now
 * (a `Retry-After: 315360000` from a proxy must not stop syncing for ten years; at the cap the next
 * sync simply asks again), and a minute from now when the time is not in the future.
 */
export function boundedRetryAt(retryAt: Date | undefined, now: Date, config: Pick<Config, "MAX_PAUSE_HOURS">): Date {
  const cap = now.getTime() + config.MAX_PAUSE_HOURS * 3_600_000;
  const at = retryAt?.getTime();
  if (at === undefined || !Number.isFinite(at) || at <= now.getTime()) return new Date(now.getTime() + 60_000);
  return new Date(Math.min(at, cap));
}

export type FailureOutcome = "rate_limited" | "transient" | "reauth" | "failed" | "timeout";

/** Connection fields a failed run changes (undefined = leave as is). */
export interface FailureDecision {
  outcome: FailureOutcome;
  /** True: the handler throws so Cloud Tasks retries the task. */
  retry: boolean;
  status?: ConnectionStatus;
  nextSyncAt?: Date;
  rateLimitedUntil?: Date | null;
  reauthReason?: string | null;
  consecutiveFailures: number;
  lastError: { code: string; message: string };
}

/** Statuses the fan-out schedules and the handler syncs. */
export const SYNCABLE_STATUSES = ["connected", "error"] as const satisfies readonly ConnectionStatus[];

export function isSyncable(status: ConnectionStatus): boolean {
  return (SYNCABLE_STATUSES as readonly string[]).includes(status);
}

/**
 * When the connection is due again after a successful sync: `intervalMinutes` after the start of
 * this fan-out tick (SYNC_TICK_MINUTES; the interval is the provider's,
 * providerSettings().syncIntervalMinutes, SYNC_INTERVAL_MINUTES by default), so the fan-out of
 * that tick finds it due. The fan-out runs every tick; a connection is still synced once an
 * interval, because nextSyncAt says when.
 */
export function nextRegularSync(
  now: Date,
  config: Pick<Config, "SYNC_INTERVAL_MINUTES" | "SYNC_TICK_MINUTES">,
  intervalMinutes: number = config.SYNC_INTERVAL_MINUTES,
): Date {
  return new Date(slotStart(now, config.SYNC_TICK_MINUTES) + intervalMinutes * 60_000);
}

/** What a successful sync saw of the person's listening (play log providers). */
export interface ListeningActivity {
  /** New plays logged by this sync. */
  playsLogged: number;
  /** The read came back full and all new: plays may have been lost (a gap was recorded). */
  gap: boolean;
}

/**
 * The next sync after a success. A provider with a play log reads a short window of recent plays
 * (Spotify: the latest 50): after a sync that logged new plays or found a gap, the person is
 * listening, and the next sync comes `activeSyncMinutes` after this tick so fewer plays fall out
 * of the window; an idle connection keeps the regular interval.
 */
export function nextSyncAfterSuccess(
  now: Date,
  config: Pick<Config, "SYNC_INTERVAL_MINUTES" | "SYNC_TICK_MINUTES">,
  settings: Pick<ProviderSettings, "syncIntervalMinutes" | "activeSyncMinutes">,
  activity: ListeningActivity | null,
): Date {
  const active = activity !== null && (activity.playsLogged > 0 || activity.gap);
  const minutes =
    active && settings.activeSyncMinutes !== null
      ? Math.min(settings.activeSyncMinutes, settings.syncIntervalMinutes)
      : settings.syncIntervalMinutes;
  return nextRegularSync(now, config, minutes);
}

/** Backoff after `failures` consecutive counted failures (≥ threshold). */
export function backoffMs(failures: number, config: PolicyConfig): number {
  const steps = Math.max(1, failures - config.FAILURE_BACKOFF_THRESHOLD + 1);
  const cap = config.MAX_BACKOFF_HOURS * 3_600_000;
  const base = config.SYNC_INTERVAL_MINUTES * 60_000;
  return Math.min(cap, base * 2 ** Math.min(steps, 30));
}

/** A log- and Firestore-safe summary of any error. AppError messages are safe by contract. */
export function errorSummary(e: unknown): { code: string; message: string } {
  if (isAppError(e)) return { code: e.code, message: e.message.slice(0, 500) };
  const name = e instanceof Error ? e.name : "Error";
  const message = e instanceof Error ? e.message : String(e);
  return { code: "internal", message: `${name}: ${message}`.slice(0, 300) };
}

export function decideFailure(
  e: unknown,
  ctx: { now: Date; config: PolicyConfig; consecutiveFailures: number; status: ConnectionStatus; lastAttempt: boolean },
): FailureDecision {
  const action: ErrorAction = actionOf(e);
  const lastError = errorSummary(e);
  const { now, config } = ctx;

  if (action === "retry_at") {
    const at = boundedRetryAt(e instanceof RateLimitedError ? e.retryAt : undefined, now, config);
    return {
      outcome: "rate_limited",
      retry: false,
      nextSyncAt: at,
      rateLimitedUntil: at,
      consecutiveFailures: ctx.consecutiveFailures,
      lastError,
    };
  }
  if (action === "reauth") {
    return {
      outcome: "reauth",
      retry: false,
      status: "needs_reauth",
      // The sentence for the person (ReauthRequiredError.reason), not the request that failed.
      reauthReason: e instanceof ReauthRequiredError ? e.reason.slice(0, 500) : lastError.message,
      consecutiveFailures: ctx.consecutiveFailures + 1,
      lastError,
    };
  }
  // A sync that ran out of time is not retried in place: the retry would meet the same slow
  // provider and run as long. It counts like a failure, so a connection that always times out backs
  // off instead of costing a full run every slot.
  if (e instanceof DeadlineExceededError) return countedFailure("timeout", ctx, lastError);
  if (action === "retry" && !ctx.lastAttempt) {
    return { outcome: "transient", retry: true, consecutiveFailures: ctx.consecutiveFailures, lastError };
  }
  // give_up, or a transient error on the queue's last attempt: a counted failure.
  return countedFailure(action === "retry" ? "transient" : "failed", ctx, lastError);
}

/** A counted failure: one more in a row; from the threshold on, status `error` and exponential backoff. */
function countedFailure(
  outcome: FailureOutcome,
  ctx: { now: Date; config: PolicyConfig; consecutiveFailures: number; status: ConnectionStatus },
  lastError: { code: string; message: string },
): FailureDecision {
  const { now, config } = ctx;
  const failures = ctx.consecutiveFailures + 1;
  const backingOff = failures >= config.FAILURE_BACKOFF_THRESHOLD;
  return {
    outcome,
    retry: false,
    status: backingOff ? "error" : ctx.status,
    nextSyncAt: backingOff ? new Date(now.getTime() + backoffMs(failures, config)) : nextRegularSync(now, config),
    consecutiveFailures: failures,
    lastError,
  };
}
