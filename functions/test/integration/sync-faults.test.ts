/**
 * The sync engine under faults, on the emulators with the real Spotify client against the fake
 * provider server (127.0.0.1:9090), runSync in-process:
 *
 * - two runs interleaved at each write point: run A pauses there (SyncDeps.beforeWrite), its lease
 *   expires, run B takes it and syncs newer data, then A resumes. A must write nothing more, and
 *   one consistent snapshot must remain (its document points at parts that exist and match its
 *   hash: B's), with B's outcome on the connection;
 * - a disconnect with delete and a reconnect while a run is paused: the old run writes nothing
 *   (its lease is gone), so neither the data the person deleted nor the old run's fetch comes back
 *   over the new connection's;
 * - a provider that hangs past SYNC_DEADLINE_SECONDS: `timeout` recorded on the connection and in
 *   sync_runs, counted as a failure, the lease released, the last good snapshot kept.
 */
import { randomUUID } from "node:crypto";
import { bucket, db } from "../../src/admin";
import { type Config, loadConfig } from "../../src/config";
import { newConnection } from "../../src/connections/model";
import { tokenStoreFromConfig } from "../../src/crypto/tokenStore";
import { FirestoreConnectionStore } from "../../src/oauth/connectionStore";
import { FirestoreStorageEraser, disconnect } from "../../src/oauth/disconnect";
import { firestorePaths } from "../../src/paths";
import type { Clock, SyncTaskPayload } from "../../src/sync/ports";
import { type RunWritePoint, type SyncDeps, type SyncResult, runSync } from "../../src/sync/runSync";
import { syncDeps } from "../../src/sync/runtime";
import { readSnapshot } from "../../src/sync/snapshots";
import { type FakeProviders, startFakeProviders } from "../../../scripts/fake-providers";
import { FakeClock } from "../support/sync-fakes";

jest.setTimeout(120_000);

// Covers are left out except where the mirror is the subject (thousands of playlists below).
const config: Config = { ...loadConfig(), MIRROR_SPOTIFY_COVERS: false };
const tokens = tokenStoreFromConfig();
let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders({ port: 9090 });
});
afterAll(async () => {
  await fake?.stop();
});
afterEach(() => fake.clearFaults());

interface Conn {
  uid: string;
  accountId: string;
}

/** A Spotify connection to a fresh fake account (with a time zone, so its plays are logged). */
async function connect(playlists: number, now: Date): Promise<Conn> {
  const uid = `faults-${randomUUID()}`;
  const { id } = fake.addAccount("spotify", { playlists });
  await saveTokens(uid, id, now);
  await db()
    .doc(firestorePaths.user(uid))
    .set({ settings: { timeZone: "Europe/Berlin" } });
  await connRef(uid).set(
    newConnection({
      uid,
      provider: "spotify",
      providerAccountId: id,
      providerAccountName: null,
      scopes: [],
      now,
    }),
  );
  return { uid, accountId: id };
}

async function saveTokens(uid: string, accountId: string, now: Date) {
  const t = fake.issueTokens("spotify", accountId);
  const set = {
    accessToken: t.accessToken,
    ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}),
    // Valid however far a test moves its clock: no refresh comes between the runs.
    expiresAt: new Date(now.getTime() + 30 * 86_400_000),
    issuedAt: now,
    scopes: t.scopes,
  };
  await tokens.save(uid, "spotify", set);
  return set;
}

const connRef = (uid: string) => db().doc(firestorePaths.connection(uid, "spotify"));
const connection = async (c: Conn) => (await connRef(c.uid).get()).data()!;
const manual = (c: Conn, clock: Clock): SyncTaskPayload => ({
  uid: c.uid,
  provider: "spotify",
  reason: "manual",
  requestedAt: clock.now().getTime(),
});
const deps = (clock: Clock, cfg: Config = config, beforeWrite?: SyncDeps["beforeWrite"]): SyncDeps => ({
  ...syncDeps(cfg),
  clock,
  ...(beforeWrite ? { beforeWrite } : {}),
});
const runs = async (c: Conn) => (await db().collection(firestorePaths.syncRuns(c.uid)).get()).docs.map((d) => d.data());
const objects = async (uid: string) => (await bucket().getFiles({ prefix: `${uid}/` }))[0].map((f) => f.name).sort();

