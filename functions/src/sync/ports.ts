/**
 * The ports of the sync engine: what it needs from the outside world, as small interfaces.
 * Production implementations live next to this file (taskQueue.ts, blobStore.ts); unit tests pass
 * in-memory fakes.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { PROVIDERS, type Provider } from "../paths";
import { type QueueLane, queueFunctionName } from "../providers/catalog";

export type { QueueLane };

/** The time source. Every "now" of the sync comes from here, so tests can move time. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** scheduled: the fan-out (every SYNC_TICK_MINUTES); manual: Sync now; connect: the first sync after the OAuth callback. */
export const SYNC_REASONS = ["scheduled", "manual", "connect"] as const;
export type SyncReason = (typeof SYNC_REASONS)[number];

/** The payload of a sync task (checked with zod by the handler; anything else is dropped). */
export const SyncTaskPayload = z
  .object({
    uid: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[^/]+$/),
    provider: z.enum(PROVIDERS),
    reason: z.enum(SYNC_REASONS),
    /**
     * When the task was created (ms since epoch): for a scheduled task the fan-out's clock when it
     * queried (the connection had nextSyncAt <= requestedAt then), for a manual one the request time.
     */
    requestedAt: z.number().int().nonnegative(),
  })
  .strict();
export type SyncTaskPayload = z.infer<typeof SyncTaskPayload>;

export type EnqueueResult = "enqueued" | "duplicate";

/**
 * A task queue per provider, and one more for connections made through people's own apps (lane
 * `own`: catalog laneFunctionName). `duplicate` means a task with this id already exists (not a failure).
 */
export interface TaskQueue {
  enqueue(provider: Provider, payload: SyncTaskPayload, opts: { id: string; lane?: QueueLane }): Promise<EnqueueResult>;
}

/** The lane of a connection: `own` when it was made through a person's own app. */
export function laneOf(connection: { app?: { clientId: string } | null }): QueueLane {
  return connection.app ? "own" : "shared";
}

/** The onTaskDispatched function (and so the Cloud Tasks queue) of each provider of the catalog. */
export const SYNC_QUEUE_FUNCTIONS: Readonly<Record<Provider, string>> = Object.fromEntries(
  PROVIDERS.map((p) => [p, queueFunctionName(p)]),
) as Record<Provider, string>;

/** An object in the blob store, as listed. `version` is the MirrorItem version it was made from. */
export interface BlobInfo {
  path: string;
  version: string | null;
  contentType: string | null;
  size: number;
}

/** Cloud Storage, reduced to what the image mirror needs. */
export interface BlobStore {
  /** Every object whose name starts with `prefix` (all pages), with its version metadata. */
  list(prefix: string): Promise<BlobInfo[]>;
  save(path: string, bytes: Buffer, opts: { contentType: string; version: string }): Promise<void>;
  /** Deletes; an object that is already gone is not an error. */
  delete(path: string): Promise<void>;
}

/**
 * Start (ms) of the time slot `at` falls into; slots are `intervalMinutes` long, aligned to the
 * epoch (the fan-out's: SYNC_TICK_MINUTES).
 */
export function slotStart(at: Date, intervalMinutes: number): number {
  const ms = intervalMinutes * 60_000;
  return Math.floor(at.getTime() / ms) * ms;
}

/**
 * The Cloud Tasks id of a sync task: a hash of (uid, provider, slot), so one connection gets at
 * most one task per fan-out tick however often the fan-out runs in it. Hashed ids also spread task names
 * evenly, which Cloud Tasks recommends over sequential names.
 */
export function syncTaskId(uid: string, provider: Provider, slot: number | string): string {
  return createHash("sha256").update(`${uid}\n${provider}\n${slot}`).digest("hex");
}
