/**
 * The sync handler (runSync), lease, failure policy, snapshot parts, manual sync and fan-out
 * against the Firestore and Storage emulators, with fakes for the provider module, the download,
 * the clock and the task queue (the end-to-end run with the fake provider server and the Tasks
 * emulator is sync-e2e.test.ts).
 */
import { randomUUID } from "node:crypto";
import { deleteApp, initializeApp } from "firebase-admin/app";
import { DocumentReference, type Firestore, Timestamp, getFirestore } from "firebase-admin/firestore";
import { deleteAccountData } from "../../src/account/deleteAccount";
import { bucket, db } from "../../src/admin";
import { loadConfig } from "../../src/config";
import { newConnection } from "../../src/connections/model";
import { tokenStoreFromConfig } from "../../src/crypto/tokenStore";
import {
  NotAllowedError,
  ProviderSchemaError,
  RateLimitedError,
  ReauthRequiredError,
  TokenRejectedError,
  TransientError,
} from "../../src/errors";
import { FirestoreConnectionStore } from "../../src/oauth/connectionStore";
import { FirestoreStorageEraser, disconnect } from "../../src/oauth/disconnect";
import { type Provider, firestorePaths } from "../../src/paths";
import type { FetchResult, TokenSet } from "../../src/providers/types";
import { bucketBlobStore } from "../../src/sync/blobStore";
import { runFanOut } from "../../src/sync/fanOut";
import { ManualSyncRefusedError, requestManualSync } from "../../src/sync/manual";
import { PauseCache, pauseProvider } from "../../src/sync/providerPause";
import { type SyncDeps, runSync } from "../../src/sync/runSync";
import { readSnapshot } from "../../src/sync/snapshots";
import { FakeClock, RecordingQueue, type ScriptedProvider, scriptedProvider } from "../support/sync-fakes";

const config = loadConfig();
const tokens = tokenStoreFromConfig();

function fetchResult(uid: string, playlists: number, version = "v1", mirror = true): FetchResult {
  const items = Array.from({ length: playlists }, (_, i) => ({
    id: `p${i}`,
    name: `Playlist ${i} of ${uid}`,
    snapshot_id: version,
  }));
  return {
    account: { id: `acct-${uid}`, displayName: `Name ${uid}` },
    snapshots: { profile: { id: `acct-${uid}`, owner: uid }, playlists: { items, total: playlists } },
    mirror: (mirror ? items : []).map((p) => ({
      id: p.id,
      url: `http://cdn.test/${uid}/${p.id}.jpg`,
      ext: "jpg",
      version,
    })),
    counts: { playlists },
    requests: 2,
  };
}

interface Setup {
  uid: string;
  provider: ScriptedProvider;
  clock: FakeClock;
  deps: SyncDeps;
  downloads: string[];
}

async function setup(
  opts: { playlists?: number; expiresInMs?: number; providerId?: Provider; mirror?: boolean; at?: number } = {},
): Promise<Setup> {
  const uid = `sync-${randomUUID()}`;
  const providerId = opts.providerId ?? "spotify";
  const clock = new FakeClock(opts.at);
  let current = fetchResult(uid, opts.playlists ?? 3, "v1", opts.mirror ?? true);
  const provider = scriptedProvider(providerId, () => current);
  (provider as unknown as { setResult: (r: FetchResult) => void }).setResult = (r) => (current = r);
  const t: TokenSet = {
    accessToken: "access-1",
    refreshToken: "refresh-1",
    expiresAt: new Date(clock.t + (opts.expiresInMs ?? 3_600_000)),
    issuedAt: new Date(clock.t),
    scopes: ["scope-a"],
  };
  await tokens.save(uid, providerId, t);
  await db()
    .doc(firestorePaths.connection(uid, providerId))
    .set(
      newConnection({
        uid,
        provider: providerId,
        providerAccountId: null,
        providerAccountName: null,
        scopes: [],
        now: clock.now(),
      }),
    );
  const downloads: string[] = [];
  const deps: SyncDeps = {
    db: db(),
    clock,
    config,
    tokens,
    // No connection of these tests is made through an own app (own-app.test.ts covers those).
    apps: { load: async () => null },
    provider: () => provider,
    blobs: bucketBlobStore(bucket()),
    download: async (url) => {
      downloads.push(url);
      return { bytes: Buffer.from(`jpeg:${url}`), contentType: "image/jpeg" };
    },
    eraser: new FirestoreStorageEraser(db(), bucket()),
  };
  return { uid, provider, clock, deps, downloads };
}

