/**
 * The sync engine end to end: the real provider clients against the fake provider server (started
 * here on 127.0.0.1:9090, where functions/.env.local points the emulated functions), tasks through
 * the Cloud Tasks emulator into the emulated syncSpotify / syncInstagram functions, Firestore and
 * Storage emulators. Each test uses fresh uids and fake accounts.
 */
import { randomUUID } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { bucket, db, taskQueueService } from "../../src/admin";
import { loadConfig } from "../../src/config";
import { tokenStoreFromConfig } from "../../src/crypto/tokenStore";
import { type Provider, firestorePaths } from "../../src/paths";
import { runFanOut } from "../../src/sync/fanOut";
import type { SyncTaskPayload, TaskQueue } from "../../src/sync/ports";
import { runSync } from "../../src/sync/runSync";
import { syncDeps } from "../../src/sync/runtime";
import { readSnapshot } from "../../src/sync/snapshots";
import { firebaseTaskQueue } from "../../src/sync/taskQueue";
import { type FakeProviders, startFakeProviders } from "../../../scripts/fake-providers";
import { EMULATORS, PROJECT_ID, REGION } from "../../../scripts/lib/local-env";
import { seedDemo } from "../../../scripts/local/seed";
import { type FakeConnection, connectFake, connectionRef } from "../support/fake-connections";
import { forgetPeople } from "../support/cleanup";
import { FakeClock } from "../support/sync-fakes";
import { waitFor } from "../support/wait";

// Long tests (100 syncs through the queues, hangs that time out); set here as well as in jest.config.js.
jest.setTimeout(240_000);

const config = loadConfig();
const tokens = tokenStoreFromConfig();
let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders({ port: 9090 });
});
afterAll(async () => {
  await fake?.stop();
  // 100-odd people: their tasks still in the queues find nobody once they are gone.
  await forgetPeople(["e2e-"]);
});

type Conn = FakeConnection;

const connect = (
  provider: Provider,
  spec: { playlists?: number; media?: number } = {},
  opts: { uid?: string; expiresInMs?: number } = {},
): Promise<Conn> => connectFake(fake, provider, { playlists: 3, media: 3, ...spec }, { prefix: "e2e-", ...opts });

const connRef = connectionRef;
const manual = (c: Conn): SyncTaskPayload => ({
  uid: c.uid,
  provider: c.provider,
  reason: "manual",
  requestedAt: Date.now(),
});
const syncInProcess = (c: Conn) => runSync(syncDeps(config), manual(c), { retryCount: 0 });

async function objectsOf(uid: string): Promise<Map<string, string>> {
  const [files] = await bucket().getFiles({ prefix: `${uid}/` });
  return new Map(files.map((f) => [f.name, String(f.metadata.generation)]));
}

/** Every string under an `id` key, at any depth. */
function idsIn(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => idsIn(v, out));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "id" && typeof v === "string") out.add(v);
      else idsIn(v, out);
    }
  }
  return out;
}

const SNAPSHOTS: Record<Provider, string[]> = {
  spotify: ["profile", "playlists", "top-tracks", "top-artists", "recently-played"],
  instagram: ["profile", "media"],
  youtube: ["channel", "liked-videos", "subscriptions", "playlists"],
};

async function snapshotTimes(c: { uid: string; provider: Provider }): Promise<string[]> {
  const refs = SNAPSHOTS[c.provider].map((n) => db().doc(firestorePaths.snapshot(c.uid, c.provider, n)));
  return (await db().getAll(...refs)).map((s) => s.updateTime?.toDate().toISOString() ?? "missing");
}

/** Records which tasks the fan-out enqueued, then enqueues them for real. */
function recording(queue: TaskQueue, seen: string[]): TaskQueue {
  return {
    async enqueue(provider, payload, opts) {
      const r = await queue.enqueue(provider, payload, opts);
      if (r === "enqueued") seen.push(`${payload.uid}/${provider}`);
      return r;
    },
  };
}

