/**
 * Chaos on the emulators: the function's worker is killed mid-sync and Cloud Tasks delivers the
 * task again.
 *
 * A task goes through the Cloud Tasks emulator into the emulated syncSpotify function, whose
 * worker (a child process of the Functions emulator) calls the fake providers started here on
 * 127.0.0.1:9090. A one-shot "hang" fault holds one request at the kill point; the test finds the
 * process on the client side of that held socket (/proc) and SIGKILLs it. The Functions emulator
 * answers the dispatch 500, the Tasks emulator delivers the same task again after the queue's
 * backoff (1 s in functions/.env.local), and that delivery takes the dead run's lease over (same
 * task id, sync/lease.ts).
 *
 * Kill points:
 * - after the token refresh (refresh tokens rotate: the old one stops working) → the delivery
 *   after it syncs with the rotated token the dead run stored, and a later refresh works;
 * - after the snapshot and play-log writes, before any image → one consistent snapshot, no play
 *   logged twice, every image mirrored;
 * - during the image writes (one cover stored, the next held) → every cover exactly once, the
 *   manifest matching the folder.
 *
 * And a provider that answers too slowly for the sync to finish: the emulated function stops at
 * SYNC_DEADLINE_SECONDS (40 s in functions/.env.local), records `timeout` and is not retried.
 */
import { randomUUID } from "node:crypto";
import type { Timestamp } from "firebase-admin/firestore";
import { bucket, db, taskQueueService } from "../../src/admin";
import { loadConfig } from "../../src/config";
import { tokenStoreFromConfig } from "../../src/crypto/tokenStore";
import { firestorePaths } from "../../src/paths";
import type { SyncTaskPayload } from "../../src/sync/ports";
import { runSync } from "../../src/sync/runSync";
import { syncDeps } from "../../src/sync/runtime";
import { readSnapshot } from "../../src/sync/snapshots";
import { firebaseTaskQueue } from "../../src/sync/taskQueue";
import { type FakeProviders, startFakeProviders } from "../../../scripts/fake-providers";
import { type FakeConnection, connectFake, connectionRef } from "../support/fake-connections";
import { commandLineOf, pidOfLoopbackClient } from "../support/processes";
import { waitFor } from "../support/wait";

jest.setTimeout(180_000);

const FAKE_PORT = 9090;
const SNAPSHOTS = ["profile", "playlists", "top-tracks", "top-artists", "recently-played"];
const config = loadConfig();
const tokens = tokenStoreFromConfig();
let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders({ port: FAKE_PORT });
});
afterAll(async () => {
  fake?.rotateRefreshTokens(false);
  await fake?.stop();
});
afterEach(() => fake.clearFaults());

const connect = (opts: { expiresInMs?: number } = {}) =>
  connectFake(fake, "spotify", { playlists: 3 }, { prefix: "chaos-", timeZone: "Europe/Berlin", ...opts });

const payload = (c: FakeConnection): SyncTaskPayload => ({
  uid: c.uid,
  provider: "spotify",
  reason: "manual",
  requestedAt: Date.now(),
});

async function enqueue(c: FakeConnection): Promise<string> {
  const id = `chaos-${randomUUID()}`;
  expect(await firebaseTaskQueue(taskQueueService()).enqueue("spotify", payload(c), { id })).toBe("enqueued");
  return id;
}

/**
 * Waits for the held request whose path matches, then SIGKILLs the worker that made it. `before`
 * runs between finding the worker and killing it (to observe what the run had written by then).
 */
async function killTheWorkerHolding(c: FakeConnection, path: RegExp, before?: () => Promise<void>): Promise<number> {
  const held = await waitFor(async () => fake.hung().find((h) => h.accountId === c.accountId && path.test(h.path)), {
    timeoutMs: 60_000,
    intervalMs: 20,
    what: `a held request to ${path}`,
  });
  expect(held.remotePort).toEqual(expect.any(Number));
  const pid = pidOfLoopbackClient(held.remotePort!, FAKE_PORT);
  expect(pid).toEqual(expect.any(Number));
  // Never kill anything but an emulated function's worker.
  expect(commandLineOf(pid!)).toContain("functionsEmulatorRuntime");
  expect(pid).not.toBe(process.pid);
  await before?.();
  process.kill(pid!, "SIGKILL");
  // The request went with its process: the fake no longer holds it.
  await waitFor(async () => !fake.hung().some((h) => h.remotePort === held.remotePort), {
    timeoutMs: 10_000,
    intervalMs: 20,
    what: "the killed worker's socket to close",
  });
  return pid!;
}

