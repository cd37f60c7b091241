/**
 * The TaskQueue port over firebase-admin's task queue API (`getFunctions().taskQueue(name)`).
 *
 * The same code enqueues into the Cloud Tasks emulator (CLOUD_TASKS_EMULATOR_HOST set) and into
 * production Cloud Tasks, where the queue is the one Firebase created for the onTaskDispatched
 * function. Queue administration (describe / pause / purge) is a different API: scripts/queues.ts.
 */
import type { Functions } from "firebase-admin/functions";
import type { Provider } from "../paths";
import { type EnqueueResult, SYNC_QUEUE_FUNCTIONS, type SyncTaskPayload, type TaskQueue } from "./ports";

/** A sync task may run as long as its function may (triggers/sync.ts: timeoutSeconds). */
export const SYNC_TASK_DISPATCH_DEADLINE_SECONDS = 540;

export function isTaskAlreadyExists(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === "functions/task-already-exists";
}

export function firebaseTaskQueue(
  functions: Functions,
  names: Record<Provider, string> = SYNC_QUEUE_FUNCTIONS,
): TaskQueue {
  const queues = new Map<Provider, ReturnType<Functions["taskQueue"]>>();
  const queueOf = (provider: Provider) => {
    let q = queues.get(provider);
    if (!q) {
      q = functions.taskQueue<SyncTaskPayload>(names[provider]);
      queues.set(provider, q);
    }
    return q;
  };
  return {
    async enqueue(provider: Provider, payload: SyncTaskPayload, opts: { id: string }): Promise<EnqueueResult> {
      try {
        await queueOf(provider).enqueue(payload, {
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
