/**
 * Administration of the sync queues in a real project, with @google-cloud/tasks (the Cloud Tasks
 * API client). Used by `npm run queues`, and by the fan-out for the adaptive queue rate
 * (cloudTasksQueueRate: updateQueue of the dispatch rate, queueRate.ts).
 *
 * Why two libraries: firebase-admin's task queue API only *enqueues* (and it speaks to the Cloud
 * Tasks emulator, so the product's code path is the same locally and in production); it cannot
 * describe, pause, resume or purge a queue. @google-cloud/tasks can, but it talks gRPC/REST to
 * cloudtasks.googleapis.com only — it cannot talk to the Tasks emulator at all.
 */
import { CloudTasksClient } from "@google-cloud/tasks";
import type { Provider } from "../paths";
import { type QueueLane, laneFunctionName } from "../providers/catalog";
import type { QueueRatePort } from "./queueRate";

/** The region the functions, and so their queues, are deployed to (the default; triggers set none). */
export const FUNCTIONS_LOCATION = "us-central1";

export const QUEUE_ACTIONS = ["describe", "pause", "resume", "purge"] as const;
export type QueueAction = (typeof QUEUE_ACTIONS)[number];

/** The queue Firebase creates for an onTaskDispatched function is named after the function. */
export function queueName(projectId: string, location: string, provider: Provider, lane: QueueLane = "shared"): string {
  return `projects/${projectId}/locations/${location}/queues/${laneFunctionName(provider, lane)}`;
}

export async function administerQueue(args: {
  projectId: string;
  location: string;
  provider: Provider;
  /** `own`: the queue of connections through people's own apps (syncSpotifyOwnApps). */
  lane?: QueueLane;
  action: QueueAction;
  client?: Pick<CloudTasksClient, "getQueue" | "pauseQueue" | "resumeQueue" | "purgeQueue">;
}): Promise<Record<string, unknown>> {
  const client = args.client ?? new CloudTasksClient();
  const name = queueName(args.projectId, args.location, args.provider, args.lane);
  const call =
    args.action === "describe"
      ? client.getQueue({ name })
      : args.action === "pause"
        ? client.pauseQueue({ name })
        : args.action === "resume"
          ? client.resumeQueue({ name })
          : client.purgeQueue({ name });
  const [queue] = await call;
  return {
    name: queue.name,
    state: queue.state,
    rateLimits: queue.rateLimits,
    retryConfig: queue.retryConfig,
    ...(args.action === "purge" ? { purgeTime: queue.purgeTime } : {}),
  };
}

/**
 * The adaptive queue rate's port in production: sets `rateLimits.maxDispatchesPerSecond` of the
 * provider's queue (the operator's app's) with updateQueue, touching nothing else of the queue.
 * The functions' service account needs `cloudtasks.queues.update` (role Cloud Tasks Queue Admin).
 */
export function cloudTasksQueueRate(args: {
  projectId: string;
  location?: string;
  client?: Pick<CloudTasksClient, "updateQueue">;
}): QueueRatePort {
  let client = args.client;
  return {
    async setRate(provider, perSecond) {
      client ??= new CloudTasksClient();
      await client.updateQueue({
        queue: {
          name: queueName(args.projectId, args.location ?? FUNCTIONS_LOCATION, provider),
          rateLimits: { maxDispatchesPerSecond: perSecond },
        },
        updateMask: { paths: ["rate_limits.max_dispatches_per_second"] },
      });
    },
  };
}