const payload = (s: Setup, reason: "scheduled" | "manual" = "scheduled") => ({
  uid: s.uid,
  provider: s.provider.id,
  reason,
  requestedAt: s.clock.t,
});
const connection = async (s: Setup) => (await db().doc(firestorePaths.connection(s.uid, s.provider.id)).get()).data()!;
/** Waits until a run of task `taskId` holds the connection's lease. */
async function waitForLease(ref: DocumentReference, taskId: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await ref.get()).get("lease.taskId") === taskId) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no run of task ${taskId} took the lease within 10 s`);
}
const objects = async (uid: string) => (await bucket().getFiles({ prefix: `${uid}/` }))[0].map((f) => f.name).sort();

describe("a sync run", () => {
  it("when a connection syncs, then snapshots, images, connection fields and a sync_runs row are written and the lease released", async () => {
    const s = await setup();
    const r = await runSync(s.deps, payload(s), { retryCount: 0 });
    expect(r).toMatchObject({ outcome: "success", retry: false });
    expect(await readSnapshot(db(), s.uid, "spotify", "profile")).toEqual({ id: `acct-${s.uid}`, owner: s.uid });
    expect(await objects(s.uid)).toEqual([0, 1, 2].map((i) => `${s.uid}/spotify/playlists/p${i}.jpg`));
    const c = await connection(s);
    expect(c).toMatchObject({
      status: "connected",
      consecutiveFailures: 0,
      lastError: null,
      lease: null,
      counts: { playlists: 3 },
    });
    expect(c.lastSuccessAt).toBeInstanceOf(Timestamp);
    expect(c.nextSyncAt.toMillis()).toBeGreaterThan(s.clock.t);
    expect(c.providerAccountName).toBe(`Name ${s.uid}`);
    const runs = await db().collection(firestorePaths.syncRuns(s.uid)).get();
    expect(runs.size).toBe(1);
    const run = runs.docs[0]!.data();
    expect(run).toMatchObject({ outcome: "success", provider: "spotify", reason: "scheduled" });
    expect(run.expiresAt.toMillis() - run.finishedAt.toMillis()).toBe(config.SYNC_RUN_TTL_DAYS * 86_400_000);
  });

  it("when nothing changed, then no snapshot document is rewritten and no image downloaded again", async () => {
    const s = await setup();
    await runSync(s.deps, payload(s), { retryCount: 0 });
    const ref = db().doc(firestorePaths.snapshot(s.uid, "spotify", "playlists"));
    const before = (await ref.get()).updateTime!;
    s.downloads.length = 0;
    const r = await runSync(s.deps, payload(s, "manual"), { retryCount: 0 });
    expect(r.snapshots).toMatchObject({ written: [], unchanged: ["profile", "playlists"] });
    expect(r.images).toMatchObject({ saved: 0, unchanged: 3 });
    expect(s.downloads).toEqual([]);
    expect((await ref.get()).updateTime!.isEqual(before)).toBe(true);
  });

  it("when a playlist changes and one disappears, then only its image is replaced and the gone one deleted", async () => {
    const s = await setup();
    await runSync(s.deps, payload(s), { retryCount: 0 });
    const next = fetchResult(s.uid, 2);
    next.mirror[1]!.version = "v2";
    (s.provider as unknown as { setResult: (r: FetchResult) => void }).setResult(next);
    s.downloads.length = 0;
    const r = await runSync(s.deps, payload(s, "manual"), { retryCount: 0 });
    expect(r.images).toEqual({ saved: 1, unchanged: 1, deleted: 1, failed: 0 });
    expect(s.downloads).toEqual([`http://cdn.test/${s.uid}/p1.jpg`]);
    expect(await objects(s.uid)).toEqual([`${s.uid}/spotify/playlists/p0.jpg`, `${s.uid}/spotify/playlists/p1.jpg`]);
  });

  it("when the payload is malformed, then it is dropped without retry", async () => {
    const s = await setup();
    const r = await runSync(s.deps, { uid: "../x", provider: "myspace" }, { retryCount: 0 });
    expect(r).toMatchObject({ outcome: "dropped", retry: false });
  });
});