/**
 * Pauses the run it is given to at the first time it reaches `point` (a snapshot point: of the
 * `playlists` snapshot, the one stored in parts), until released.
 */
function pauseAt(point: RunWritePoint) {
  let reached!: () => void;
  let release!: () => void;
  const atPoint = new Promise<void>((r) => (reached = r));
  const gate = new Promise<void>((r) => (release = r));
  let fired = false;
  const hook: NonNullable<SyncDeps["beforeWrite"]> = async (p, detail) => {
    if (p !== point || fired || (p.startsWith("snapshot.") && detail !== "playlists")) return;
    fired = true;
    reached();
    await gate;
  };
  return { hook, atPoint, release };
}

/** Waits for the run to reach its pause point; fails fast when it ended without reaching it. */
async function paused(run: Promise<SyncResult>, atPoint: Promise<void>, point: string): Promise<void> {
  const ended = run.then((r) => {
    throw new Error(`The run ended (${r.outcome}) without reaching ${point}.`);
  });
  await Promise.race([atPoint, ended]);
}

/**
 * The snapshot as stored, checked whole: its document's parts all exist, belong to its
 * generation and reassemble to its hash (readSnapshot checks the hash). Returns the value and
 * how many part documents exist beside the ones it points at.
 */
async function consistentSnapshot(uid: string, name: string): Promise<{ value: unknown; strayParts: number }> {
  const head = (
    await db()
      .doc(firestorePaths.snapshot(uid, "spotify", name))
      .get()
  ).data();
  expect(head).toBeDefined();
  const parts = await db()
    .collection(firestorePaths.snapshotParts(uid, "spotify", name))
    .listDocuments();
  const value = await readSnapshot(db(), uid, "spotify", name);
  const own = head!.storage === "parts" ? parts.filter((p) => p.id.startsWith(`${head!.generation}-`)).length : 0;
  if (head!.storage === "parts") expect(own).toBe(head!.parts);
  return { value, strayParts: parts.length - own };
}

const playlistCount = (v: unknown) => (v as { items: unknown[] }).items.length;

describe("two runs interleaved at each write point", () => {
  // A reads 2,500 playlists (a snapshot in parts); B, after A's lease expired, reads 3,500.
  it.each<RunWritePoint>(["snapshot.parts", "snapshot.head", "snapshot.delete_parts", "plays", "finish"])(
    "when run A is paused at %s and run B takes its expired lease, then A writes nothing more and B's snapshot and outcome stand",
    async (point) => {
      const clock = new FakeClock();
      const c = await connect(2_500, clock.now());
      const pause = pauseAt(point);
      const a = runSync(deps(clock, config, pause.hook), manual(c, clock), { retryCount: 0 });
      await paused(a, pause.atPoint, point);

      fake.account("spotify", c.accountId).setPlaylistCount(3_500);
      clock.advance((config.LEASE_SECONDS + 1) * 1000);
      const b = await runSync(deps(clock), manual(c, clock), { retryCount: 0 });
      expect(b.outcome).toBe("success");
      expect(b.snapshots!.split.playlists).toBeGreaterThan(1);
      const afterB = await connection(c);
      const playsAfterB = (await db().collection(firestorePaths.plays(c.uid)).get()).size;

      pause.release();
      const ra = await a;

      // One consistent snapshot, B's: its document points at parts that exist and match its hash.
      const { value, strayParts } = await consistentSnapshot(c.uid, "playlists");
      expect(playlistCount(value)).toBe(3_500);
      expect(strayParts).toBe(0);
      // The connection is B's: A's finish wrote nothing on it.
      const after = await connection(c);
      expect(after).toMatchObject({ lease: null, counts: afterB.counts, lastError: null });
      expect(after.lastSuccessAt.toMillis()).toBe(afterB.lastSuccessAt.toMillis());
      expect(after.history).toEqual(afterB.history);
      expect((await db().collection(firestorePaths.plays(c.uid)).get()).size).toBe(playsAfterB);
      // Both runs are in the log; A's marked superseded.
      const log = await runs(c);
      expect(log.map((r) => r.outcome).sort()).toEqual(["success", "superseded"]);
      expect(log.find((r) => r.runId === ra.runId)).toMatchObject({ outcome: "superseded", willRetry: false });
      expect(ra.superseded).toEqual({ by: "overtaken", documents: 0, objects: 0 });
      expect(ra.retry).toBe(false);
    },
  );

  it("when run A is paused before its image mirror and run B mirrors newer covers, then A does not mirror or delete any", async () => {
    const clock = new FakeClock();
    const cfg: Config = { ...config, MIRROR_SPOTIFY_COVERS: true };
    const c = await connect(6, clock.now());
    const pause = pauseAt("mirror");
    const a = runSync(deps(clock, cfg, pause.hook), manual(c, clock), { retryCount: 0 });
    await paused(a, pause.atPoint, "mirror");

    // B sees more playlists, and new covers for two of them.
    const account = fake.account("spotify", c.accountId);
    account.setPlaylistCount(9);
    account.changeItems(2);
    clock.advance((cfg.LEASE_SECONDS + 1) * 1000);
    const b = await runSync(deps(clock, cfg), manual(c, clock), { retryCount: 0 });
    expect(b.outcome).toBe("success");
    expect(b.images!.saved).toBeGreaterThan(0);
    const mirroredByB = await objects(c.uid);
    const generations = async () =>
      Object.fromEntries(
        (await bucket().getFiles({ prefix: `${c.uid}/` }))[0].map((f) => [f.name, String(f.metadata.generation)]),
      );
    const generationsByB = await generations();

    pause.release();
    const ra = await a;
    expect(await objects(c.uid)).toEqual(mirroredByB);
    expect(await generations()).toEqual(generationsByB);
    expect(playlistCount((await consistentSnapshot(c.uid, "playlists")).value)).toBe(9);
    // A's mirror compares (its `unchanged` count is what already matched) but its lease check
    // before the first save stops it: nothing saved or deleted.
    expect(ra.images).toMatchObject({ saved: 0, deleted: 0, failed: 0 });
    expect(ra.superseded).toEqual({ by: "overtaken", documents: 0, objects: 0 });
  });
});