async function waitForSyncs(conns: Conn[], since: number, timeoutMs = 180_000): Promise<void> {
  await waitFor(
    async () => {
      const snaps = await db().getAll(...conns.map(connRef));
      return snaps.every((s) => ((s.get("lastSyncAt") as Timestamp | null)?.toMillis() ?? 0) >= since);
    },
    { timeoutMs, intervalMs: 1000, what: `${conns.length} syncs through the task queues` },
  );
}

describe("50 users × 2 providers through the fan-out and the task queues", () => {
  const users: { uid: string; spotify: Conn; instagram: Conn }[] = [];
  const all = () => users.flatMap((u) => [u.spotify, u.instagram]);

  beforeAll(async () => {
    for (let i = 0; i < 50; i++) {
      const uid = `e2e-fan-${randomUUID()}`;
      users.push({
        uid,
        spotify: await connect("spotify", {}, { uid }),
        instagram: await connect("instagram", {}, { uid }),
      });
    }
  });

  it("when one fan-out runs, then 100 tasks sync every user, each snapshot and image lands under its own uid, and a second fan-out enqueues 0", async () => {
    const start = Date.now();
    const seen: string[] = [];
    const queue = recording(firebaseTaskQueue(taskQueueService()), seen);
    // One clock reading for both fan-outs: with the system clock, a run that straddles the hour
    // would put the second fan-out in a new slot (new task ids) and enqueue everything again.
    const clock = new FakeClock(start);
    const first = await runFanOut({ db: db(), queue, clock, config });
    const mine = new Set(all().map((c) => `${c.uid}/${c.provider}`));
    expect(seen.filter((k) => mine.has(k)).sort()).toEqual([...mine].sort());
    const second = await runFanOut({ db: db(), queue, clock, config });
    expect(second.enqueued).toBe(0);
    // Other files leave due connections in the shared emulator (some with an older slot's task
    // pending): ours are among the duplicates, and nothing is enqueued a second time. A fast queue
    // (Instagram's dispatches 20 a second) may already have synced some of ours between the two
    // fan-outs: those are no longer due, so they are not duplicates either.
    const syncedBetween = (await db().getAll(...all().map(connRef))).filter(
      (s) => ((s.get("lastSyncAt") as Timestamp | null)?.toMillis() ?? 0) >= start,
    ).length;
    expect(second.skippedDuplicates).toBeGreaterThanOrEqual(mine.size - syncedBetween);
    expect(second.skippedDuplicates + second.skippedPending + second.skippedPaused).toBe(second.due);
    expect(first.failed + second.failed).toBe(0);

    await waitForSyncs(all(), start);
    for (const u of users) {
      const objects = await objectsOf(u.uid);
      let mirrored = 0;
      for (const c of [u.spotify, u.instagram]) {
        const conn = (await connRef(c).get()).data()!;
        expect(conn).toMatchObject({
          status: "connected",
          providerAccountId: c.accountId,
          lastError: null,
          consecutiveFailures: 0,
        });
        const profile = (await readSnapshot(db(), c.uid, c.provider, "profile")) as Record<string, unknown>;
        expect(idsIn(profile).has(c.accountId) || JSON.stringify(profile).includes(c.accountId)).toBe(true);
        const items = await readSnapshot(db(), c.uid, c.provider, c.provider === "spotify" ? "playlists" : "media");
        const own = idsIn(items);
        const folder = c.provider === "spotify" ? `${u.uid}/spotify/playlists/` : `${u.uid}/instagram/`;
        const names = [...objects.keys()].filter((n) => n.startsWith(folder));
        // Every object in this person's folder is one of their own items (ids are unique per fake account).
        for (const n of names) expect(own.has(n.slice(folder.length).replace(/\.[a-z0-9]+$/, ""))).toBe(true);
        expect(names.length).toBe(conn.counts.mirror);
        expect(names.length).toBeGreaterThan(0);
        mirrored += names.length;
      }
      expect(objects.size).toBe(mirrored);
    }
  });

  it("when 5 users' fake data changes, then the next sync rewrites only their documents and images", async () => {
    const before = new Map<string, { times: string[]; objects: Map<string, string> }>();
    for (const c of all())
      before.set(`${c.uid}/${c.provider}`, { times: await snapshotTimes(c), objects: await objectsOf(c.uid) });
    const changed = users.slice(0, 5);
    const changedItems = new Set<string>();
    for (const u of changed) {
      for (const id of fake.account("spotify", u.spotify.accountId).changeItems(1)) changedItems.add(id);
      for (const id of fake.account("instagram", u.instagram.accountId).changeItems(1)) changedItems.add(id);
    }

    // Make everyone due again and fan out in the next slot (new task ids).
    const start = Date.now();
    const batch = db().batch();
    for (const c of all()) batch.update(connRef(c), { nextSyncAt: Timestamp.fromMillis(start - 1000) });
    await batch.commit();
    const nextSlot = new FakeClock(start + config.SYNC_INTERVAL_MINUTES * 60_000);
    const seen: string[] = [];
    await runFanOut({
      db: db(),
      queue: recording(firebaseTaskQueue(taskQueueService()), seen),
      clock: nextSlot,
      config,
    });
    await waitForSyncs(all(), start);

    for (const u of users) {
      const isChanged = changed.includes(u);
      const objectsAfter = await objectsOf(u.uid);
      for (const c of [u.spotify, u.instagram]) {
        const b = before.get(`${c.uid}/${c.provider}`)!;
        const times = await snapshotTimes(c);
        const itemsIndex = SNAPSHOTS[c.provider].indexOf(c.provider === "spotify" ? "playlists" : "media");
        if (isChanged) expect(times[itemsIndex]).not.toBe(b.times[itemsIndex]);
        else expect(times).toEqual(b.times);
      }
      const before1 = before.get(`${u.uid}/spotify`)!.objects;
      for (const [name, gen] of objectsAfter) {
        const id = name
          .split("/")
          .pop()!
          .replace(/\.[a-z0-9]+$/, "");
        if (isChanged && changedItems.has(id)) expect(before1.get(name)).not.toBe(gen);
        else expect(before1.get(name)).toBe(gen);
      }
    }
  });
});