describe("leases", () => {
  it("when the same task is delivered twice at once, then only one sync happens", async () => {
    const s = await setup();
    const original = s.provider.fetchImpl;
    s.provider.fetchImpl = async (t) => {
      await new Promise((r) => setTimeout(r, 300));
      return original(t);
    };
    const [a, b] = await Promise.all([
      runSync(s.deps, payload(s), { retryCount: 0 }),
      runSync(s.deps, payload(s), { retryCount: 0 }),
    ]);
    expect([a.outcome, b.outcome].sort()).toEqual(["skipped", "success"]);
    // The loser either finds the lease, or — when the emulator serialises the two lease
    // transactions so that it retries after the winner finished — finds the slot already synced.
    const skipped = a.outcome === "skipped" ? a.skipped : b.skipped;
    expect(["leased", "not_due"]).toContain(skipped);
    expect(s.provider.calls.fetch).toBe(1);
    expect((await db().collection(firestorePaths.syncRuns(s.uid)).get()).size).toBe(1);
  });

  it("when a lease was left by a crashed run, then it blocks until it expires and can be taken after", async () => {
    const s = await setup();
    const ref = db().doc(firestorePaths.connection(s.uid, "spotify"));
    await ref.update({ lease: { holder: "crashed", expiresAt: Timestamp.fromMillis(s.clock.t + 60_000) } });
    expect((await runSync(s.deps, payload(s), { retryCount: 0 })).skipped).toBe("leased");
    s.clock.advance(61_000);
    expect((await runSync(s.deps, payload(s), { retryCount: 0 })).outcome).toBe("success");
    expect((await ref.get()).get("lease")).toBeNull();
  });

  it("when a worker dies holding the lease, then the redelivery of the same task takes it over and another task still finds it", async () => {
    const s = await setup();
    const ref = db().doc(firestorePaths.connection(s.uid, "spotify"));
    // The first attempt of task t1 holds the lease and never comes back (its fetch hangs: a killed worker).
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const original = s.provider.fetchImpl;
    s.provider.fetchImpl = async (t) => {
      await gate;
      return {
        ...(await original(t)),
        snapshots: { profile: { id: "stale-attempt" }, playlists: { items: [], total: 0 } },
      };
    };
    const first = runSync(s.deps, payload(s), { retryCount: 0, taskId: "t1" });
    await waitForLease(ref, "t1");
    s.provider.fetchImpl = original;

    // Another task (the next slot's, or a manual sync) finds the live lease and exits.
    expect(await runSync(s.deps, payload(s, "manual"), { retryCount: 0, taskId: "t2" })).toMatchObject({
      outcome: "skipped",
      skipped: "leased",
    });
    // The redelivery of t1 (Cloud Tasks retries only after the attempt failed or passed its deadline) takes it over.
    const retry = await runSync(s.deps, payload(s), { retryCount: 1, taskId: "t1" });
    expect(retry.outcome).toBe("success");
    expect((await ref.get()).get("lease")).toBeNull();

    // Were the first attempt alive after all, the new holder fenced it: it writes nothing but its own row.
    release();
    expect((await first).superseded).toMatchObject({ by: "overtaken" });
    expect(await readSnapshot(db(), s.uid, "spotify", "profile")).toEqual({ id: `acct-${s.uid}`, owner: s.uid });
    expect((await readSnapshot(db(), s.uid, "spotify", "playlists")) as { total: number }).toMatchObject({ total: 3 });
    const runs = (await db().collection(firestorePaths.syncRuns(s.uid)).get()).docs.map((d) => d.data());
    // A skipped delivery writes no row.
    expect(runs.map((r) => [r.taskId, r.attempt, r.outcome]).sort()).toEqual([
      ["t1", 1, "superseded"],
      ["t1", 2, "success"],
    ]);
  });

  it("when a live lease was taken without a task id, then no delivery takes it over", async () => {
    const s = await setup();
    const ref = db().doc(firestorePaths.connection(s.uid, "spotify"));
    await ref.update({ lease: { holder: "in-process", expiresAt: Timestamp.fromMillis(s.clock.t + 600_000) } });
    expect((await runSync(s.deps, payload(s), { retryCount: 1, taskId: "t1" })).skipped).toBe("leased");
    expect(s.provider.calls.fetch).toBe(0);
  });

  it("when a scheduled task arrives after the connection already synced this slot, then it is skipped as not due", async () => {
    const s = await setup();
    await runSync(s.deps, payload(s), { retryCount: 0 });
    const r = await runSync(s.deps, payload(s), { retryCount: 0 });
    expect(r).toMatchObject({ outcome: "skipped", skipped: "not_due" });
  });

  it("when a sync finishes seconds before the next slot, then a second delivery of its task is still not due", async () => {
    // The last CI failure: a run at hh:59:44 set nextSyncAt to hh+1:00, which a 60 s clock-skew
    // grace counted as due, so the duplicate synced again. The next sync counts from the start of
    // the fan-out's tick; with one fan-out an hour (SYNC_TICK_MINUTES = 60) the next one is the
    // whole hour, seconds away (as it is for an active listener whose interval is one tick).
    const hour = 3_600_000;
    const s = await setup({ at: Math.ceil(Date.now() / hour) * hour + 5 * hour - 16_000 });
    s.deps.config = { ...config, SYNC_TICK_MINUTES: 60 };
    expect((await runSync(s.deps, payload(s), { retryCount: 0 })).outcome).toBe("success");
    expect((await connection(s)).nextSyncAt.toMillis() - s.clock.t).toBe(16_000);
    s.clock.advance(2_000);
    expect(await runSync(s.deps, payload(s), { retryCount: 0 })).toMatchObject({
      outcome: "skipped",
      skipped: "not_due",
    });
    expect(s.provider.calls.fetch).toBe(1);
    // The next slot's task (the fan-out's clock past nextSyncAt) runs.
    s.clock.advance(15_000);
    expect((await runSync(s.deps, payload(s), { retryCount: 0 })).outcome).toBe("success");
  });
});

