/**
 * The fan-out: finds every connection that is due and enqueues one sync task per connection on
 * its provider's queue.
 *
 * - Pages through collectionGroup("connections") where status == S and nextSyncAt <= now, ordered
 *   by nextSyncAt, with a cursor (FANOUT_PAGE_SIZE per page, only the nextSyncAt field read), for
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
 * - Ends with one log line `sync.fanout.completed` {due, enqueued, skippedDuplicates, failed, ms}.
 */
import { type Firestore, type QueryDocumentSnapshot, Timestamp } from "firebase-admin/firestore";
import type { Config } from "../config";
import { logs } from "../logs";
import { CONNECTIONS, parseConnectionPath } from "../paths";
import { SYNCABLE_STATUSES, errorSummary } from "./policy";
import { mapPool } from "./pool";
import { ownAppKey, ownAppPauses, providerPauses } from "./providerPause";
import { type Clock, type TaskQueue, slotStart, syncTaskId } from "./ports";

export interface FanOutDeps {
  db: Firestore;
  queue: TaskQueue;
  clock: Clock;
  /** SYNC_TICK_MINUTES absent: one fan-out a SYNC_INTERVAL_MINUTES slot (tools that run it by hand). */
  config: Pick<Config, "SYNC_INTERVAL_MINUTES" | "FANOUT_PAGE_SIZE" | "FANOUT_CONCURRENCY" | "MAX_PAUSE_HOURS"> &
    Partial<Pick<Config, "SYNC_TICK_MINUTES">>;
}

export interface FanOutSummary {
  due: number;
  enqueued: number;
  skippedDuplicates: number;
  /** Due, but their provider is paused app-wide (rate limited), or their own app is. */
  skippedPaused: number;
  failed: number;
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
    failed: 0,
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

  const enqueueOne = async (doc: QueryDocumentSnapshot) => {
    const target = parseConnectionPath(doc.ref.path);
    if (!target) {
      summary.ignored++;
      return;
    }
    summary.due++;
    const clientId = doc.get("app.clientId") as unknown;
    const own = typeof clientId === "string" && clientId !== "";
    if (own ? ownPaused.has(ownAppKey(target.provider, clientId)) : paused[target.provider]) {
      summary.skippedPaused++;
      return;
    }
    try {
      const r = await deps.queue.enqueue(
        target.provider,
        { uid: target.uid, provider: target.provider, reason: "scheduled", requestedAt: now.getTime() },
        { id: syncTaskId(target.uid, target.provider, slot), lane: own ? "own" : "shared" },
      );
      if (r === "enqueued") summary.enqueued++;
      else summary.skippedDuplicates++;
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
      .select("nextSyncAt", "app")
      .limit(deps.config.FANOUT_PAGE_SIZE);
    let page = await base.get();
    while (!page.empty) {
      summary.pages++;
      const last = page.docs[page.docs.length - 1]!;
      // Read the next page while this one is being enqueued.
      const next = page.size === deps.config.FANOUT_PAGE_SIZE ? base.startAfter(last).get() : undefined;
      next?.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
      await mapPool(page.docs, deps.config.FANOUT_CONCURRENCY, enqueueOne);
      if (!next) break;
      page = await next;
    }
  }

  summary.ms = Date.now() - t0;
  logs.info("sync.fanout.completed", {
    due: summary.due,
    enqueued: summary.enqueued,
    skippedDuplicates: summary.skippedDuplicates,
    skippedPaused: summary.skippedPaused,
    failed: summary.failed,
    ms: summary.ms,
    ignored: summary.ignored,
    pages: summary.pages,
    slot: summary.slot,
  });
  return summary;
}
