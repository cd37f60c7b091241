/**
 * Backlog control: a connection gets at most one scheduled task waiting in its queue.
 *
 * After a successful enqueue the fan-out records `pendingTask = { id, slot, enqueuedAt }` on the
 * connection; taking the lease (lease.ts) clears it, and so does the recorded task itself when it
 * exits without syncing (the connection paused, disconnected or no longer due). While a pending task is younger than
 * PENDING_TASK_EXPIRY_MINUTES the fan-out enqueues nothing more for that connection (it stays due
 * and is counted as `skippedPending`, or as a duplicate when the task is this slot's own), so a
 * queue that cannot keep up does not grow by every due connection each slot. An older pending
 * task counts as lost: the fan-out enqueues again, and the old task, should it still arrive, is
 * stale (`staleTaskSkip`) and exits before any transaction.
 *
 * The record is written with a precondition on the document's update time as the fan-out read
 * it: a task that already ran (its lease changed the document) is never marked pending after the
 * fact. A connection whose lease was live when the fan-out read it is not marked either: the
 * running sync will move it on, and the task just enqueued then exits as not due without clearing
 * anything. A record that is not written only costs a duplicate task later, never a stuck connection.
 *
 * The hour's capacity of a queue is its dispatch rate × 3600; the fan-out compares it with the due
 * connections of the queue (README, "Queues": how to choose the rate from a provider's budget).
 */
import { type BulkWriter, type DocumentReference, type Firestore, Timestamp } from "firebase-admin/firestore";
import { type Config, SETTINGS, providerSettingNames } from "../config";
import { ConnectionDoc } from "../connections/model";
import { logs } from "../logs";
import type { Provider } from "../paths";
import { catalogEntry } from "../providers/catalog";
import { errorSummary } from "./policy";
import type { QueueLane, SyncTaskPayload } from "./ports";

export type PendingTask = NonNullable<ConnectionDoc["pendingTask"]>;

export type BacklogConfig = Partial<Pick<Config, "PENDING_TASK_EXPIRY_MINUTES">>;

/** PENDING_TASK_EXPIRY_MINUTES in ms (its default when a tool passes a config without it). */
export function pendingExpiryMs(config: BacklogConfig): number {
  return (config.PENDING_TASK_EXPIRY_MINUTES ?? Number(SETTINGS.PENDING_TASK_EXPIRY_MINUTES.default)) * 60_000;
}

/** The stored pendingTask field of a connection as the fan-out read it; malformed or absent: null. */
export function parsePendingTask(value: unknown): PendingTask | null {
  if (value === undefined || value === null) return null;
  const parsed = ConnectionDoc.shape.pendingTask.safeParse(value);
  return parsed.success ? (parsed.data ?? null) : null;
}

/**
 * What a recorded pending task means for this fan-out: `none` (enqueue), `same_slot` (this slot's
 * task is already queued: a duplicate without asking the queue), `pending` (an older slot's task is
 * still waiting: skip), or `expired` (older than the expiry: lost, enqueue again).
 */
export function pendingState(
  pending: PendingTask | null,
  now: Date,
  slotStartMs: number,
  config: BacklogConfig,
): "none" | "same_slot" | "pending" | "expired" {
  if (!pending) return "none";
  if (now.getTime() - pending.enqueuedAt.toMillis() >= pendingExpiryMs(config)) return "expired";
  return pending.slot.toMillis() === slotStartMs ? "same_slot" : "pending";
}

/**
 * True when a task is stale: a scheduled task made longer than PENDING_TASK_EXPIRY_MINUTES ago,
 * which the fan-out has since counted as lost and replaced with a newer one. The handler then
 * exits before its lease transaction. Manual and connect tasks are never stale. Pure.
 */
export function staleTaskSkip(payload: SyncTaskPayload, now: Date, config: BacklogConfig): boolean {
  return payload.reason === "scheduled" && now.getTime() - payload.requestedAt >= pendingExpiryMs(config);
}

/** The configured dispatch rate of a provider's queue (settings `<PREFIX>_QUEUE_MAX_DISPATCHES_PER_SECOND`). */
export function configuredDispatchRate(config: object, provider: Provider, lane: QueueLane = "shared"): number {
  const e = catalogEntry(provider);
  const n = providerSettingNames(e);
  const own = lane === "own" && e.ownApps !== undefined;
  const value = (config as Record<string, unknown>)[
    own ? n.ownAppsQueue("MAX_DISPATCHES_PER_SECOND") : n.queue("MAX_DISPATCHES_PER_SECOND")
  ];
  if (typeof value === "number") return value;
  return own ? e.ownApps!.queue.maxDispatchesPerSecond : e.queue.maxDispatchesPerSecond;
}

/** One queue's hour: what it can dispatch against what is due. */
export interface QueueCapacity {
  provider: Provider;
  lane: QueueLane;
  /** Due connections of this queue found by the fan-out (also those skipped as pending or paused). */
  due: number;
  enqueued: number;
  /** Due, with an older slot's task still waiting in the queue. */
  skippedPending: number;
  /** The dispatch rate in effect (the adaptive one when it is on). */
  ratePerSecond: number;
  /** ratePerSecond × 3600. */
  perHour: number;
  /** More due than the queue dispatches in an hour: the backlog cannot be served this hour. */
  overCapacity: boolean;
}

export function queueCapacity(
  q: Pick<QueueCapacity, "provider" | "lane" | "due" | "enqueued" | "skippedPending" | "ratePerSecond">,
): QueueCapacity {
  const perHour = Math.floor(q.ratePerSecond * 3600);
  return { ...q, perHour, overCapacity: q.due > perHour };
}

/**
 * Writes `pendingTask` records in bulk (BulkWriter), each only if the connection is unchanged
 * since the fan-out read it. `flush()` after each page keeps memory to one page of writes.
 */
export class PendingTaskRecorder {
  private readonly writer: BulkWriter;
  recorded = 0;
  /** Not written: the connection changed since it was read (its task may already have run). */
  superseded = 0;
  failed = 0;

  constructor(db: Firestore) {
    // Updates of existing documents spread over the whole key space: no ramp-up needed.
    this.writer = db.bulkWriter({ throttling: false });
  }

  record(ref: DocumentReference, readUpdateTime: Timestamp | undefined, task: { id: string; slot: number; now: Date }) {
    const pendingTask: PendingTask = {
      id: task.id,
      slot: Timestamp.fromMillis(task.slot),
      enqueuedAt: Timestamp.fromDate(task.now),
    };
    const write = readUpdateTime
      ? this.writer.update(ref, { pendingTask }, { lastUpdateTime: readUpdateTime })
      : this.writer.update(ref, { pendingTask });
    write.then(
      () => this.recorded++,
      (e: unknown) => {
        // FAILED_PRECONDITION (9): changed since read; NOT_FOUND (5): deleted since read.
        const code = (e as { code?: unknown }).code;
        if (code === 9 || code === 5) this.superseded++;
        else if (this.failed++ < 5) logs.warn("sync.fanout.pending_not_recorded", { error: errorSummary(e) });
      },
    );
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
