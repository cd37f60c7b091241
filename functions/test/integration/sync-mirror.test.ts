/**
 * The image mirror's manifest across real syncs: runSync in-process with the production deps
 * (the real provider clients against the fake provider server on 127.0.0.1:9090, the real
 * download, the Firestore and Storage emulators), its BlobStore wrapped to count every call.
 * Firestore operations are counted at the admin SDK's RPC funnel (scripts/bench/instrument.ts).
 */
import { randomUUID } from "node:crypto";
import { type DocumentReference, Timestamp } from "firebase-admin/firestore";
import { bucket, db } from "../../src/admin";
import { loadConfig } from "../../src/config";
import { MirrorManifest, newConnection } from "../../src/connections/model";
import { tokenStoreFromConfig } from "../../src/crypto/tokenStore";
import { FirestoreConnectionStore } from "../../src/oauth/connectionStore";
import { FirestoreStorageEraser, disconnect } from "../../src/oauth/disconnect";
import { type Provider, firestorePaths } from "../../src/paths";
import type { BlobStore } from "../../src/sync/ports";
import { type SyncDeps, runSync } from "../../src/sync/runSync";
import { syncDeps } from "../../src/sync/runtime";
import { type FakeProviders, startFakeProviders } from "../../../scripts/fake-providers";
import {
  diffCommits,
  diffFirestore,
  diffReadsByCollection,
  instrumentFirestore,
  readsByCollection,
  snapshotCommits,
  snapshotFirestore,
} from "../../../scripts/bench/instrument";

const config = loadConfig();
const tokens = tokenStoreFromConfig();
let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders({ port: 9090 });
  instrumentFirestore(db());
});
afterAll(async () => {
  await fake?.stop();
});

interface Calls {
  list: number;
  save: number;
  delete: number;
}

/** The production BlobStore (sync/blobStore.ts) with a counter on every call. */
function counting(inner: BlobStore, calls: Calls): BlobStore {
  return {
    list: (prefix) => (calls.list++, inner.list(prefix)),
    save: (path, bytes, opts) => (calls.save++, inner.save(path, bytes, opts)),
    delete: (path) => (calls.delete++, inner.delete(path)),
  };
}

interface Conn {
  uid: string;
  provider: Provider;
  accountId: string;
}

async function connect(provider: Provider, spec: { playlists?: number; media?: number } = {}): Promise<Conn> {
  const uid = `mirror-${randomUUID()}`;
  const { id } = fake.addAccount(provider, { playlists: 4, media: 4, ...spec });
  await grant(uid, provider, id);
  return { uid, provider, accountId: id };
}

/** Fresh tokens from the fake and a connection document as the OAuth callback leaves it. */
async function grant(uid: string, provider: Provider, accountId: string): Promise<void> {
  const t = fake.issueTokens(provider, accountId);
  const now = new Date();
  await tokens.save(uid, provider, {
    accessToken: t.accessToken,
    ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}),
    expiresAt: new Date(now.getTime() + t.expiresIn * 1000),
    issuedAt: now,
    scopes: t.scopes,
  });
  await db()
    .doc(firestorePaths.connection(uid, provider))
    .set(
      newConnection({ uid, provider, providerAccountId: accountId, providerAccountName: null, scopes: t.scopes, now }),
    );
}

const connRef = (c: Conn): DocumentReference => db().doc(firestorePaths.connection(c.uid, c.provider));
const manifestOf = async (c: Conn) => MirrorManifest.parse((await connRef(c).get()).get("mirror"));
const folder = (c: Conn) => (c.provider === "spotify" ? `${c.uid}/spotify/playlists/` : `${c.uid}/${c.provider}/`);

async function objectsOf(c: Conn): Promise<Map<string, string>> {
  const [files] = await bucket().getFiles({ prefix: folder(c) });
  return new Map(files.map((f) => [f.name.slice(folder(c).length), String(f.metadata.generation)]));
}