describe("the failure policy", () => {
  async function failWith(e: unknown, attempt = { retryCount: 0 }) {
    const s = await setup();
    await runSync(s.deps, payload(s), { retryCount: 0 }); // a last good snapshot + images
    await db()
      .doc(firestorePaths.connection(s.uid, "spotify"))
      .update({ nextSyncAt: Timestamp.fromMillis(s.clock.t) });
    const goodSnapshot = await readSnapshot(db(), s.uid, "spotify", "playlists");
    const goodObjects = await objects(s.uid);
    s.provider.fetchImpl = async () => {
      throw e;
    };
    const r = await runSync(s.deps, payload(s), attempt);
    // Whatever the failure: the last good snapshot and images are intact, the lease is released.
    expect(await readSnapshot(db(), s.uid, "spotify", "playlists")).toEqual(goodSnapshot);
    expect(await objects(s.uid)).toEqual(goodObjects);
    const c = await connection(s);
    expect(c.lease).toBeNull();
    return { s, r, c };
  }

  it("when the provider rate-limits for 12 hours, then the connection pauses 12 hours and the task is not retried", async () => {
    const retryAt = new Date(Date.now() + 12 * 3_600_000);
    const { r, c } = await failWith(new RateLimitedError("Spotify asked to wait 43200 s.", retryAt));
    expect(r).toMatchObject({ outcome: "rate_limited", retry: false });
    expect(c.nextSyncAt.toMillis()).toBe(retryAt.getTime());
    expect(c.rateLimitedUntil.toMillis()).toBe(retryAt.getTime());
    expect(c).toMatchObject({ status: "connected", consecutiveFailures: 0, lastError: { code: "rate_limited" } });
  });

  it("when a transient error happens, then the task is retried and the connection stays due; on the last attempt it is counted", async () => {
    const first = await failWith(new TransientError("Spotify answered 503."));
    expect(first.r).toMatchObject({ outcome: "transient", retry: true });
    expect(first.c).toMatchObject({ status: "connected", consecutiveFailures: 0, lastError: { code: "transient" } });
    expect(first.c.nextSyncAt.toMillis()).toBeLessThanOrEqual(first.s.clock.t);
    const last = await failWith(new TransientError("Spotify answered 503."), {
      retryCount: config.SPOTIFY_QUEUE_MAX_ATTEMPTS - 1,
    });
    expect(last.r).toMatchObject({ outcome: "transient", retry: false });
    expect(last.c.consecutiveFailures).toBe(1);
  });

  it("when access was revoked, then status is needs_reauth with the reason and no retry", async () => {
    const { r, c } = await failWith(new ReauthRequiredError("Spotify access was revoked; reconnect Spotify."));
    expect(r).toMatchObject({ outcome: "reauth", retry: false });
    expect(c).toMatchObject({ status: "needs_reauth", reauthReason: "Spotify access was revoked; reconnect Spotify." });
  });

  it.each([
    ["schema drift", new ProviderSchemaError("Spotify playlists did not match the expected shape.")],
    ["403 not allow-listed", new NotAllowedError("This Spotify account is not on the app's allow-list.")],
  ])(
    "when the provider answers with %s, then the error is recorded, the snapshot kept, and no retry",
    async (_n, e) => {
      const { r, c } = await failWith(e);
      expect(r).toMatchObject({ outcome: "failed", retry: false });
      expect(c).toMatchObject({
        status: "connected",
        consecutiveFailures: 1,
        lastError: { code: e.code, message: e.message },
      });
    },
  );

  it("when failures reach the threshold, then status is error with exponential backoff, and the fan-out picks it up when it expires", async () => {
    const { s, c } = await failWith(new ProviderSchemaError("drift"));
    expect(c.consecutiveFailures).toBe(1);
    for (let i = 2; i <= config.FAILURE_BACKOFF_THRESHOLD; i++) {
      await db()
        .doc(firestorePaths.connection(s.uid, "spotify"))
        .update({ nextSyncAt: Timestamp.fromMillis(s.clock.t) });
      await runSync(s.deps, payload(s), { retryCount: 0 });
    }
    const after = await connection(s);
    expect(after.status).toBe("error");
    expect(after.consecutiveFailures).toBe(config.FAILURE_BACKOFF_THRESHOLD);
    expect(after.nextSyncAt.toMillis() - s.clock.t).toBeGreaterThanOrEqual(2 * 3_600_000 - 5_000);

    const iso = isolatedFirestore();
    try {
      await iso.firestore.doc(firestorePaths.connection(s.uid, "spotify")).set(after);
      const queue = new RecordingQueue();
      const fanOutConfig = {
        SYNC_INTERVAL_MINUTES: 60,
        FANOUT_PAGE_SIZE: 10,
        FANOUT_CONCURRENCY: 4,
        MAX_PAUSE_HOURS: 24,
      };
      const early = await runFanOut({ db: iso.firestore, queue, clock: s.clock, config: fanOutConfig });
      expect(early.due).toBe(0);
      const later = new FakeClock(after.nextSyncAt.toMillis() + 1);
      const due = await runFanOut({ db: iso.firestore, queue, clock: later, config: fanOutConfig });
      expect(due).toMatchObject({ due: 1, enqueued: 1 });
      // And a success resets it.
      s.provider.fetchImpl = async () => fetchResult(s.uid, 3);
      s.clock.t = later.t;
      expect((await runSync(s.deps, payload(s), { retryCount: 0 })).outcome).toBe("success");
      expect(await connection(s)).toMatchObject({ status: "connected", consecutiveFailures: 0, lastError: null });
    } finally {
      await iso.close();
    }
  });

  it("when a refresh rotates the refresh token and the fetch then fails, then the rotated token is stored", async () => {
    const s = await setup({ expiresInMs: 60_000 });
    s.provider.refreshImpl = async (t) => ({
      ...t,
      accessToken: "access-2",
      refreshToken: "refresh-2",
      expiresAt: new Date(s.clock.t + 3_600_000),
    });
    s.provider.fetchImpl = async () => {
      throw new TransientError("503");
    };
    const r = await runSync(s.deps, payload(s), { retryCount: 0 });
    expect(r).toMatchObject({ outcome: "transient", tokenRefreshed: true });
    expect(await tokens.load(s.uid, "spotify")).toMatchObject({ accessToken: "access-2", refreshToken: "refresh-2" });
  });

  it("when a refresh keeps the refresh token and the new access token is due again by the next sync, then it is not saved, and before a retry it is", async () => {
    // The sync runs at the start of its slot, so the next one comes a full interval later.
    const slot = config.SYNC_TICK_MINUTES * 60_000;
    const s = await setup({ expiresInMs: 60_000, at: Math.floor(Date.now() / slot) * slot });
    s.provider.refreshImpl = async (t) => ({
      ...t,
      accessToken: "access-2",
      expiresAt: new Date(s.clock.t + 3_600_000),
    });
    const before = await tokens.load(s.uid, "spotify");
    const r = await runSync(s.deps, payload(s), { retryCount: 0 });
    expect(r).toMatchObject({ outcome: "success", tokenRefreshed: true });
    expect(await tokens.load(s.uid, "spotify")).toEqual(before); // the hourly sync refreshes anyway

    // A transient failure that the queue retries at once: the retry uses the refreshed token.
    s.provider.refreshImpl = async (t) => ({
      ...t,
      accessToken: "access-3",
      expiresAt: new Date(s.clock.t + 3_600_000),
    });
    s.provider.fetchImpl = async () => {
      throw new TransientError("503");
    };
    const failed = await runSync(s.deps, payload(s, "manual"), { retryCount: 0 });
    expect(failed).toMatchObject({ outcome: "transient", retry: true, tokenRefreshed: true });
    expect(await tokens.load(s.uid, "spotify")).toMatchObject({ accessToken: "access-3", refreshToken: "refresh-1" });
    expect(s.provider.calls.refresh).toBe(2);
  });

  it("when the person reconnects while a run refreshes the old grant, then the new grant's tokens are kept", async () => {
    const s = await setup({ expiresInMs: 60_000 });
    const reconnected: TokenSet = {
      accessToken: "access-new-grant",
      refreshToken: "refresh-new-grant",
      expiresAt: new Date(s.clock.t + 3_600_000),
      issuedAt: new Date(s.clock.t),
      scopes: ["scope-a"],
    };
    s.provider.refreshImpl = async (t) => {
      await tokens.save(s.uid, "spotify", reconnected); // the OAuth callback, meanwhile
      return { ...t, accessToken: "access-old-grant-2", expiresAt: new Date(s.clock.t + 3_600_000) };
    };
    const r = await runSync(s.deps, payload(s), { retryCount: 0 });
    expect(r).toMatchObject({ outcome: "success", tokenRefreshed: true });
    expect(await tokens.load(s.uid, "spotify")).toMatchObject({
      accessToken: "access-new-grant",
      refreshToken: "refresh-new-grant",
    });
  });

  it("when the provider rejects a valid-looking access token (401), then the sync refreshes once, saves, retries, and a second 401 means needs_reauth", async () => {
    const s = await setup();
    s.provider.fetchImpl = async () => {
      throw new TokenRejectedError("Spotify GET /v1/me rejected the access token (401).");
    };
    const r = await runSync(s.deps, payload(s), { retryCount: 0 });
    expect(r).toMatchObject({ outcome: "reauth", retry: false, tokenRefreshed: true });
    expect(s.provider.calls).toEqual({ refresh: 1, fetch: 2 });
    expect((await tokens.load(s.uid, "spotify"))?.accessToken).toMatch(/\+$/);
    expect(await connection(s)).toMatchObject({ status: "needs_reauth" });
  });

  it("when a 401 is cured by one refresh, then the sync succeeds with the new token", async () => {
    const s = await setup();
    s.provider.fetchImpl = async (token) => {
      if (!token.endsWith("+")) throw new TokenRejectedError("401");
      return fetchResult(s.uid, 2);
    };
    const r = await runSync(s.deps, payload(s), { retryCount: 0 });
    expect(r).toMatchObject({ outcome: "success", tokenRefreshed: true });
    expect(s.provider.calls).toEqual({ refresh: 1, fetch: 2 });
  });

  it("when the stored tokens are gone, then status is needs_reauth", async () => {
    const s = await setup();
    await tokens.delete(s.uid, "spotify");
    expect((await runSync(s.deps, payload(s), { retryCount: 0 })).outcome).toBe("reauth");
    expect((await connection(s)).status).toBe("needs_reauth");
  });
});