describe("faults of the fake provider", () => {
  /** A connection with a good first sync; returns its snapshot + objects to compare after the fault. */
  async function goodConnection(provider: Provider, opts: { expiresInMs?: number } = {}) {
    const c = await connect(provider, {}, opts);
    expect((await syncInProcess(c)).outcome).toBe("success");
    const items = c.provider === "spotify" ? "playlists" : "media";
    return { c, snapshot: await readSnapshot(db(), c.uid, c.provider, items), objects: await objectsOf(c.uid), items };
  }

  async function expectIntact(g: Awaited<ReturnType<typeof goodConnection>>) {
    expect(await readSnapshot(db(), g.c.uid, g.c.provider, g.items)).toEqual(g.snapshot);
    expect(await objectsOf(g.c.uid)).toEqual(g.objects);
  }

  it("when Spotify answers 429 with a 12-hour Retry-After, then the connection and all of Spotify pause 12 hours without retry", async () => {
    const g = await goodConnection("spotify");
    fake.fault("spotify", { accountId: g.c.accountId, kind: "429", retryAfterSeconds: 43_200 });
    const t0 = Date.now();
    const pause = db().doc(firestorePaths.providerState("spotify"));
    try {
      const r = await syncInProcess(g.c);
      expect(r).toMatchObject({ outcome: "rate_limited", retry: false });
      const conn = (await connRef(g.c).get()).data()!;
      expect(conn.nextSyncAt.toMillis()).toBeGreaterThanOrEqual(t0 + 43_200_000 - 5_000);
      expect(conn.rateLimitedUntil.toMillis()).toBe(conn.nextSyncAt.toMillis());
      expect(conn.status).toBe("connected");
      await expectIntact(g);
      // Spotify's limit is per app: the whole provider is paused until the same time.
      expect((await pause.get()).get("pausedUntil").toMillis()).toBe(conn.nextSyncAt.toMillis());
    } finally {
      await pause.delete(); // the files after this one sync Spotify
    }
  });

  it("when Spotify answers 429 with a short Retry-After, then the client waits it out and the sync succeeds", async () => {
    const g = await goodConnection("spotify");
    fake.fault("spotify", {
      accountId: g.c.accountId,
      endpoint: "me/playlists",
      kind: "429",
      retryAfterSeconds: 1,
      times: 1,
    });
    expect((await syncInProcess(g.c)).outcome).toBe("success");
  });

  it.each([
    ["5xx", "spotify", { kind: "5xx" }, "transient", true, "connected"],
    ["hang", "instagram", { kind: "hang", endpoint: "media" }, "transient", true, "connected"],
    ["malformed JSON", "spotify", { kind: "malformed", endpoint: "me/playlists" }, "failed", false, "connected"],
    ["schema drift", "instagram", { kind: "schema", endpoint: "media" }, "failed", false, "connected"],
    ["403 not allow-listed", "spotify", { kind: "403" }, "failed", false, "connected"],
    ["error 190", "instagram", { kind: "ig190" }, "reauth", false, "needs_reauth"],
  ] as const)(
    "when the provider fails with %s, then the outcome, retry and status follow the policy and the last good data is intact",
    async (_name, provider, f, outcome, retry, status) => {
      const g = await goodConnection(provider);
      fake.fault(provider, { accountId: g.c.accountId, ...f });
      const r = await syncInProcess(g.c);
      expect(r).toMatchObject({ outcome, retry });
      const conn = (await connRef(g.c).get()).data()!;
      expect(conn.status).toBe(status);
      expect(conn.lastError).not.toBeNull();
      expect(conn.lease).toBeNull();
      if (status === "needs_reauth") expect(conn.reauthReason).toEqual(expect.any(String));
      await expectIntact(g);
    },
  );

  it("when the refresh answers invalid_grant, then the connection needs re-auth with a reason", async () => {
    const g = await goodConnection("spotify");
    // Make the next sync refresh first: the refresh is what answers invalid_grant.
    const stored = await tokens.load(g.c.uid, "spotify");
    await tokens.save(g.c.uid, "spotify", { ...stored!, expiresAt: new Date(Date.now() + 60_000) });
    fake.revokeTokens("spotify", g.c.accountId);
    const r = await syncInProcess(g.c);
    expect(r).toMatchObject({ outcome: "reauth", retry: false });
    expect((await connRef(g.c).get()).data()).toMatchObject({
      status: "needs_reauth",
      reauthReason: expect.any(String),
    });
    await expectIntact(g);
  });

  it("when the refresh rotates the refresh token and the fetch then fails, then the new refresh token is stored", async () => {
    const g = await goodConnection("spotify");
    const before = await tokens.load(g.c.uid, "spotify");
    await tokens.save(g.c.uid, "spotify", { ...before!, expiresAt: new Date(Date.now() + 60_000) });
    fake.rotateRefreshTokens(true);
    try {
      fake.fault("spotify", { accountId: g.c.accountId, endpoint: "me/playlists", kind: "schema" });
      const r = await syncInProcess(g.c);
      expect(r).toMatchObject({ outcome: "failed", tokenRefreshed: true });
      const after = await tokens.load(g.c.uid, "spotify");
      expect(after!.refreshToken).toBeDefined();
      expect(after!.refreshToken).not.toBe(before!.refreshToken);
      expect(after!.accessToken).not.toBe(before!.accessToken);
      // The stored (rotated) token works: the next sync refreshes nothing and succeeds.
      fake.clearFaults();
      expect((await syncInProcess(g.c)).outcome).toBe("success");
    } finally {
      fake.rotateRefreshTokens(false);
    }
  });
});