/** One in-process sync (as the task handler runs it), counting its Storage calls and Firestore operations. */
async function sync(
  c: Conn,
  overrides: Partial<typeof config> = {},
  beforeWrite?: SyncDeps["beforeWrite"],
  reason: "manual" | "scheduled" = "manual",
) {
  const calls: Calls = { list: 0, save: 0, delete: 0 };
  const deps = syncDeps({ ...config, ...overrides });
  deps.blobs = counting(deps.blobs, calls);
  if (beforeWrite) deps.beforeWrite = beforeWrite;
  const fsBefore = snapshotFirestore();
  const commitsBefore = snapshotCommits();
  const readsBefore = { ...readsByCollection };
  const r = await runSync(
    deps,
    // A scheduled task made "later" than the connection's nextSyncAt is due (lease.ts).
    { uid: c.uid, provider: c.provider, reason, requestedAt: Date.now() + (reason === "scheduled" ? 86_400_000 : 0) },
    {
      retryCount: 0,
      lastAttempt: true,
    },
  );
  const firestore = diffFirestore(fsBefore);
  const commits = diffCommits(commitsBefore);
  const reads = diffReadsByCollection(readsBefore);
  return { r, calls, firestore, reads, snapshotWrites: commits.writesByCollection[c.provider] ?? 0, commits };
}