describe("an app-wide rate limit", () => {
  const pauseDoc = () => db().doc(firestorePaths.providerState("spotify"));
  afterEach(async () => {
    await pauseDoc().delete(); // every other test syncs Spotify
  });

  it("when Spotify limits the whole app for 12 hours, then every other connection waits without a call, Sync now is refused, and the pause only grows", async () => {
    const a = await setup();
    const b = await setup({ at: a.clock.t, expiresInMs: 60_000 }); // due for a refresh: no refresh call either
    const c = await setup({ at: a.clock.t });
    const retryAt = new Date(a.clock.t + 12 * 3_600_000);
    a.provider.fetchImpl = async () => {
      throw new RateLimitedError("Spotify asked to wait 43200 s.", retryAt, { scope: "app" });
    };
    expect(await runSync(a.deps, payload(a), { retryCount: 0 })).toMatchObject({ outcome: "rate_limited" });
    expect((await pauseDoc().get()).get("pausedUntil").toMillis()).toBe(retryAt.getTime());

    const rb = await runSync(b.deps, payload(b), { retryCount: 0 });
    expect(rb).toMatchObject({ outcome: "rate_limited", retry: false, error: { code: "rate_limited" } });
    expect(b.provider.calls).toEqual({ refresh: 0, fetch: 0 });
    const cb = await connection(b);
    expect(cb.nextSyncAt.toMillis()).toBe(retryAt.getTime());
    expect(cb.lastError.message).toMatch(/rate-limited this app/);

    const manual = requestManualSync(
      {
        db: db(),
        queue: new RecordingQueue(),
        clock: c.clock,
        config: { MANUAL_SYNC_COOLDOWN_SECONDS: 300, MAX_PAUSE_HOURS: 24 },
      },
      c.uid,
      { provider: "spotify" },
    );
    await expect(manual).rejects.toMatchObject({ reason: "rate_limited", retryAt });
    expect((await connection(c)).lastManualSyncAt).toBeNull();

    // An earlier end does not shorten it; a later one extends it.
    const pause = { provider: "spotify" as const, reason: "test", now: a.clock.now(), limits: { MAX_PAUSE_HOURS: 24 } };
    expect(await pauseProvider(db(), { ...pause, until: new Date(retryAt.getTime() - 1000) })).toBe(false);
    expect(await pauseProvider(db(), { ...pause, until: new Date(retryAt.getTime() + 1000) })).toBe(true);
    // Once it is over, syncs call Spotify again.
    c.clock.t = retryAt.getTime() + 2000;
    expect((await runSync(c.deps, { ...payload(c), requestedAt: c.clock.t }, { retryCount: 0 })).outcome).toBe(
      "success",
    );
  });

  it("when Spotify answers a Retry-After of ten years, then the app pauses for MAX_PAUSE_HOURS only, and the next task after that probes again", async () => {
    const a = await setup();
    const b = await setup({ at: a.clock.t });
    const cap = a.clock.t + 24 * 3_600_000;
    a.provider.fetchImpl = async () => {
      throw new RateLimitedError("Retry-After 315360000 s.", new Date(a.clock.t + 315_360_000_000), { scope: "app" });
    };
    expect(await runSync(a.deps, payload(a), { retryCount: 0 })).toMatchObject({ outcome: "rate_limited" });
    expect((await pauseDoc().get()).get("pausedUntil").toMillis()).toBe(cap);
    expect((await connection(a)).rateLimitedUntil.toMillis()).toBe(cap);
    // At the cap, b's next delivery makes its calls again (and succeeds).
    b.clock.t = cap + 1000;
    expect((await runSync(b.deps, { ...payload(b), requestedAt: b.clock.t }, { retryCount: 0 })).outcome).toBe(
      "success",
    );
    expect(b.provider.calls.fetch).toBe(1);
  });

  it("when a pause stored before the cap existed ends in 2035, then it counts as over MAX_PAUSE_HOURS after it began", async () => {
    const s = await setup();
    await pauseDoc().set({
      pausedUntil: Timestamp.fromDate(new Date("2035-01-01T00:00:00Z")),
      reason: "an edge proxy's Retry-After",
      since: Timestamp.fromMillis(s.clock.t - 25 * 3_600_000),
    });
    expect((await runSync(s.deps, payload(s), { retryCount: 0 })).outcome).toBe("success");
    expect(s.provider.calls.fetch).toBe(1);
    // And a fresh limit replaces the stale document (it no longer counts as "paused longer").
    expect(
      await pauseProvider(db(), {
        provider: "spotify",
        until: new Date(s.clock.t + 3_600_000),
        reason: "fresh",
        now: s.clock.now(),
        limits: { MAX_PAUSE_HOURS: 24 },
      }),
    ).toBe(true);
    expect((await pauseDoc().get()).get("pausedUntil").toMillis()).toBe(s.clock.t + 3_600_000);
  });

  it("when an instance caches the pause for PROVIDER_PAUSE_CACHE_SECONDS, then a pause set elsewhere is seen after that, and one it sets itself at once", async () => {
    const a = await setup();
    const b = await setup({ at: a.clock.t });
    const cache = new PauseCache(db(), 10);
    const reads = jest.spyOn(DocumentReference.prototype, "get");
    const pauseReads = () =>
      reads.mock.contexts.filter((r) => (r as DocumentReference).path === pauseDoc().path).length;
    a.deps.pauses = cache;
    b.deps.pauses = cache;
    const sync = async (s: Setup) => {
      await db()
        .doc(firestorePaths.connection(s.uid, s.provider.id))
        .update({ nextSyncAt: Timestamp.fromMillis(0), lease: null });
      return runSync(s.deps, { ...payload(s), requestedAt: s.clock.t }, { retryCount: 0 });
    };
    expect((await sync(a)).outcome).toBe("success");
    expect((await sync(b)).outcome).toBe("success");
    expect(pauseReads()).toBe(1); // two syncs, one read

    // Another instance pauses Spotify: within the 10 s this one still calls, then it sees it.
    await pauseProvider(db(), {
      provider: "spotify",
      until: new Date(a.clock.t + 3_600_000),
      reason: "elsewhere",
      now: a.clock.now(),
      limits: { MAX_PAUSE_HOURS: 24 },
    });
    a.clock.t += 9_000;
    expect((await sync(a)).outcome).toBe("success");
    expect(a.provider.calls.fetch).toBe(2);
    a.clock.t += 1_000;
    expect(await sync(a)).toMatchObject({ outcome: "rate_limited", error: { code: "rate_limited" } });
    expect(a.provider.calls.fetch).toBe(2);
    expect(pauseReads()).toBe(2);

    // Lifted elsewhere, then an app-wide 429 on this instance: the next sync reads the pause again.
    await pauseDoc().delete();
    b.clock.t = a.clock.t + 10_000;
    b.provider.fetchImpl = async () => {
      throw new RateLimitedError("Spotify asked to wait 600 s.", new Date(b.clock.t + 600_000), { scope: "app" });
    };
    expect((await sync(b)).outcome).toBe("rate_limited");
    expect(pauseReads()).toBe(3);
    const before = b.provider.calls.fetch;
    expect((await sync(b)).outcome).toBe("rate_limited");
    expect(b.provider.calls.fetch).toBe(before); // no call into the pause it just set
    expect(pauseReads()).toBe(4);
    reads.mockRestore();
  });

  it("when an Instagram account hits its own limit, then only that connection waits", async () => {
    const a = await setup({ providerId: "instagram" });
    a.provider.fetchImpl = async () => {
      throw new RateLimitedError("Instagram error 17.", new Date(a.clock.t + 3_600_000));
    };
    expect((await runSync(a.deps, payload(a), { retryCount: 0 })).outcome).toBe("rate_limited");
    expect((await db().doc(firestorePaths.providerState("instagram")).get()).exists).toBe(false);
  });

  it("when Spotify is paused, then the fan-out enqueues Instagram's due connections and skips Spotify's", async () => {
    const iso = isolatedFirestore();
    try {
      const clock = new FakeClock();
      for (const provider of ["spotify", "instagram"] as const) {
        await iso.firestore.doc(firestorePaths.connection("paused-fan", provider)).set({
          ...newConnection({
            uid: "paused-fan",
            provider,
            providerAccountId: null,
            providerAccountName: null,
            scopes: [],
            now: clock.now(),
          }),
          nextSyncAt: Timestamp.fromMillis(clock.t - 1000),
        });
      }
      await pauseProvider(iso.firestore, {
        provider: "spotify",
        until: new Date(clock.t + 3_600_000),
        reason: "test",
        now: clock.now(),
        limits: { MAX_PAUSE_HOURS: 24 },
      });
      const queue = new RecordingQueue();
      const cfg = { SYNC_INTERVAL_MINUTES: 60, FANOUT_PAGE_SIZE: 10, FANOUT_CONCURRENCY: 4, MAX_PAUSE_HOURS: 24 };
      const summary = await runFanOut({ db: iso.firestore, queue, clock, config: cfg });
      expect(summary).toMatchObject({ due: 2, enqueued: 1, skippedPaused: 1, failed: 0 });
      expect(queue.tasks.map((t) => t.provider)).toEqual(["instagram"]);
    } finally {
      await iso.close();
    }
  });
});