const runsOf = async (uid: string) =>
  (await db().collection(firestorePaths.syncRuns(uid)).orderBy("startedAt").get()).docs.map((d) => d.data());

/** Waits for the sync after the kill: a successful run recorded and the lease released. */
async function waitForTheRedelivery(c: FakeConnection, since: number) {
  await waitFor(
    async () => {
      const conn = (await connectionRef(c).get()).data();
      const done = ((conn?.lastSyncAt as Timestamp | null)?.toMillis() ?? 0) >= since && conn?.lease === null;
      return done ? conn : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 250, what: "the redelivered task to finish the sync" },
  );
  const conn = (await connectionRef(c).get()).data()!;
  expect(conn).toMatchObject({ status: "connected", lastError: null, consecutiveFailures: 0, lease: null });
  return conn;
}

/** The one row the redelivery wrote (the killed attempt wrote none). */
async function expectOneSuccessfulRedelivery(c: FakeConnection, taskId: string) {
  const runs = await runsOf(c.uid);
  expect(runs.map((r) => [r.taskId, r.outcome, r.attempt])).toEqual([[taskId, "success", 2]]);
  return runs[0]!;
}

/** Every snapshot reads back whole (readSnapshot checks the hash) and no part lies beside it. */
async function expectConsistentSnapshots(c: FakeConnection): Promise<void> {
  for (const name of SNAPSHOTS) {
    const head = (
      await db()
        .doc(firestorePaths.snapshot(c.uid, "spotify", name))
        .get()
    ).data();
    expect(head).toBeDefined();
    const parts = await db()
      .collection(firestorePaths.snapshotParts(c.uid, "spotify", name))
      .listDocuments();
    expect(parts.length).toBe(head!.storage === "parts" ? head!.parts : 0);
    expect(await readSnapshot(db(), c.uid, "spotify", name)).toBeDefined();
  }
  const playlists = (await readSnapshot(db(), c.uid, "spotify", "playlists")) as { items: unknown[] };
  expect(playlists.items).toHaveLength(3);
}

const coversOf = async (c: FakeConnection) =>
  (await bucket().getFiles({ prefix: `${c.uid}/spotify/playlists/` }))[0].map((f) => f.name).sort();

async function expectEveryCoverOnce(c: FakeConnection, conn: FirebaseFirestore.DocumentData): Promise<void> {
  const names = await coversOf(c);
  expect(names.length).toBeGreaterThan(0);
  expect(names.length).toBe(conn.counts.mirror);
  // The manifest names exactly what the folder holds.
  const manifest = Object.keys((conn.mirror?.objects ?? {}) as Record<string, unknown>).sort();
  expect(manifest.map((k) => (k.includes("/") ? k : `${c.uid}/spotify/playlists/${k}`)).sort()).toEqual(names);
}

const playsOf = async (c: FakeConnection) => (await db().collection(firestorePaths.plays(c.uid)).get()).size;