describe("the image mirror's manifest across syncs", () => {
  it("when a Spotify sync finds nothing changed, then it makes no Storage call and writes no snapshot", async () => {
    const c = await connect("spotify");
    const first = await sync(c);
    expect(first.r).toMatchObject({ outcome: "success", images: { saved: 4, failed: 0 } });
    expect(first.calls).toEqual({ list: 1, save: 4, delete: 0 }); // no manifest yet: the folder is listed
    const manifest = await manifestOf(c);
    expect(Object.keys(manifest.objects).sort()).toEqual([...(await objectsOf(c)).keys()].sort());
    const objects = await objectsOf(c);

    const second = await sync(c);
    expect(second.r).toMatchObject({ outcome: "success", images: { saved: 0, unchanged: 4, deleted: 0, failed: 0 } });
    expect(second.calls).toEqual({ list: 0, save: 0, delete: 0 });
    expect(second.snapshotWrites).toBe(0);
    expect(second.r.snapshots?.written).toEqual([]);
    expect(await objectsOf(c)).toEqual(objects); // same generations: nothing rewritten
    expect(await manifestOf(c)).toEqual(manifest);
    // The connection and its sync_runs row only, in the finishing transaction (plus the lease's).
    expect(second.commits.writesByCollection).toEqual({ connections: 2, sync_runs: 1 });
    // No snapshot document read (the connection's snapshotHashes), no play-log transaction and no
    // time zone (no new play, today's point written), no lease check before a mirror that saves
    // nothing: the connection in the lease's and the finishing transaction, the pause, the tokens.
    expect(second.reads).toEqual({ connections: 2, provider_state: 1, oauth_tokens: 1 });
    process.stderr.write(
      `[mirror] unchanged Spotify sync: Storage ${JSON.stringify(second.calls)}, Firestore ${JSON.stringify(second.firestore)}, writes by collection ${JSON.stringify(second.commits.writesByCollection)}\n`,
    );
  });

  it("when a scheduled sync changes nothing, then it writes no sync_runs row but counts itself on the connection, and the next row carries the count", async () => {
    const c = await connect("spotify");
    const runs = async () => (await db().collection(firestorePaths.syncRuns(c.uid)).get()).docs.map((d) => d.data());
    await sync(c); // the first sync (manual): a row
    for (const n of [1, 2]) {
      const quiet = await sync(c, {}, undefined, "scheduled");
      expect(quiet.r).toMatchObject({ outcome: "success", quiet: true, snapshots: { written: [] } });
      // The lease and the outcome: two writes of the connection, nothing else.
      expect(quiet.commits.writesByCollection).toEqual({ connections: 2 });
      expect((await connRef(c).get()).get("quietRuns")).toBe(n);
    }
    expect(await runs()).toHaveLength(1);

    // A change: a row again, with the quiet runs before it; the count starts over.
    fake.account("spotify", c.accountId).changeItems(1);
    const changed = await sync(c, {}, undefined, "scheduled");
    expect(changed.r.quiet).toBeUndefined();
    expect(changed.commits.writesByCollection.sync_runs).toBe(1);
    const rows = (await runs()).sort((a, b) => a.startedAt.toMillis() - b.startedAt.toMillis());
    expect(rows.map((r) => [r.reason, r.quietRunsBefore])).toEqual([
      ["manual", undefined],
      ["scheduled", 2],
    ]);
    expect((await connRef(c).get()).get("quietRuns")).toBe(0);

    // A manual sync is always recorded, and SYNC_RUNS_UNCHANGED records every run.
    expect((await sync(c)).commits.writesByCollection.sync_runs).toBe(1);
    const logged = await sync(c, { SYNC_RUNS_UNCHANGED: true }, undefined, "scheduled");
    expect(logged.r.quiet).toBeUndefined();
    expect(logged.commits.writesByCollection).toEqual({ connections: 2, sync_runs: 1 });
    expect(await runs()).toHaveLength(4);
  });

  it("when one playlist changes, then only its cover is stored, without a listing", async () => {
    const c = await connect("spotify");
    await sync(c);
    const before = await objectsOf(c);
    const [changed] = fake.account("spotify", c.accountId).changeItems(1);
    const r = await sync(c);
    expect(r.calls).toEqual({ list: 0, save: 1, delete: 0 });
    expect(r.r.images).toEqual({ saved: 1, unchanged: 3, deleted: 0, failed: 0 });
    const after = await objectsOf(c);
    for (const [name, generation] of after)
      expect(generation === before.get(name)).toBe(!name.startsWith(`${changed}.`));
  });

  it("when the manifest is MIRROR_RECONCILE_HOURS old, then the sync lists, restores an object lost behind its back, deletes an orphan and stamps it", async () => {
    const c = await connect("spotify");
    await sync(c);
    const names = [...(await objectsOf(c)).keys()].sort();
    const lost = names[0]!;
    await bucket()
      .file(folder(c) + lost)
      .delete();
    await bucket()
      .file(`${folder(c)}orphan.jpg`)
      .save(Buffer.from("x"), { contentType: "image/jpeg", resumable: false });
    // Within the period the manifest is trusted: nothing is noticed, nothing called.
    expect((await sync(c)).calls).toEqual({ list: 0, save: 0, delete: 0 });

    const stamped = Timestamp.fromMillis(Date.now() - (config.MIRROR_RECONCILE_HOURS * 3_600_000 + 60_000));
    await connRef(c).update({ "mirror.reconciledAt": stamped });
    const t = Date.now();
    const r = await sync(c);
    expect(r.calls).toEqual({ list: 1, save: 1, delete: 1 });
    expect(r.r.images).toEqual({ saved: 1, unchanged: 3, deleted: 1, failed: 0 });
    expect([...(await objectsOf(c)).keys()].sort()).toEqual(names);
    const m = await manifestOf(c);
    expect(Object.keys(m.objects).sort()).toEqual(names);
    expect(m.reconciledAt.toMillis()).toBeGreaterThanOrEqual(t);
    // And the next one trusts the fresh manifest again.
    expect((await sync(c)).calls).toEqual({ list: 0, save: 0, delete: 0 });
  });

  it("when a save fails, then the next sync stores the cover again", async () => {
    const c = await connect("spotify");
    const calls: Calls = { list: 0, save: 0, delete: 0 };
    const deps = syncDeps(config);
    let failOnce = true;
    const inner = deps.blobs;
    deps.blobs = counting(
      {
        ...inner,
        save: async (path, bytes, opts) => {
          if (failOnce) {
            failOnce = false;
            throw new Error("503 from Storage");
          }
          return inner.save(path, bytes, opts);
        },
      },
      calls,
    );
    const payload = () => ({ uid: c.uid, provider: c.provider, reason: "manual" as const, requestedAt: Date.now() });
    const first = await runSync(deps, payload(), { retryCount: 0, lastAttempt: true });
    // About one fake playlist in ten has no cover: the covers are what the account has.
    const covers = first.images!.saved + first.images!.failed;
    expect(covers).toBeGreaterThanOrEqual(1);
    expect(first.images).toMatchObject({ failed: 1 });
    expect(Object.keys((await manifestOf(c)).objects)).toHaveLength(covers - 1);
    const second = await sync(c);
    expect(second.calls).toEqual({ list: 0, save: 1, delete: 0 });
    expect(second.r.images).toEqual({ saved: 1, unchanged: covers - 1, deleted: 0, failed: 0 });
    expect((await objectsOf(c)).size).toBe(covers);
  });

  it("when the person disconnects with their data erased and reconnects the same account, then the first sync lists and restores every cover", async () => {
    const c = await connect("spotify");
    await sync(c);
    const names = [...(await objectsOf(c)).keys()].sort();
    await disconnect(
      {
        now: () => new Date(),
        connections: new FirestoreConnectionStore(db(), tokens),
        eraser: new FirestoreStorageEraser(db(), bucket()),
        revoke: async () => false,
      },
      c.uid,
      { provider: "spotify", deleteData: true },
    );
    expect((await objectsOf(c)).size).toBe(0);
    expect((await connRef(c).get()).get("mirror")).toBeNull();
    // The same account again, through the callback's write (which keeps the document's other fields).
    const store = new FirestoreConnectionStore(db(), tokens);
    const t = fake.issueTokens("spotify", c.accountId);
    const now = new Date();
    await store.saveConnected({
      uid: c.uid,
      provider: "spotify",
      tokens: {
        accessToken: t.accessToken,
        ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}),
        expiresAt: new Date(now.getTime() + t.expiresIn * 1000),
        issuedAt: now,
        scopes: t.scopes,
      },
      account: { id: c.accountId, displayName: null },
      scopes: t.scopes,
      now,
    });
    const r = await sync(c);
    expect(r.calls).toMatchObject({ list: 1, save: names.length });
    expect([...(await objectsOf(c)).keys()].sort()).toEqual(names);
  });

  it("when MIRROR_RECONCILE_HOURS is 0, then every sync lists (the behaviour before the manifest)", async () => {
    const c = await connect("instagram");
    await sync(c, { MIRROR_RECONCILE_HOURS: 0 });
    const r = await sync(c, { MIRROR_RECONCILE_HOURS: 0 });
    expect(r.calls).toEqual({ list: 1, save: 0, delete: 0 });
    expect(r.r.images).toMatchObject({ saved: 0, failed: 0 });
  });
});