describe("an account deleted during a run", () => {
  it("when the account is deleted while the provider is being fetched, then nothing the run wrote outlives it", async () => {
    // The deletion happens during the first fetch, which then answers 401: the run refreshes (the
    // new token is not saved: its tokens are gone), fetches again, and then finds its lease gone
    // with the connection: its writes are fenced, so it writes no snapshot and no image, and
    // its erasure afterwards (belt and braces) finds nothing.
    const s = await setup();
    const original = s.provider.fetchImpl;
    let fetches = 0;
    s.provider.fetchImpl = async (t) => {
      if (++fetches === 1) {
        await deleteAccountData({ db: db(), bucket: bucket(), throttling: false }, s.uid);
        throw new TokenRejectedError("401");
      }
      return original(t);
    };
    const r = await runSync(s.deps, payload(s), { retryCount: 0 });
    expect(r).toMatchObject({ outcome: "success", retry: false, tokenRefreshed: true });
    expect(r.superseded).toEqual({ by: "account_deleted", documents: 0, objects: 0 });
    expect(await tokens.load(s.uid, "spotify")).toBeNull();
    expect(await db().collection(firestorePaths.snapshots(s.uid, "spotify")).get()).toHaveProperty("size", 0);
    expect(await db().collection(firestorePaths.syncRuns(s.uid)).get()).toHaveProperty("size", 0);
    expect((await db().doc(firestorePaths.connection(s.uid, "spotify")).get()).exists).toBe(false);
    expect(await objects(s.uid)).toEqual([]);
  });

  it.each([true, false])(
    "when the person disconnects during the fetch (deleteData %p), then no token is re-created and the data goes only when asked",
    async (deleteData) => {
      const s = await setup();
      const original = s.provider.fetchImpl;
      let fetches = 0;
      const disconnectDeps = {
        now: () => s.clock.now(),
        connections: new FirestoreConnectionStore(db(), tokens),
        eraser: new FirestoreStorageEraser(db(), bucket()),
        revoke: async () => false,
      };
      s.provider.fetchImpl = async (t) => {
        if (++fetches === 1) {
          await disconnect(disconnectDeps, s.uid, { provider: "spotify", deleteData });
          throw new TokenRejectedError("401"); // → refresh, save a token, fetch again
        }
        return original(t);
      };
      const r = await runSync(s.deps, payload(s), { retryCount: 0 });
      expect(r).toMatchObject({ outcome: "success", retry: false, tokenRefreshed: true });
      // The disconnect cleared the lease: the run writes nothing after it (fenced), so its
      // erasure when it finishes (deleteData) finds nothing left to erase.
      expect(r.superseded).toEqual({ by: "disconnected", documents: 0, objects: 0 });
      expect(await tokens.load(s.uid, "spotify")).toBeNull();
      expect((await connection(s)).status).toBe("disconnected");
      expect((await db().collection(firestorePaths.snapshots(s.uid, "spotify")).get()).size).toBe(0);
      expect(await objects(s.uid)).toEqual([]);
      const runs = (await db().collection(firestorePaths.syncRuns(s.uid)).get()).docs.map((d) => d.data());
      expect(runs).toMatchObject([{ outcome: "superseded", supersededOutcome: "success" }]);
    },
  );
});

