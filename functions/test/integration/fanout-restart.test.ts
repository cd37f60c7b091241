/**
 * Chaos on the emulators: the Firestore emulator is killed and restarted in the middle of a
 * fan-out, and a rerun enqueues only what is missing.
 *
 * The connections live in a Firestore emulator of this test's own (a Java process on port 8186,
 * support/firestore-process.ts) so it can be killed without taking the suite's emulator down. At
 * the 25th enqueue, the emulator exports what it has committed and is SIGKILLed; it is started
 * again from that export while the fan-out goes on (writes in flight at the kill are lost, as
 * they would be by a crash). The queue is the real Cloud Tasks emulator, which refuses a second
 * task of the same name (409) as Cloud Tasks does; the tasks it dispatches find no connection in
 * the suite's Firestore and do nothing.
 *
 * Whether the first fan-out rides through the restart (the client retries) or fails part-way,
 * the rerun in the same slot must enqueue exactly the connections no task was enqueued for, and
 * none twice.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { taskQueueService } from "../../src/admin";
import { loadConfig } from "../../src/config";
import { newConnection } from "../../src/connections/model";
import { firestorePaths } from "../../src/paths";
import { type FanOutSummary, runFanOut } from "../../src/sync/fanOut";
import type { TaskQueue } from "../../src/sync/ports";
import { firebaseTaskQueue } from "../../src/sync/taskQueue";
import { PROJECT_ID } from "../../../scripts/lib/local-env";
import { type FirestoreProcess, firestoreProcess } from "../support/firestore-process";
import { FakeClock } from "../support/sync-fakes";

jest.setTimeout(240_000);

const PORT = 8186;
const DUE = 60;
const KILL_AT = 25;
const config = {
  ...loadConfig(),
  FANOUT_PAGE_SIZE: 10,
  FANOUT_CONCURRENCY: 2,
  QUEUE_RATE_ADAPTIVE: false,
};

let fs: FirestoreProcess;
let exportDir: string;
const clients: Firestore[] = [];
const client = () => {
  const c = fs.client(PROJECT_ID);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  exportDir = mkdtempSync(join(tmpdir(), "fanout-restart-"));
  fs = firestoreProcess({ port: PORT, projectId: PROJECT_ID });
  await fs.start();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.terminate().catch(() => undefined)));
  await fs?.kill();
  rmSync(exportDir, { recursive: true, force: true });
});

async function seed(db: Firestore, now: Date): Promise<string[]> {
  const uids = Array.from({ length: DUE }, () => `restart-${randomUUID()}`);
  const batch = db.batch();
  for (const [i, uid] of uids.entries()) {
    batch.set(db.doc(firestorePaths.connection(uid, "spotify")), {
      ...newConnection({
        uid,
        provider: "spotify",
        providerAccountId: `acct-${i}`,
        providerAccountName: null,
        scopes: [],
        now,
      }),
      // Due in this order, so the pages are the same on every run.
      nextSyncAt: Timestamp.fromMillis(now.getTime() - 3_600_000 + i * 1_000),
    });
  }
  await batch.commit();
  return uids;
}

/** The real task queue, recording which uids it enqueued; at the KILL_AT-th call, restarts Firestore. */
function restartingQueue(enqueued: string[], isDead: () => boolean, onKill: () => Promise<void>): TaskQueue {
  const real = firebaseTaskQueue(taskQueueService());
  let calls = 0;
  return {
    async enqueue(provider, payload, opts) {
      if (isDead()) throw new Error("The fan-out's instance went down with Firestore.");
      const r = await real.enqueue(provider, payload, opts);
      if (r === "enqueued") enqueued.push(payload.uid);
      if (++calls === KILL_AT) await onKill();
      return r;
    },
  };
}

describe("when the Firestore emulator restarts in the middle of a fan-out", () => {
  // "rides through": the first run's client retries until Firestore is back. "fails part-way":
  // the first run's instance goes down with Firestore (every enqueue after the kill fails), so
  // the connections after the kill stay due without a task.
  it.each([
    ["rides through the restart", false],
    ["fails part-way", true],
  ])(
    "when the first run %s, then a rerun in the same slot enqueues exactly what it had not, and nothing twice",
    async (_name, failFirst) => {
      // A fresh emulator: nothing due but this case's connections.
      await fs.kill();
      await fs.start();
      const clock = new FakeClock();
      const uids = await seed(client(), clock.now());

      const firstDb = client();
      const firstEnqueued: string[] = [];
      let dead = false;
      let restarted: Promise<{ readyMs: number }> | undefined;
      const queue = restartingQueue(
        firstEnqueued,
        () => dead,
        async () => {
          const dir = await fs.exportTo(join(exportDir, `at-kill-${randomUUID()}`));
          await fs.kill();
          if (failFirst) dead = true;
          restarted = fs.start({ seedFrom: dir });
          restarted.catch(() => undefined); // awaited below
        },
      );
      const first = await runFanOut({ db: firstDb, queue, clock, config }).then(
        (s): { summary: FanOutSummary } | { error: string } => ({ summary: s }),
        (e: unknown) => ({ error: String(e) }),
      );
      expect(restarted).toBeDefined();
      const { readyMs } = await restarted!;

      const secondEnqueued: string[] = [];
      const second = await runFanOut({
        db: client(),
        queue: restartingQueue(
          secondEnqueued,
          () => false,
          async () => undefined,
        ),
        clock,
        config,
      });
      process.stderr.write(
        `[fanout-restart] ${_name}: first run ${"error" in first ? `failed (${first.error.slice(0, 100)})` : `completed ${JSON.stringify({ enqueued: first.summary.enqueued, failed: first.summary.failed })}`}; ` +
          `Firestore back after ${readyMs} ms; first enqueued ${firstEnqueued.length}; rerun ${JSON.stringify({
            due: second.due,
            enqueued: second.enqueued,
            skippedPending: second.skippedPending,
            skippedDuplicates: second.skippedDuplicates,
            failed: second.failed,
          })}\n`,
      );

      // The first run got at least as far as the kill; when it failed, it left work undone.
      expect(firstEnqueued.length).toBeGreaterThanOrEqual(KILL_AT);
      expect("error" in first).toBe(false);
      if (failFirst) expect(firstEnqueued.length).toBeLessThan(DUE);
      // Nothing was enqueued twice, and together the runs enqueued every due connection.
      expect(new Set([...firstEnqueued, ...secondEnqueued]).size).toBe(firstEnqueued.length + secondEnqueued.length);
      expect([...firstEnqueued, ...secondEnqueued].sort()).toEqual([...uids].sort());
      // The rerun saw every connection still due and enqueued only the missing ones.
      expect(second.due).toBe(DUE);
      expect(second.failed).toBe(0);
      expect(second.enqueued).toBe(DUE - firstEnqueued.length);
      expect(second.enqueued + second.skippedPending + second.skippedDuplicates).toBe(DUE);

      // A third run in the slot enqueues nothing.
      const third = await runFanOut({ db: client(), queue: firebaseTaskQueue(taskQueueService()), clock, config });
      expect(third).toMatchObject({ due: DUE, enqueued: 0, failed: 0 });
    },
  );
});