describe("the known snapshot hashes on the connection", () => {
  const snapshotRef = (c: Conn, name: string) => db().doc(firestorePaths.snapshot(c.uid, c.provider, name));
  const knownHashes = async (c: Conn) =>
    (await connRef(c).get()).get("snapshotHashes") as Record<string, string> | null;

  it("when a sync succeeds, then the connection keeps the hash of every snapshot document it left", async () => {
    const c = await connect("spotify");
    const first = await sync(c);
    expect(first.r.outcome).toBe("success");
    const known = await knownHashes(c);
    expect(Object.keys(known ?? {}).sort()).toEqual([...first.r.snapshots!.written].sort());
    for (const [name, hash] of Object.entries(known!))
      expect((await snapshotRef(c, name).get()).get("hash")).toBe(hash);
  });

  it("when a sync fails after writing a snapshot, then the hashes are forgotten and the next sync reads every snapshot document", async () => {
    const c = await connect("spotify");
    const first = await sync(c);
    const names = first.r.snapshots!.written;
    fake.account("spotify", c.accountId).changeItems(1);
    const failed = await sync(c, {}, async (point) => {
      if (point === "plays") throw new Error("cut off after the snapshots");
    });
    expect(failed.r.outcome).not.toBe("success");
    expect(failed.r.snapshots?.written).toContain("playlists");
    expect(await knownHashes(c)).toBeNull();

    const next = await sync(c);
    expect(next.r.outcome).toBe("success");
    expect(next.reads[c.provider]).toBe(names.length); // each snapshot document read, none written
    expect(next.r.snapshots?.written).toEqual([]);
    expect(Object.keys((await knownHashes(c)) ?? {}).sort()).toEqual([...names].sort());
  });

  it("when the run before never recorded its outcome (its lease is still there) and wrote a snapshot, then the next sync reads the documents and restores it", async () => {
    const c = await connect("spotify");
    await sync(c);
    const known = (await knownHashes(c))!;
    const good = (await snapshotRef(c, "playlists").get()).data()!;
    // What an overtaken run may leave: a snapshot it wrote, and its expired lease, no outcome.
    await snapshotRef(c, "playlists").set({ ...good, hash: "written-by-a-run-that-died", data: { items: [] } });
    await connRef(c).update({ lease: { holder: "dead-run", expiresAt: Timestamp.fromMillis(Date.now() - 1_000) } });

    const next = await sync(c);
    expect(next.r.outcome).toBe("success");
    expect(next.reads[c.provider]).toBe(Object.keys(known).length);
    expect(next.r.snapshots?.written).toEqual(["playlists"]);
    expect((await snapshotRef(c, "playlists").get()).get("hash")).toBe(known.playlists);
  });
});
