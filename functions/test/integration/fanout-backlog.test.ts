/**
 * Backlog control and the adaptive queue rate of the fan-out (sync/backlog.ts, sync/queueRate.ts)
 * against the Firestore emulator, each test on a project of its own so the counts are exact; the
 * task queue and the queue-rate port are in-memory fakes.
 */
import { randomUUID } from "node:crypto";
import { deleteApp, initializeApp } from "firebase-admin/app";
import { type Firestore, Timestamp, getFirestore } from "firebase-admin/firestore";
import { loadConfig } from "../../src/config";
import { newConnection } from "../../src/connections/model";
import { logs } from "../../src/logs";
import { type Provider, firestorePaths } from "../../src/paths";
import { runFanOut } from "../../src/sync/fanOut";
import { acquireLease } from "../../src/sync/lease";
import type { EnqueueResult, SyncTaskPayload } from "../../src/sync/ports";
import { liftProviderPause, pauseProvider } from "../../src/sync/providerPause";
import type { QueueRatePort } from "../../src/sync/queueRate";
import { type SyncDeps, runSync } from "../../src/sync/runSync";
import { RecordingQueue } from "../support/sync-fakes";

const TICK = 20 * 60_000;
/** One minute into a slot of SYNC_TICK_MINUTES, so +TICK is the next slot. */
const T0 = Math.floor(Date.parse("2026-04-01T10:00:00Z") / TICK) * TICK + 60_000;

const baseConfig = {
  SYNC_INTERVAL_MINUTES: 60,
  SYNC_TICK_MINUTES: 20,
  FANOUT_PAGE_SIZE: 2, // several pages, so the per-page flush is exercised
  FANOUT_CONCURRENCY: 2,
  MAX_PAUSE_HOURS: 24,
  PENDING_TASK_EXPIRY_MINUTES: 60,
};

class Clock {
  constructor(public t: number) {}
  now(): Date {
    return new Date(this.t);
  }
}

/** A RecordingQueue that counts every call, also those that would be duplicates. */
class CountingQueue extends RecordingQueue {
  calls = 0;
  override async enqueue(provider: Provider, payload: SyncTaskPayload, opts: { id: string }): Promise<EnqueueResult> {
    this.calls++;
    return super.enqueue(provider, payload, opts);
  }
}

let iso: { firestore: Firestore; close: () => Promise<void> };
beforeEach(() => {
  const projectId = `demo-backlog-${randomUUID().slice(0, 8)}`;
  const app = initializeApp({ projectId, serviceAccountId: `${projectId}@appspot.gserviceaccount.com` }, projectId);
  iso = { firestore: getFirestore(app), close: () => deleteApp(app) };
});
afterEach(async () => {
  jest.restoreAllMocks();
  await iso.close();
});

async function seed(uids: string[], provider: Provider = "spotify"): Promise<void> {
  const batch = iso.firestore.batch();
  for (const uid of uids) {
    batch.set(iso.firestore.doc(firestorePaths.connection(uid, provider)), {
      ...newConnection({
        uid,
        provider,
        providerAccountId: null,
        providerAccountName: null,
        scopes: [],
        now: new Date(T0 - 3_600_000),
      }),
      nextSyncAt: Timestamp.fromMillis(T0 - 60_000),
    });
  }
  await batch.commit();
}

const conn = async (uid: string, provider: Provider = "spotify") =>
  (await iso.firestore.doc(firestorePaths.connection(uid, provider)).get()).data()!;