describe("large snapshots", () => {
  it("when a snapshot exceeds one document, then it is stored in parts, reads back whole, and shrinking removes the parts", async () => {
    const s = await setup({ playlists: 12_000, mirror: false });
    const r = await runSync(s.deps, payload(s), { retryCount: 0 });
    expect(r.outcome).toBe("success");
    expect(r.snapshots!.split.playlists).toBeGreaterThan(1);
    const back = (await readSnapshot(db(), s.uid, "spotify", "playlists")) as { items: unknown[]; total: number };
    expect(back.items).toHaveLength(12_000);
    expect(back).toEqual(fetchResult(s.uid, 12_000, "v1", false).snapshots.playlists);
    const parts = db().collection(firestorePaths.snapshotParts(s.uid, "spotify", "playlists"));
    expect((await parts.listDocuments()).length).toBe(r.snapshots!.split.playlists);

    (s.provider as unknown as { setResult: (r: FetchResult) => void }).setResult(fetchResult(s.uid, 2));
    await runSync(s.deps, payload(s, "manual"), { retryCount: 0 });
    expect(((await readSnapshot(db(), s.uid, "spotify", "playlists")) as { items: unknown[] }).items).toHaveLength(2);
    expect((await parts.listDocuments()).length).toBe(0);
  });
});

