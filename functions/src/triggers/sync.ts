/**
 * Sync triggers (thin): the hourly fan-out, one task queue per provider of the catalog, and manual
 * "sync now".
 * The logic is in sync/ (runFanOut, runSync, requestManualSync).
 */
import { HttpsError, onCall } from "firebase-functions/v2/https";
import { onSchedule } from "firebase-functions/v2/scheduler";
import { onTaskDispatched } from "firebase-functions/v2/tasks";
import { CALLABLE_OPTIONS, verifiedCaller } from "../access/caller";
import { ALL_SECRETS, params, providerQueueParams } from "../config";
import { InvalidInputError } from "../errors";
import {
  PROVIDERS,
  type ProviderId,
  type QueueLane,
  laneFunctionName,
  providerName,
  providersWithOwnApps,
} from "../providers/catalog";
import { runFanOut } from "../sync/fanOut";
import { ManualSyncRefusedError, requestManualSync } from "../sync/manual";
import { runSync } from "../sync/runSync";
import { expireStaleData, providersWithMaxAge } from "../sync/retention";
import { fanOutDeps, manualSyncDeps, retentionDeps, syncDeps } from "../sync/runtime";
import { SYNC_TASK_CONCURRENCY, SYNC_TASK_CPU, SYNC_TASK_DISPATCH_DEADLINE_SECONDS } from "../sync/taskQueue";

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
    // Data a provider's terms do not let us keep past an age (YouTube's 30 days) goes after each fan-out.
    const retention = retentionDeps();
    for (const provider of providersWithMaxAge()) await expireStaleData(retention, provider);
  },
);

/** Thrown so Cloud Tasks retries the task (transient failure, not the last attempt). */
class RetryLater extends Error {}

/**
 * The task queue (onTaskDispatched function) of one provider, configured from its catalog settings;
 * lane `own`: the queue of connections through people's own apps (its own rate limits).
 */
function syncQueue(provider: ProviderId, lane: QueueLane) {
  const q = providerQueueParams(provider, lane);
  return onTaskDispatched(
    {
      retryConfig: {
        maxAttempts: q.maxAttempts,
        minBackoffSeconds: q.minBackoffSeconds,
        maxBackoffSeconds: q.maxBackoffSeconds,
        maxDoublings: 4,
      },
      rateLimits: {
        maxDispatchesPerSecond: q.maxDispatchesPerSecond,
        maxConcurrentDispatches: q.maxConcurrent,
      },
      secrets: ALL_SECRETS,
      timeoutSeconds: SYNC_TASK_DISPATCH_DEADLINE_SECONDS,
      memory: "512MiB",
      // Many syncs per instance: they wait on the provider, and share its billed time.
      cpu: SYNC_TASK_CPU,
      concurrency: SYNC_TASK_CONCURRENCY,
    },
    async (req) => {
      const result = await runSync(syncDeps(), req.data, { retryCount: req.retryCount, taskId: req.id });
      if (result.retry)
        throw new RetryLater(`${providerName(provider)} sync failed (${result.error?.code}); Cloud Tasks will retry.`);
    },
  );
}

/**
 * One queue per provider of the catalog, under the function name `queueFunctionName(id)`
 * (`syncSpotify`, `syncInstagram`, …), and one more per provider with own apps
 * (`syncSpotifyOwnApps`): index.ts exports each under its name. Both run the same handler.
 */
export const syncQueues: Readonly<Record<string, ReturnType<typeof syncQueue>>> = Object.fromEntries([
  ...PROVIDERS.map((p) => [laneFunctionName(p, "shared"), syncQueue(p, "shared")] as const),
  ...providersWithOwnApps().map((p) => [laneFunctionName(p, "own"), syncQueue(p, "own")] as const),
]);

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