describe("backlog control", () => {
  it("when the previous slot's task is still waiting, then the next slot enqueues nothing for that connection, and after the expiry it enqueues again", async () => {
    const uids = ["a", "b", "c"];
    await seed(uids);
    const clock = new Clock(T0);
    const queue = new CountingQueue();
    const fanOut = () => runFanOut({ db: iso.firestore, queue, clock, config: baseConfig });

    const first = await fanOut();
    expect(first).toMatchObject({ due: 3, enqueued: 3, skippedPending: 0, skippedDuplicates: 0, failed: 0 });
    for (const uid of uids) {
      const task = queue.tasks.find((t) => t.payload.uid === uid)!;
      expect((await conn(uid)).pendingTask).toEqual({
        id: task.id,
        slot: Timestamp.fromMillis(T0 - 60_000),
        enqueuedAt: Timestamp.fromMillis(T0),
      });
    }

    // The same slot again: this slot's tasks are known to be queued, the queue is not even asked.
    const again = await fanOut();
    expect(again).toMatchObject({ due: 3, enqueued: 0, skippedDuplicates: 3, skippedPending: 0 });
    expect(queue.calls).toBe(3);

    // The next slot, nothing has run: the backlog does not grow.
    clock.t = T0 + TICK;
    const second = await fanOut();
    expect(second).toMatchObject({ due: 3, enqueued: 0, skippedPending: 3, failed: 0 });
    expect(second.capacity).toEqual([
      expect.objectContaining({ provider: "spotify", lane: "shared", due: 3, enqueued: 0, skippedPending: 3 }),
    ]);
    expect(queue.tasks).toHaveLength(3);

    // a's task runs: taking the lease clears its pendingTask (the run then fails and leaves it due).
    const aTask = queue.tasks.find((t) => t.payload.uid === "a")!;
    const lease = await acquireLease(iso.firestore, {
      uid: "a",
      provider: "spotify",
      holder: "run-a",
      now: clock.now(),
      leaseSeconds: 600,
      reason: "scheduled",
      requestedAt: aTask.payload.requestedAt,
    });
    expect(lease.kind).toBe("acquired");
    expect((await conn("a")).pendingTask).toBeUndefined();
    await iso.firestore.doc(firestorePaths.connection("a", "spotify")).update({ lease: null });

    clock.t = T0 + 2 * TICK;
    const third = await fanOut();
    expect(third).toMatchObject({ due: 3, enqueued: 1, skippedPending: 2 });
    expect(queue.tasks.slice(3).map((t) => t.payload.uid)).toEqual(["a"]);

    // PENDING_TASK_EXPIRY_MINUTES after b's and c's tasks were enqueued they count as lost.
    clock.t = T0 + 3 * TICK;
    const fourth = await fanOut();
    expect(fourth).toMatchObject({ due: 3, enqueued: 2, skippedPending: 1 });
    expect(
      queue.tasks
        .slice(4)
        .map((t) => t.payload.uid)
        .sort(),
    ).toEqual(["b", "c"]);
    expect((await conn("b")).pendingTask.enqueuedAt.toMillis()).toBe(clock.t);
  });

  it("when a task runs before the fan-out records it, then the connection is not marked pending", async () => {
    await seed(["fast"]);
    const clock = new Clock(T0);
    // The task is dispatched and takes its lease as soon as it is enqueued.
    const queue = new (class extends RecordingQueue {
      override async enqueue(provider: Provider, payload: SyncTaskPayload, opts: { id: string }) {
        const r = await super.enqueue(provider, payload, opts);
        await acquireLease(iso.firestore, {
          ...payload,
          holder: "run-fast",
          now: clock.now(),
          leaseSeconds: 600,
        });
        return r;
      }
    })();
    const summary = await runFanOut({ db: iso.firestore, queue, clock, config: baseConfig });
    expect(summary).toMatchObject({ enqueued: 1 });
    const c = await conn("fast");
    expect(c.lease.holder).toBe("run-fast");
    expect(c.pendingTask).toBeUndefined();
  });

  it("when a pending task exits without syncing (paused, not due), then it clears its own record, so the next slot enqueues again", async () => {
    await seed(["p", "q"]);
    const clock = new Clock(T0);
    const queue = new CountingQueue();
    const fanOut = () => runFanOut({ db: iso.firestore, queue, clock, config: baseConfig });
    expect(await fanOut()).toMatchObject({ enqueued: 2 });
    const task = (uid: string) => queue.tasks.find((t) => t.payload.uid === uid)!;
    const deliver = (uid: string, holder: string) =>
      acquireLease(iso.firestore, {
        ...task(uid).payload,
        holder,
        now: clock.now(),
        leaseSeconds: 600,
        taskId: task(uid).id,
      });
    const ref = (uid: string) => iso.firestore.doc(firestorePaths.connection(uid, "spotify"));

    // p is paused before its task arrives; q waits in a backoff (a resume of an error connection).
    await ref("p").update({ status: "paused", pausedFrom: "connected" });
    await ref("q").update({ nextSyncAt: Timestamp.fromMillis(T0 + 30 * 60_000) });
    // Another task's delivery (a manual one, an older duplicate) leaves the record alone.
    const other = await acquireLease(iso.firestore, {
      ...task("q").payload,
      holder: "run-other",
      now: clock.now(),
      leaseSeconds: 600,
      taskId: "another-task",
    });
    expect(other.kind).toBe("not_due");
    expect((await conn("q")).pendingTask?.id).toBe(task("q").id);

    expect((await deliver("p", "run-p")).kind).toBe("not_syncable");
    expect((await deliver("q", "run-q")).kind).toBe("not_due");
    for (const uid of ["p", "q"]) {
      const c = await conn(uid);
      expect(c.pendingTask).toBeUndefined();
      expect(c.lease).toBeNull();
    }

    // p is resumed (due now), q's backoff passes: the next slot enqueues both, none skipped as pending.
    await ref("p").update({ status: "connected", nextSyncAt: Timestamp.fromMillis(T0 + TICK - 1) });
    clock.t = T0 + 2 * TICK;
    expect(await fanOut()).toMatchObject({ due: 2, enqueued: 2, skippedPending: 0 });
    expect(queue.tasks).toHaveLength(4);
  });

  it("when a scheduled task is older than the expiry, then it exits as stale without a transaction", async () => {
    await seed(["late"]);
    const before = await iso.firestore.doc(firestorePaths.connection("late", "spotify")).get();
    const clock = new Clock(T0);
    const deps = { db: iso.firestore, clock, config: { ...loadConfig(), PENDING_TASK_EXPIRY_MINUTES: 60 } };
    const stale = { uid: "late", provider: "spotify", reason: "scheduled", requestedAt: T0 - 61 * 60_000 };
    const r = await runSync(deps as unknown as SyncDeps, stale, { retryCount: 0 });
    expect(r).toMatchObject({ outcome: "skipped", skipped: "stale", retry: false });
    const after = await iso.firestore.doc(firestorePaths.connection("late", "spotify")).get();
    expect(after.updateTime!.isEqual(before.updateTime!)).toBe(true);
    expect(after.get("lease")).toBeNull();
    // A younger one goes on to the lease (here: a connection that does not exist).
    const fresh = { ...stale, uid: "nobody", requestedAt: T0 - 59 * 60_000 };
    expect(await runSync(deps as unknown as SyncDeps, fresh, { retryCount: 0 })).toMatchObject({
      outcome: "skipped",
      skipped: "missing",
    });
  });

  it("when more connections are due than a queue dispatches in an hour, then the summary says so and a warning is logged", async () => {
    await seed(["s1", "s2", "s3", "s4", "s5"]);
    await seed(["i1"], "instagram");
    const warn = jest.spyOn(logs, "warn");
    const info = jest.spyOn(logs, "info");
    // 0.001 dispatches per second: 3 an hour.
    const config = { ...baseConfig, SPOTIFY_QUEUE_MAX_DISPATCHES_PER_SECOND: 0.001 };
    const summary = await runFanOut({ db: iso.firestore, queue: new RecordingQueue(), clock: new Clock(T0), config });
    expect(summary.overCapacity).toBe(true);
    expect(summary.capacity).toEqual([
      {
        provider: "instagram",
        lane: "shared",
        due: 1,
        enqueued: 1,
        skippedPending: 0,
        ratePerSecond: 20, // Instagram's default (its budget grows with its people)
        perHour: 72_000,
        overCapacity: false,
      },
      {
        provider: "spotify",
        lane: "shared",
        due: 5,
        enqueued: 5,
        skippedPending: 0,
        ratePerSecond: 0.001,
        perHour: 3,
        overCapacity: true,
      },
    ]);
    expect(warn).toHaveBeenCalledWith(
      "sync.fanout.over_capacity",
      expect.objectContaining({ provider: "spotify", due: 5, perHour: 3 }),
    );
    expect(warn).not.toHaveBeenCalledWith(
      "sync.fanout.over_capacity",
      expect.objectContaining({ provider: "instagram" }),
    );
    expect(info).toHaveBeenCalledWith(
      "sync.fanout.completed",
      expect.objectContaining({ skippedPending: 0, overCapacity: true, capacity: summary.capacity }),
    );
  });
});