describe("through the queue", () => {
  const functionUrl = (name: string) =>
    `http://${EMULATORS.functions.host}:${EMULATORS.functions.port}/${PROJECT_ID}/${REGION}/${name}`;

  const runsOf = async (uid: string) =>
    (await db().collection(firestorePaths.syncRuns(uid)).orderBy("startedAt").get()).docs.map((d) => d.data());

  it("when a 5xx outlasts the client's retries once, then Cloud Tasks retries the task and the second attempt succeeds", async () => {
    const c = await connect("spotify");
    fake.fault("spotify", {
      accountId: c.accountId,
      endpoint: "me/playlists",
      kind: "5xx",
      times: config.HTTP_MAX_RETRIES + 1,
    });
    await firebaseTaskQueue(taskQueueService()).enqueue("spotify", manual(c), { id: `retry-${randomUUID()}` });
    const runs = await waitFor(
      async () => {
        const r = await runsOf(c.uid);
        return r.length >= 2 ? r : undefined;
      },
      { timeoutMs: 60_000, what: "two sync attempts" },
    );
    expect(runs.map((r) => [r.outcome, r.willRetry, r.attempt])).toEqual([
      ["transient", true, 1],
      ["success", false, 2],
    ]);
  });

  it("when the same task is delivered twice at once, then one sync runs and the other finds the lease", async () => {
    const c = await connect("instagram");
    // A scheduled payload: whether the two deliveries overlap (lease) or not (already synced this slot), one sync runs.
    const body = JSON.stringify({ data: { ...manual(c), reason: "scheduled" } });
    const post = () =>
      fetch(functionUrl("syncInstagram"), { method: "POST", headers: { "content-type": "application/json" }, body });
    const answers = await Promise.all([post(), post()]);
    expect(answers.map((a) => a.ok)).toEqual([true, true]);
    const runs = await runsOf(c.uid);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.outcome).toBe("success");
  });
});

