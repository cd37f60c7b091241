/**
 * The TaskQueue port over firebase-admin's task queue API (`getFunctions().taskQueue(name)`).
 *
 * The same code enqueues into the Cloud Tasks emulator (CLOUD_TASKS_EMULATOR_HOST set) and into
 * production Cloud Tasks, where the queue is the one Firebase created for the onTaskDispatched
 * function. Queue administration (describe / pause / purge) is a different API: scripts/queues.ts.
 */
import type { Functions } from "firebase-admin/functions";
import { SYNC_FUNCTION_TIMEOUT_SECONDS } from "../config";
import type { Provider } from "../paths";
import { laneFunctionName } from "../providers/catalog";
import { type EnqueueResult, type QueueLane, type SyncTaskPayload, type TaskQueue } from "./ports";

/** A sync task may run as long as its function may (triggers/sync.ts: timeoutSeconds). */
export const SYNC_TASK_DISPATCH_DEADLINE_SECONDS = SYNC_FUNCTION_TIMEOUT_SECONDS;

/**
 * Sync tasks one instance of a sync task function serves at once. A sync mostly waits on the
 * provider and Firestore (the bench's `sharing` rounds: tens of ms of CPU in a sync of about a
 * second), so one instance holds many; Cloud Run allows concurrency > 1 only with ≥ 1 vCPU. The
 * queue's maxConcurrentDispatches still bounds what arrives at once (docs/cost-model.md).
 */
export const SYNC_TASK_CONCURRENCY = 40;
/** vCPUs of a sync task instance (set explicitly: concurrency > 1 needs at least 1). */
export const SYNC_TASK_CPU = 1;

export function isTaskAlreadyExists(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === "functions/task-already-exists";
}

export function firebaseTaskQueue(
  functions: Functions,
  names: (provider: Provider, lane: QueueLane) => string = laneFunctionName,
): TaskQueue {
  const queues = new Map<string, ReturnType<Functions["taskQueue"]>>();
  const queueOf = (provider: Provider, lane: QueueLane) => {
    const name = names(provider, lane);
    let q = queues.get(name);
    if (!q) {
      q = functions.taskQueue<SyncTaskPayload>(name);
      queues.set(name, q);
    }
    return q;
  };
  return {
    async enqueue(
      provider: Provider,
      payload: SyncTaskPayload,
      opts: { id: string; lane?: QueueLane },
    ): Promise<EnqueueResult> {
      try {
        await queueOf(provider, opts.lane ?? "shared").enqueue(payload, {
          id: opts.id,
          dispatchDeadlineSeconds: SYNC_TASK_DISPATCH_DEADLINE_SECONDS,
        });
        return "enqueued";
      } catch (e) {
        if (isTaskAlreadyExists(e)) return "duplicate";
        throw e;
      }
    },
  };
}