describe("a disconnect and a reconnect during a run", () => {
  it.each<RunWritePoint>(["snapshot.parts", "snapshot.head", "snapshot.delete_parts", "plays", "finish"])(
    "when the person disconnects with delete and reconnects while run A is paused at %s, then A writes nothing and the new connection's data stands",
    async (point) => {
      const clock = new FakeClock();
      const c = await connect(2_500, clock.now());
      // A last good sync, whose data the person then deletes.
      expect((await runSync(deps(clock), manual(c, clock), { retryCount: 0 })).outcome).toBe("success");
      fake.account("spotify", c.accountId).changeItems(5);
      clock.advance(60_000);
      const pause = pauseAt(point);
      const a = runSync(deps(clock, config, pause.hook), manual(c, clock), { retryCount: 0 });
      await paused(a, pause.atPoint, point);

      const store = new FirestoreConnectionStore(db(), tokens);
      const erased = await disconnect(
        {
          now: () => clock.now(),
          connections: store,
          eraser: new FirestoreStorageEraser(db(), bucket()),
          revoke: async () => false,
        },
        c.uid,
        { provider: "spotify", deleteData: true },
      );
      expect(erased.deletedDocuments).toBeGreaterThan(0);
      // The person reconnects the same account (A's lease is not expired: the clock did not move)
      // and its connect sync runs, seeing newer data.
      fake.account("spotify", c.accountId).setPlaylistCount(3_000);
      clock.advance(1_000);
      const t = await saveTokens(c.uid, c.accountId, clock.now());
      await store.saveConnected({
        uid: c.uid,
        provider: "spotify",
        tokens: t,
        account: { id: c.accountId, displayName: null },
        scopes: t.scopes,
        now: clock.now(),
      });
      const fresh = await runSync(deps(clock), { ...manual(c, clock), reason: "connect" }, { retryCount: 0 });
      expect(fresh.outcome).toBe("success");
      const afterFresh = await connection(c);
      const playsAfterFresh = (await db().collection(firestorePaths.plays(c.uid)).get()).size;

      pause.release();
      const ra = await a;
      const { value, strayParts } = await consistentSnapshot(c.uid, "playlists");
      expect(playlistCount(value)).toBe(3_000);
      expect(strayParts).toBe(0);
      const after = await connection(c);
      expect(after).toMatchObject({ status: "connected", lease: null, counts: afterFresh.counts });
      expect(after.lastSuccessAt.toMillis()).toBe(afterFresh.lastSuccessAt.toMillis());
      expect((await db().collection(firestorePaths.plays(c.uid)).get()).size).toBe(playsAfterFresh);
      expect(await tokens.load(c.uid, "spotify")).toMatchObject({ accessToken: t.accessToken });
      expect(ra.superseded?.by).toBe("overtaken");
    },
  );

  it("when the person disconnects with delete while a run is paused before its snapshots, then nothing comes back", async () => {
    const clock = new FakeClock();
    const c = await connect(2_500, clock.now());
    const pause = pauseAt("snapshot.parts");
    const a = runSync(deps(clock, config, pause.hook), manual(c, clock), { retryCount: 0 });
    await paused(a, pause.atPoint, "snapshot.parts");
    await disconnect(
      {
        now: () => clock.now(),
        connections: new FirestoreConnectionStore(db(), tokens),
        eraser: new FirestoreStorageEraser(db(), bucket()),
        revoke: async () => false,
      },
      c.uid,
      { provider: "spotify", deleteData: true },
    );
    pause.release();
    const ra = await a;
    expect((await db().collection(firestorePaths.snapshots(c.uid, "spotify")).get()).size).toBe(0);
    const parts = await db().collectionGroup("parts").where("generation", ">=", "").get();
    expect(parts.docs.filter((d) => d.ref.path.startsWith(`users/${c.uid}/`))).toHaveLength(0);
    expect((await db().collection(firestorePaths.plays(c.uid)).get()).size).toBe(0);
    expect(await connection(c)).toMatchObject({ status: "disconnected", lease: null });
    expect(ra.superseded?.by).toBe("disconnected");
  });
});

