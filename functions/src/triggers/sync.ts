/**
 * Sync triggers (thin): the hourly fan-out, one task queue per provider, and manual "sync now".
 * The logic is in sync/ (runFanOut, runSync, requestManualSync).
 */
import { HttpsError, onCall } from "firebase-functions/v2/https";
import { onSchedule } from "firebase-functions/v2/scheduler";
import { onTaskDispatched } from "firebase-functions/v2/tasks";
import { CALLABLE_OPTIONS, verifiedCaller } from "../access/caller";
import { ALL_SECRETS, params } from "../config";
import { InvalidInputError } from "../errors";
import type { Provider } from "../paths";
import { runFanOut } from "../sync/fanOut";
import { ManualSyncRefusedError, requestManualSync } from "../sync/manual";
import { runSync } from "../sync/runSync";
import { fanOutDeps, manualSyncDeps, syncDeps } from "../sync/runtime";
import { SYNC_TASK_DISPATCH_DEADLINE_SECONDS } from "../sync/taskQueue";

/** Every SYNC_SCHEDULE (default hourly): enqueue one task per due connection. */
export const syncFanOut = onSchedule(
  {
    // The schedule is a param expression; the deploy tooling resolves it (its type says string).
    schedule: params.SYNC_SCHEDULE as unknown as string,
    timeZone: params.SYNC_TIME_ZONE,
    secrets: ALL_SECRETS,
    timeoutSeconds: 540,
    memory: "512MiB",
    // A failed fan-out is simply redone by the next one; its task ids make overlap harmless.
    retryCount: 0,
  },
  async () => {
    await runFanOut(fanOutDeps());
  },
);

/** Thrown so Cloud Tasks retries the task (transient failure, not the last attempt). */
class RetryLater extends Error {}

function syncQueue(
  provider: Provider,
  limits: {
    maxDispatchesPerSecond: typeof params.SPOTIFY_QUEUE_MAX_DISPATCHES_PER_SECOND;
    maxConcurrentDispatches: typeof params.SPOTIFY_QUEUE_MAX_CONCURRENT;
    maxAttempts: typeof params.SPOTIFY_QUEUE_MAX_ATTEMPTS;
  },
) {
  return onTaskDispatched(
    {
      retryConfig: {
        maxAttempts: limits.maxAttempts,
        minBackoffSeconds: params.QUEUE_MIN_BACKOFF_SECONDS,
        maxBackoffSeconds: params.QUEUE_MAX_BACKOFF_SECONDS,
        maxDoublings: 4,
      },
      rateLimits: {
        maxDispatchesPerSecond: limits.maxDispatchesPerSecond,
        maxConcurrentDispatches: limits.maxConcurrentDispatches,
      },
      secrets: ALL_SECRETS,
      timeoutSeconds: SYNC_TASK_DISPATCH_DEADLINE_SECONDS,
      memory: "512MiB",
    },
    async (req) => {
      const result = await runSync(syncDeps(), req.data, { retryCount: req.retryCount, taskId: req.id });
      if (result.retry)
        throw new RetryLater(`${provider} sync failed (${result.error?.code}); Cloud Tasks will retry.`);
    },
  );
}

export const syncSpotify = syncQueue("spotify", {
  maxDispatchesPerSecond: params.SPOTIFY_QUEUE_MAX_DISPATCHES_PER_SECOND,
  maxConcurrentDispatches: params.SPOTIFY_QUEUE_MAX_CONCURRENT,
  maxAttempts: params.SPOTIFY_QUEUE_MAX_ATTEMPTS,
});

export const syncInstagram = syncQueue("instagram", {
  maxDispatchesPerSecond: params.INSTAGRAM_QUEUE_MAX_DISPATCHES_PER_SECOND,
  maxConcurrentDispatches: params.INSTAGRAM_QUEUE_MAX_CONCURRENT,
  maxAttempts: params.INSTAGRAM_QUEUE_MAX_ATTEMPTS,
});

/** "Sync now" for the signed-in person's own connection: { provider } → { enqueued, nextAllowedAt }. */
export const syncNow = onCall(CALLABLE_OPTIONS, async (req) => {
  const uid = await verifiedCaller(req, "Sign in to sync your accounts.");
  try {
    const r = await requestManualSync(manualSyncDeps(), uid, req.data);
    return { provider: r.provider, enqueued: r.enqueued, nextAllowedAt: r.nextAllowedAt.toISOString() };
  } catch (e) {
    if (e instanceof ManualSyncRefusedError) {
      const code =
        e.reason === "cooldown" || e.reason === "rate_limited" || e.reason === "backoff"
          ? "resource-exhausted"
          : "failed-precondition";
      throw new HttpsError(code, e.message, { reason: e.reason, retryAt: e.retryAt?.toISOString() ?? null });
    }
    if (e instanceof InvalidInputError) throw new HttpsError("invalid-argument", e.message);
    throw e;
  }
});