describe("manual sync", () => {
  it("when a person syncs twice within the cooldown, then the second is refused with the time it will be allowed", async () => {
    const s = await setup();
    const queue = new RecordingQueue();
    const deps = {
      db: db(),
      queue,
      clock: s.clock,
      config: { MANUAL_SYNC_COOLDOWN_SECONDS: 300, MAX_PAUSE_HOURS: 24 },
    };
    const first = await requestManualSync(deps, s.uid, { provider: "spotify" });
    expect(first.enqueued).toBe(true);
    expect(queue.tasks).toEqual([
      {
        provider: "spotify",
        id: first.taskId,
        payload: { uid: s.uid, provider: "spotify", reason: "manual", requestedAt: s.clock.t },
      },
    ]);
    s.clock.advance(10_000);
    const refused = requestManualSync(deps, s.uid, { provider: "spotify" });
    await expect(refused).rejects.toBeInstanceOf(ManualSyncRefusedError);
    await expect(refused).rejects.toMatchObject({
      reason: "cooldown",
      retryAt: new Date(s.clock.t - 10_000 + 300_000),
    });
    s.clock.advance(291_000);
    expect((await requestManualSync(deps, s.uid, { provider: "spotify" })).enqueued).toBe(true);
    expect(queue.tasks).toHaveLength(2);
  });

  it("when two requests race, then exactly one passes", async () => {
    const s = await setup();
    const queue = new RecordingQueue();
    const deps = {
      db: db(),
      queue,
      clock: s.clock,
      config: { MANUAL_SYNC_COOLDOWN_SECONDS: 300, MAX_PAUSE_HOURS: 24 },
    };
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => requestManualSync(deps, s.uid, { provider: "spotify" })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(queue.tasks).toHaveLength(1);
  });

  it("when the connection needs re-auth or does not exist, then the request is refused with that reason", async () => {
    const s = await setup();
    const deps = {
      db: db(),
      queue: new RecordingQueue(),
      clock: s.clock,
      config: { MANUAL_SYNC_COOLDOWN_SECONDS: 300, MAX_PAUSE_HOURS: 24 },
    };
    await expect(requestManualSync(deps, s.uid, { provider: "instagram" })).rejects.toMatchObject({
      reason: "not_connected",
    });
    await db()
      .doc(firestorePaths.connection(s.uid, "spotify"))
      .update({ status: "needs_reauth", reauthReason: "revoked" });
    await expect(requestManualSync(deps, s.uid, { provider: "spotify" })).rejects.toMatchObject({
      reason: "needs_reauth",
    });
  });
});

/** A Firestore client on a project of its own (the emulator keeps projects apart): exact fan-out counts. */
function isolatedFirestore(): { firestore: Firestore; close: () => Promise<void> } {
  const projectId = `demo-fanout-${randomUUID().slice(0, 8)}`;
  const app = initializeApp({ projectId, serviceAccountId: `${projectId}@appspot.gserviceaccount.com` }, projectId);
  return { firestore: getFirestore(app), close: () => deleteApp(app) };
}

describe("the fan-out", () => {
  it("when 1,200 connections are due across pages, then each gets one task, a second fan-out in the slot enqueues 0, and not-due or needs_reauth ones are left", async () => {
    const iso = isolatedFirestore();
    try {
      const clock = new FakeClock();
      const past = Timestamp.fromMillis(clock.t - 60_000);
      const future = Timestamp.fromMillis(clock.t + 3_600_000);
      for (let b = 0; b < 3; b++) {
        const batch = iso.firestore.batch();
        for (let i = 0; i < 400; i++) {
          const uid = `fan-${b}-${i}`;
          const provider: Provider = i % 2 ? "instagram" : "spotify";
          batch.set(iso.firestore.doc(firestorePaths.connection(uid, provider)), {
            ...newConnection({
              uid,
              provider,
              providerAccountId: null,
              providerAccountName: null,
              scopes: [],
              now: clock.now(),
            }),
            nextSyncAt: past,
          });
        }
        await batch.commit();
      }
      const later = iso.firestore.batch();
      later.set(iso.firestore.doc(firestorePaths.connection("not-due", "spotify")), {
        ...newConnection({
          uid: "not-due",
          provider: "spotify",
          providerAccountId: null,
          providerAccountName: null,
          scopes: [],
          now: clock.now(),
        }),
        nextSyncAt: future,
      });
      later.set(iso.firestore.doc(firestorePaths.connection("reauth", "spotify")), {
        ...newConnection({
          uid: "reauth",
          provider: "spotify",
          providerAccountId: null,
          providerAccountName: null,
          scopes: [],
          now: clock.now(),
        }),
        status: "needs_reauth",
        nextSyncAt: past,
      });
      await later.commit();

      const queue = new RecordingQueue(2);
      const cfg = { SYNC_INTERVAL_MINUTES: 60, FANOUT_PAGE_SIZE: 250, FANOUT_CONCURRENCY: 50, MAX_PAUSE_HOURS: 24 };
      const first = await runFanOut({ db: iso.firestore, queue, clock, config: cfg });
      expect(first).toMatchObject({ due: 1200, enqueued: 1200, skippedDuplicates: 0, failed: 0 });
      expect(first.pages).toBe(5);
      expect(new Set(queue.tasks.map((t) => `${t.payload.uid}/${t.provider}`)).size).toBe(1200);
      expect(queue.tasks.filter((t) => t.provider === "instagram")).toHaveLength(600);
      const second = await runFanOut({ db: iso.firestore, queue, clock, config: cfg });
      expect(second).toMatchObject({ due: 1200, enqueued: 0, skippedDuplicates: 1200, failed: 0 });
    } finally {
      await iso.close();
    }
  });
});