describe("when the function's worker is killed mid-sync, then the redelivered task completes it", () => {
  it("killed after the token refresh: the rotated refresh token was kept, and the next refresh works", async () => {
    // The stored access token expires within the refresh margin: the sync refreshes first.
    const c = await connect({ expiresInMs: 60_000 });
    const before = (await tokens.load(c.uid, "spotify"))!;
    fake.rotateRefreshTokens(true);
    try {
      fake.fault("spotify", { accountId: c.accountId, endpoint: "me", kind: "hang", times: 1 });
      const start = Date.now();
      const taskId = await enqueue(c);
      await killTheWorkerHolding(c, /\/v1\/me$/, async () => {
        // The refresh happened before the held request, and its tokens are already stored.
        const stored = (await tokens.load(c.uid, "spotify"))!;
        expect(stored.refreshToken).not.toBe(before.refreshToken);
      });

      await waitForTheRedelivery(c, start);
      await expectOneSuccessfulRedelivery(c, taskId);
      await expectConsistentSnapshots(c);

      // The rotated token still refreshes: make the next sync refresh again.
      const stored = (await tokens.load(c.uid, "spotify"))!;
      await tokens.save(c.uid, "spotify", { ...stored, expiresAt: new Date(Date.now() + 60_000) });
      const next = await runSync(syncDeps(config), payload(c), { retryCount: 0 });
      expect(next).toMatchObject({ outcome: "success", tokenRefreshed: true });
    } finally {
      fake.rotateRefreshTokens(false);
    }
  });

  it("killed after the snapshot and play-log writes: one consistent snapshot, no play logged twice, every image", async () => {
    const c = await connect();
    // Every cover is held (the mirror fetches them side by side); released once the worker is dead.
    const release = fake.fault("spotify", { accountId: c.accountId, endpoint: "cdn", kind: "hang" });
    const start = Date.now();
    const taskId = await enqueue(c);
    let playsAtKill = 0;
    await killTheWorkerHolding(c, /\/cdn\//, async () => {
      // The killed run wrote its snapshots and plays, and no image yet.
      for (const name of SNAPSHOTS) {
        expect(
          (
            await db()
              .doc(firestorePaths.snapshot(c.uid, "spotify", name))
              .get()
          ).exists,
        ).toBe(true);
      }
      playsAtKill = await playsOf(c);
      expect(await coversOf(c)).toEqual([]);
    });
    release();
    expect(playsAtKill).toBeGreaterThan(0);

    const conn = await waitForTheRedelivery(c, start);
    const run = await expectOneSuccessfulRedelivery(c, taskId);
    await expectConsistentSnapshots(c);
    // The redelivery logged nothing new (the plays it read again were already there): none twice.
    expect(await playsOf(c)).toBe(playsAtKill);
    expect(run.counts.playsLogged).toBe(0);
    // Unchanged data: the redelivery rewrote no snapshot the killed run had written.
    expect(run.snapshotsWritten).toEqual([]);
    await expectEveryCoverOnce(c, conn);
  });

  it("killed during the image writes: every cover stored exactly once and the manifest matches the folder", async () => {
    const c = await connect();
    // The first cover is answered, the second held.
    fake.fault("spotify", { accountId: c.accountId, endpoint: "cdn", kind: "hang", skip: 1, times: 1 });
    const start = Date.now();
    const taskId = await enqueue(c);
    let atKill: string[] = [];
    await killTheWorkerHolding(c, /\/cdn\//, async () => {
      // Killed with part of the mirror written: wait (within the client's timeout) for the first cover.
      atKill = await waitFor(async () => ((await coversOf(c)).length > 0 ? coversOf(c) : undefined), {
        timeoutMs: 2_000,
        intervalMs: 50,
        what: "the first cover to be stored",
      });
    });
    expect(atKill.length).toBeGreaterThan(0);

    const conn = await waitForTheRedelivery(c, start);
    const run = await expectOneSuccessfulRedelivery(c, taskId);
    await expectConsistentSnapshots(c);
    await expectEveryCoverOnce(c, conn);
    expect(run.images).toMatchObject({ failed: 0 });
  });
});

describe("when the provider is too slow for the sync's deadline", () => {
  it("every page of the playlists answers late: the emulated function stops at SYNC_DEADLINE_SECONDS, records timeout, counts it, releases the lease, writes no snapshot and is not retried", async () => {
    const deadline = config.SYNC_DEADLINE_SECONDS;
    expect(deadline).toBeLessThan(120); // functions/.env.local's, not the deployed 420 s
    // 50 playlists a page, each page 2.5 s late (below HTTP_TIMEOUT_MS): more pages than the deadline allows.
    const pages = Math.ceil((deadline * 1000) / 2_500) + 10;
    const c = await connectFake(fake, "spotify", { playlists: pages * 50 }, { prefix: "chaos-deadline-" });
    fake.fault("spotify", { kind: "slow", delayMs: 2_500, endpoint: "me/playlists", accountId: c.accountId });
    const started = Date.now();
    const taskId = await enqueue(c);
    const conn = await waitFor(
      async () => {
        const d = (await connectionRef(c).get()).data();
        return d?.lastError?.code === "timeout" && d.lease === null ? d : undefined;
      },
      { timeoutMs: (deadline + 90) * 1000, intervalMs: 500, what: "the sync to record timeout" },
    );
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(deadline * 1000);
    expect(took).toBeLessThan((deadline + 45) * 1000);
    expect(conn).toMatchObject({ consecutiveFailures: 1, lease: null });
    expect(conn.lastError.message).toMatch(
      new RegExp(`^The sync ran longer than SYNC_DEADLINE_SECONDS \\(${deadline} s\\)`),
    );
    // Stopped before anything was saved: no snapshot of the first sync.
    expect((await db().collection(firestorePaths.snapshots(c.uid, "spotify")).get()).size).toBe(0);
    // One run, not retried (a retry would run as long): still one after the queue's retry delay.
    await new Promise((r) => setTimeout(r, 4_000));
    const runs = await runsOf(c.uid);
    expect(runs.map((r) => [r.taskId, r.outcome, r.attempt, r.willRetry])).toEqual([[taskId, "timeout", 1, false]]);
  });
});
