/**
 * The fan-out: finds every connection that is due and enqueues one sync task per connection on
 * its provider's queue.
 *
 * - Pages through collectionGroup("connections") where status == S and nextSyncAt <= now, ordered
 *   by nextSyncAt, with a cursor (FANOUT_PAGE_SIZE per page, only nextSyncAt, app, pendingTask and lease read), for
 *   S in SYNCABLE_STATUSES: `connected`, and `error` whose backoff has expired. Memory holds one
 *   page (plus the next one, prefetched), never all users.
 * - Runs every SYNC_TICK_MINUTES (SYNC_SCHEDULE). Task id = hash(uid, provider, slot of
 *   SYNC_TICK_MINUTES): a second fan-out in the same tick enqueues nothing new (duplicates are
 *   counted as skipped, not failed). Running every tick does not sync anyone more often than their
 *   nextSyncAt says (hourly when idle, sooner while plays arrive: the catalog's `plays.activeSync`).
 * - Enqueues with at most FANOUT_CONCURRENCY calls in flight.
 * - Enqueues nothing for a provider that rate-limited the whole app (providerPause.ts), nor for a
 *   connection made through a person's own app that is paused (its `app.clientId`): those
 *   connections stay due and are counted as skippedPaused.
 * - Backlog control (backlog.ts): a connection whose last task is still waiting in the queue
 *   (`pendingTask`, younger than PENDING_TASK_EXPIRY_MINUTES) gets no second one (skippedPending);
 *   after each enqueue the task is recorded on the connection (BulkWriter, flushed per page).
 * - Per queue it compares the due connections with the hour's capacity (dispatch rate × 3600) and
 *   warns (`sync.fanout.over_capacity`) when the hour cannot serve them.
 * - QUEUE_RATE_ADAPTIVE: after enqueueing, adjusts each provider queue's rate (queueRate.ts).
 * - Ends with one log line `sync.fanout.completed` {due, enqueued, skippedDuplicates,
 *   skippedPending, failed, ms, capacity, …}.
 */
import { type Firestore, type QueryDocumentSnapshot, Timestamp } from "firebase-admin/firestore";
import type { Config } from "../config";
import { logs } from "../logs";
import { CONNECTIONS, parseConnectionPath } from "../paths";
import { PROVIDERS, type Provider } from "../paths";
import {
  type BacklogConfig,
  PendingTaskRecorder,
  type QueueCapacity,
  configuredDispatchRate,
  parsePendingTask,
  pendingState,
  queueCapacity,
} from "./backlog";
import { SYNCABLE_STATUSES, errorSummary } from "./policy";
import { mapPool } from "./pool";
import { ownAppKey, ownAppPauses, providerPauses } from "./providerPause";
import { type Clock, type QueueLane, type TaskQueue, slotStart, syncTaskId } from "./ports";
import { type QueueRateConfig, type QueueRatePort, adjustQueueRates, recordOnlyQueueRate } from "./queueRate";

export interface FanOutDeps {
  db: Firestore;
  queue: TaskQueue;
  clock: Clock;
  /** SYNC_TICK_MINUTES absent: one fan-out a SYNC_INTERVAL_MINUTES slot (tools that run it by hand). */
  /**
   * Settings absent here take their defaults; a provider's queue rate comes from its
   * `<PREFIX>_QUEUE_MAX_DISPATCHES_PER_SECOND` when present, else from its catalog entry.
   */
  config: Pick<Config, "SYNC_INTERVAL_MINUTES" | "FANOUT_PAGE_SIZE" | "FANOUT_CONCURRENCY" | "MAX_PAUSE_HOURS"> &
    Partial<Pick<Config, "SYNC_TICK_MINUTES">> &
    BacklogConfig &
    QueueRateConfig;
  /** Applies the adaptive queue rate (QUEUE_RATE_ADAPTIVE); absent: the rate is only recorded. */
  queueRate?: QueueRatePort;
}

export interface FanOutSummary {
  due: number;
  enqueued: number;
  skippedDuplicates: number;
  /** Due, but their provider is paused app-wide (rate limited), or their own app is. */
  skippedPaused: number;
  /** Due, but the task of an earlier slot is still waiting in the queue (the backlog). */
  skippedPending: number;
  failed: number;
  /** Per queue with due connections: the hour's capacity (dispatch rate × 3600) against them. */
  capacity: QueueCapacity[];
  /** Some queue has more due connections than it dispatches in an hour. */
  overCapacity: boolean;
  /** Documents in a `connections` collection that is not `users/{uid}/connections/{provider}`. */
  ignored: number;
  pages: number;
  slot: string;
  ms: number;
}