describe("a provider that hangs past the deadline", () => {
  it("when Spotify stops answering, then the sync stops at SYNC_DEADLINE_SECONDS, records timeout, counts it and releases the lease", async () => {
    // A 2 s deadline against a 20 s request timeout: only the deadline can stop it this soon.
    const cfg: Config = { ...config, SYNC_DEADLINE_SECONDS: 2, HTTP_TIMEOUT_MS: 20_000 };
    const clock: Clock = { now: () => new Date() };
    const c = await connect(60, clock.now());
    expect((await runSync(deps(clock, cfg), manual(c, clock), { retryCount: 0 })).outcome).toBe("success");
    const good = await consistentSnapshot(c.uid, "playlists");
    fake.account("spotify", c.accountId).changeItems(3);
    fake.fault("spotify", { kind: "hang", endpoint: "me/playlists" });

    const started = Date.now();
    const r = await runSync(deps(clock, cfg), manual(c, clock), { retryCount: 0 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r).toMatchObject({ outcome: "timeout", retry: false, error: { code: "timeout" } });
    expect(r.error!.message).toMatch(/^The sync ran longer than SYNC_DEADLINE_SECONDS \(2 s\)/);
    const conn = await connection(c);
    expect(conn).toMatchObject({ lease: null, consecutiveFailures: 1, lastError: { code: "timeout" } });
    expect(conn.lastError.message).toBe(r.error!.message);
    const row = (await runs(c)).find((x) => x.runId === r.runId);
    expect(row).toMatchObject({ outcome: "timeout", willRetry: false, error: { code: "timeout" } });
    // Nothing of the stopped fetch was written.
    expect((await consistentSnapshot(c.uid, "playlists")).value).toEqual(good.value);
  });

  it("when every Spotify answer is slow, then the listing stops between pages at the deadline", async () => {
    const cfg: Config = { ...config, SYNC_DEADLINE_SECONDS: 2, HTTP_TIMEOUT_MS: 20_000 };
    const clock: Clock = { now: () => new Date() };
    const c = await connect(400, clock.now());
    fake.fault("spotify", { kind: "slow", delayMs: 300, endpoint: "me/playlists" });
    const started = Date.now();
    const r = await runSync(deps(clock, cfg), manual(c, clock), { retryCount: 0 });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(r).toMatchObject({ outcome: "timeout", error: { code: "timeout" } });
    expect(await connection(c)).toMatchObject({ lease: null, consecutiveFailures: 1 });
    expect((await db().collection(firestorePaths.snapshots(c.uid, "spotify")).get()).size).toBe(0);
  });
});