describe("the demo people of npm start", () => {
  it("when a seeded person has several pages of Instagram media, then every page syncs", async () => {
    // The seed once gave Instagram accounts readable ids; Graph ids are numeric, so the fake's
    // next-page link answered 404 and grace@demo.test's 60 posts never synced.
    const uid = `e2e-seed-${randomUUID()}`;
    await seedDemo(fake, [
      { uid, email: `${uid}@demo.test`, displayName: "Seeded", summary: "", instagram: { media: 60 } },
    ]);
    const r = await syncInProcess({ uid, provider: "instagram", accountId: "" });
    expect(r).toMatchObject({ outcome: "success", counts: { media: 60 } });
    expect(r.counts!.mediaPages).toBeGreaterThan(1);
  });
});

describe("a large account", () => {
  it("when a user has 5,000 playlists, then the sync stores them all and the snapshot reads back whole", async () => {
    const c = await connect("spotify", { playlists: 5_000 });
    const t0 = Date.now();
    // Covers off: 5,000 cover downloads take ~100 s on a 2-core machine and are not what this test is about.
    const r = await runSync(syncDeps({ ...config, MIRROR_SPOTIFY_COVERS: false }), manual(c), { retryCount: 0 });
    const ms = Date.now() - t0;
    expect(r.outcome).toBe("success");
    const back = (await readSnapshot(db(), c.uid, "spotify", "playlists")) as {
      total: number;
      items: { id: string }[];
    };
    expect(back.total).toBe(5_000);
    expect(back.items).toHaveLength(5_000);
    expect(new Set(back.items.map((p) => p.id)).size).toBe(5_000);
    process.stderr.write(
      `[sync-e2e] 5,000 playlists: ${ms} ms, ${r.requests} requests, parts ${JSON.stringify(r.snapshots?.split)}, images ${JSON.stringify(r.images)}\n`,
    );
  });
});