export async function runFanOut(deps: FanOutDeps): Promise<FanOutSummary> {
  const t0 = Date.now();
  const now = deps.clock.now();
  const slot = slotStart(now, deps.config.SYNC_TICK_MINUTES ?? deps.config.SYNC_INTERVAL_MINUTES);
  const summary: FanOutSummary = {
    due: 0,
    enqueued: 0,
    skippedDuplicates: 0,
    skippedPaused: 0,
    skippedPending: 0,
    failed: 0,
    capacity: [],
    overCapacity: false,
    ignored: 0,
    pages: 0,
    slot: new Date(slot).toISOString(),
    ms: 0,
  };
  let failuresLogged = 0;
  const [paused, ownPaused] = await Promise.all([
    providerPauses(deps.db, now, deps.config),
    ownAppPauses(deps.db, now, deps.config),
  ]);
  const slotMs = (deps.config.SYNC_TICK_MINUTES ?? deps.config.SYNC_INTERVAL_MINUTES) * 60_000;
  const recorder = new PendingTaskRecorder(deps.db);
  const queues = new Map<
    string,
    { provider: Provider; lane: QueueLane; due: number; enqueued: number; pending: number }
  >();
  const queueOf = (provider: Provider, lane: QueueLane) => {
    const key = `${provider}/${lane}`;
    let q = queues.get(key);
    if (!q) queues.set(key, (q = { provider, lane, due: 0, enqueued: 0, pending: 0 }));
    return q;
  };

  const enqueueOne = async (doc: QueryDocumentSnapshot) => {
    const target = parseConnectionPath(doc.ref.path);
    if (!target) {
      summary.ignored++;
      return;
    }
    summary.due++;
    const clientId = doc.get("app.clientId") as unknown;
    const own = typeof clientId === "string" && clientId !== "";
    const q = queueOf(target.provider, own ? "own" : "shared");
    q.due++;
    if (own ? ownPaused.has(ownAppKey(target.provider, clientId)) : paused[target.provider]) {
      summary.skippedPaused++;
      return;
    }
    const pending = pendingState(parsePendingTask(doc.get("pendingTask")), now, slot, deps.config);
    if (pending === "pending") {
      summary.skippedPending++;
      q.pending++;
      return;
    }
    if (pending === "same_slot") {
      summary.skippedDuplicates++;
      return;
    }
    const id = syncTaskId(target.uid, target.provider, slot);
    try {
      const r = await deps.queue.enqueue(
        target.provider,
        { uid: target.uid, provider: target.provider, reason: "scheduled", requestedAt: now.getTime() },
        { id, lane: own ? "own" : "shared" },
      );
      if (r === "enqueued") {
        summary.enqueued++;
        q.enqueued++;
        // A live lease: the running sync moves the connection on; its task will exit as not due.
        const leaseEnd = doc.get("lease.expiresAt") as Timestamp | undefined;
        if (!(leaseEnd instanceof Timestamp && leaseEnd.toMillis() > now.getTime()))
          recorder.record(doc.ref, doc.updateTime, { id, slot, now });
      } else summary.skippedDuplicates++;
    } catch (e) {
      summary.failed++;
      // The connection stays due: the next fan-out tries again. Log a few, not thousands.
      if (failuresLogged++ < 5) logs.warn("sync.fanout.enqueue_failed", { ...target, error: errorSummary(e) });
    }
  };

  for (const status of SYNCABLE_STATUSES) {
    const base = deps.db
      .collectionGroup(CONNECTIONS)
      .where("status", "==", status)
      .where("nextSyncAt", "<=", Timestamp.fromDate(now))
      .orderBy("nextSyncAt")
      .select("nextSyncAt", "app", "pendingTask", "lease")
      .limit(deps.config.FANOUT_PAGE_SIZE);
    let page = await base.get();
    while (!page.empty) {
      summary.pages++;
      const last = page.docs[page.docs.length - 1]!;
      // Read the next page while this one is being enqueued.
      const next = page.size === deps.config.FANOUT_PAGE_SIZE ? base.startAfter(last).get() : undefined;
      next?.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
      await mapPool(page.docs, deps.config.FANOUT_CONCURRENCY, enqueueOne);
      await recorder.flush(); // one page of pendingTask writes in memory at most
      if (!next) break;
      page = await next;
    }
  }
  await recorder.close();

  // The rate each queue runs at for the coming hour: the adaptive one (recorded in provider_state)
  // when it is on, else the configured one.
  const sharedDue = Object.fromEntries(PROVIDERS.map((p) => [p, queues.get(`${p}/shared`)?.due ?? 0])) as Record<
    Provider,
    number
  >;
  const adaptive =
    deps.config.QUEUE_RATE_ADAPTIVE === true
      ? await adjustQueueRates(
          { db: deps.db, rates: deps.queueRate ?? recordOnlyQueueRate, config: deps.config },
          { now, slot, slotMs, paused, due: sharedDue },
        )
      : undefined;
  for (const q of queues.values()) {
    const rate =
      (q.lane === "shared" ? adaptive?.[q.provider]?.perSecond : undefined) ??
      configuredDispatchRate(deps.config, q.provider, q.lane);
    const c = queueCapacity({
      provider: q.provider,
      lane: q.lane,
      due: q.due,
      enqueued: q.enqueued,
      skippedPending: q.pending,
      ratePerSecond: rate,
    });
    summary.capacity.push(c);
    if (c.overCapacity) {
      summary.overCapacity = true;
      logs.warn("sync.fanout.over_capacity", {
        provider: c.provider,
        lane: c.lane,
        due: c.due,
        perHour: c.perHour,
        ratePerSecond: c.ratePerSecond,
      });
    }
  }
  summary.capacity.sort((a, b) => `${a.provider}/${a.lane}`.localeCompare(`${b.provider}/${b.lane}`));

  summary.ms = Date.now() - t0;
  logs.info("sync.fanout.completed", {
    due: summary.due,
    enqueued: summary.enqueued,
    skippedDuplicates: summary.skippedDuplicates,
    skippedPaused: summary.skippedPaused,
    skippedPending: summary.skippedPending,
    failed: summary.failed,
    overCapacity: summary.overCapacity,
    capacity: summary.capacity,
    pendingRecorded: recorder.recorded,
    pendingSuperseded: recorder.superseded,
    pendingNotRecorded: recorder.failed,
    ms: summary.ms,
    ignored: summary.ignored,
    pages: summary.pages,
    slot: summary.slot,
  });
  return summary;
}