describe("the adaptive queue rate", () => {
  it("when no app-scoped 429 comes back the rate rises a step per slot, after one it halves, and it is recorded in provider_state and applied", async () => {
    await seed(["r1", "r2"]);
    const applied: Array<[Provider, number]> = [];
    const rates: QueueRatePort = { setRate: async (p, r) => void applied.push([p, r]) };
    const clock = new Clock(T0);
    const config = {
      ...baseConfig,
      SPOTIFY_QUEUE_MAX_DISPATCHES_PER_SECOND: 4,
      QUEUE_RATE_ADAPTIVE: true,
      QUEUE_RATE_MIN: 1,
      QUEUE_RATE_MAX: 10,
      QUEUE_RATE_INCREASE: 1,
      QUEUE_RATE_DECREASE_PERCENT: 50,
    };
    const queue = new RecordingQueue();
    const fanOut = () => runFanOut({ db: iso.firestore, queue, clock, config, queueRate: rates });
    const state = async (p: Provider) => (await iso.firestore.doc(firestorePaths.providerState(p)).get()).data();

    const first = await fanOut();
    expect((await state("spotify"))?.queueRate).toEqual({
      perSecond: 5,
      reason: "increase",
      adjustedAt: Timestamp.fromMillis(T0),
    });
    // Nothing due for Instagram: nothing learned, its configured rate (20) is kept within the bounds.
    expect((await state("instagram"))?.queueRate).toMatchObject({ perSecond: 10, reason: "idle" });
    expect(applied).toContainEqual(["spotify", 5]);
    expect(first.capacity).toEqual([
      expect.objectContaining({ provider: "spotify", ratePerSecond: 5, perHour: 18_000 }),
    ]);

    // A second fan-out in the same slot does not step again.
    await fanOut();
    expect((await state("spotify"))?.queueRate.perSecond).toBe(5);

    clock.t = T0 + TICK;
    await fanOut();
    expect((await state("spotify"))?.queueRate).toMatchObject({ perSecond: 6, reason: "increase" });

    // An app-scoped 429 during the slot paused Spotify; the pause keeps the recorded rate.
    await pauseProvider(iso.firestore, {
      provider: "spotify",
      until: new Date(T0 + TICK + 30 * 60_000),
      reason: "Spotify asked to wait 1800 s.",
      now: new Date(T0 + TICK + 60_000),
      limits: { MAX_PAUSE_HOURS: 24 },
    });
    expect((await state("spotify"))?.queueRate.perSecond).toBe(6);
    clock.t = T0 + 2 * TICK;
    const paused = await fanOut();
    expect(paused).toMatchObject({ skippedPaused: 2, enqueued: 0 });
    expect((await state("spotify"))?.queueRate).toMatchObject({ perSecond: 3, reason: "rate_limited" });
    expect((await state("spotify"))?.pausedUntil).toBeDefined();
    expect(applied.filter(([p]) => p === "spotify").at(-1)).toEqual(["spotify", 3]);

    // Lifting the pause keeps the rate; the next slot without a 429 rises again from it.
    expect(await liftProviderPause(iso.firestore, "spotify")).toBe(true);
    expect(await state("spotify")).toEqual({ queueRate: expect.objectContaining({ perSecond: 3 }) });
    clock.t = T0 + 3 * TICK;
    await fanOut();
    expect((await state("spotify"))?.queueRate).toMatchObject({ perSecond: 4, reason: "increase" });
  });

  it("when the adaptive rate is off, then nothing is recorded and the configured rate is the capacity", async () => {
    await seed(["o1"]);
    const summary = await runFanOut({
      db: iso.firestore,
      queue: new RecordingQueue(),
      clock: new Clock(T0),
      config: baseConfig,
      queueRate: { setRate: async () => Promise.reject(new Error("must not be called")) },
    });
    expect(summary.capacity).toEqual([expect.objectContaining({ provider: "spotify", ratePerSecond: 5 })]);
    expect((await iso.firestore.doc(firestorePaths.providerState("spotify")).get()).exists).toBe(false);
  });
});
