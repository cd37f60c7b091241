/**
 * "Download my data" against the emulators: a person synced for real (the Spotify and Instagram
 * clients against the fake provider server, in-process runSync), plus a few imported plays, an
 * import job and server-only documents that must stay out.
 *
 * - The command (`npx tsx scripts/export-data.ts`, as an operator runs it) writes a zip whose
 *   plays.jsonl equals the play log and whose snapshots equal what Firestore holds (reassembled;
 *   one, written here, is large enough for parts); media are the mirrored objects byte for byte; no token, lease, secret
 *   or checkpoint appears in any file.
 * - The callable through the Functions and Tasks emulators: requestExport → the exportData task
 *   builds it into Storage → ready; media serves it to its owner (an attachment) and refuses (403)
 *   anyone else; a second request while one is in progress is refused with a sentence; two
 *   requests at once create one job.
 * - The delete task (EXPORT_TTL_HOURS 0 for the build run here) deletes the zip and marks the job
 *   expired; the sweep does the same for a due export the task missed; a failing build deletes
 *   its partial object and fails (or retries) with a sentence.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Timestamp } from "firebase-admin/firestore";
import * as yauzl from "yauzl";
import { bucket, db, taskQueueService } from "../../src/admin";
import { type Config, loadConfig } from "../../src/config";
import { newConnection } from "../../src/connections/model";
import { tokenStoreFromConfig } from "../../src/crypto/tokenStore";
import type { Bucket } from "../../src/exports/build";
import { EXPORT_MESSAGES, EXPORT_STALE_MS, queuedJob } from "../../src/exports/job";
import { toJson } from "../../src/exports/json";
import { type ExportQueue, firebaseExportQueue } from "../../src/exports/queue";
import {
  type ExportDeps,
  ExportRefusedError,
  ExportRetryLater,
  requestExport,
  runExportTask,
} from "../../src/exports/run";
import { InvalidInputError } from "../../src/errors";
import { type Play, playDoc, playId } from "../../src/history/model";
import { PROVIDERS, type Provider, SNAPSHOT_PREFIX, firestorePaths, storagePaths } from "../../src/paths";
import { runSync } from "../../src/sync/runSync";
import { syncDeps } from "../../src/sync/runtime";
import { readSnapshot, writeSnapshot } from "../../src/sync/snapshots";
import { type FakeProviders, startFakeProviders } from "../../../scripts/fake-providers";
import { EMULATORS, PROJECT_ID, REGION, ROOT } from "../../../scripts/lib/local-env";
import { type SignedInPerson, newSignedInPerson } from "../support/people";
import { waitFor } from "../support/wait";

jest.setTimeout(240_000);

const HOSTING = `http://${EMULATORS.hosting.host}:${EMULATORS.hosting.port}`;
const FUNCTIONS = `http://${EMULATORS.functions.host}:${EMULATORS.functions.port}/${PROJECT_ID}/${REGION}`;
const config: Config = loadConfig();
const tokens = tokenStoreFromConfig();
const LEASE_HOLDER = `lease-holder-${randomUUID()}`;
const STATE_ID = `state-${randomUUID()}`;
const OWN_APP_SECRET = `own-app-secret-${randomUUID()}`;
const IMPORT_PLAYS = 3;

let fake: FakeProviders;
let person: SignedInPerson;
/** Strings that must not appear anywhere in an export. */
const secrets: string[] = [];

function command(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      "npx",
      ["tsx", `scripts/${script}`, ...args],
      { cwd: ROOT, env: process.env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") return reject(error);
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** Every entry of a zip, uncompressed. */
function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error("no zip"));
      const out = new Map<string, Buffer>();
      zip.on("entry", (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error("no stream"));
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("end", () => {
            out.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
          stream.on("error", reject);
        });
      });
      zip.on("end", () => resolve(out));
      zip.on("error", reject);
      zip.readEntry();
    });
  });
}

async function connectAndSync(uid: string, provider: Provider, spec: Record<string, unknown>): Promise<void> {
  const { id } = fake.addAccount(provider, spec);
  const t = fake.issueTokens(provider, id);
  secrets.push(t.accessToken, ...(t.refreshToken ? [t.refreshToken] : []));
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
    .set(newConnection({ uid, provider, providerAccountId: id, providerAccountName: null, scopes: t.scopes, now }));
  const r = await runSync(
    syncDeps(config),
    { uid, provider, reason: "manual", requestedAt: Date.now() },
    { retryCount: 0 },
  );
  expect(r.outcome).toBe("success");
}

/** The play log as Firestore holds it, in the export's form (oldest first). */
async function playLog(uid: string): Promise<unknown[]> {
  const snap = await db().collection(firestorePaths.plays(uid)).orderBy("playedAt").get();
  return snap.docs.map((d) => ({ id: d.id, ...(toJson(d.data()) as object) }));
}

async function callable(name: string, p: SignedInPerson, data: unknown = {}) {
  const res = await fetch(`${FUNCTIONS}/${name}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${p.idToken}` },
    body: JSON.stringify({ data }),
  });
  return (await res.json()) as { result?: { exportId: string }; error?: { status: string; message: string } };
}

const job = async (uid: string, exportId: string) =>
  (await db().doc(firestorePaths.exportJob(uid, exportId)).get()).data();
const objectExists = async (uid: string, exportId: string) =>
  (await bucket().file(storagePaths.exportObject(uid, exportId)).exists())[0];

/** In-process deps against the emulators, with a queue that records instead of enqueuing. */
function localDeps(over: Partial<ExportDeps> = {}): ExportDeps & { enqueued: unknown[] } {
  const enqueued: unknown[] = [];
  const queue: ExportQueue = {
    async enqueue(payload, opts) {
      enqueued.push({ ...payload, ...opts });
      return "enqueued";
    },
  };
  return { db: db(), bucket: bucket(), queue, now: () => new Date(), config, enqueued, ...over };
}

beforeAll(async () => {
  fake = await startFakeProviders({ port: 9090 });
  person = await newSignedInPerson("export");
  const uid = person.uid;
  await waitFor(async () => (await db().doc(firestorePaths.user(uid)).get()).exists, { what: "the profile" });
  await connectAndSync(uid, "spotify", { playlists: 5, recentlyPlayed: 30 });
  await connectAndSync(uid, "instagram", { media: 4 });
  // A snapshot too large for one document, stored in parts the way the sync stores one.
  const large = Array.from({ length: 6_000 }, (_, i) => ({
    id: `item${i}`,
    name: `Élément ${i} ✓`,
    pad: "x".repeat(300),
  }));
  expect(await writeSnapshot(db(), uid, "spotify", "large-fixture", { items: large }, new Date())).toBeGreaterThan(1);

  // A few imported plays, older than the synced ones.
  const now = new Date();
  const batch = db().batch();
  for (let i = 0; i < IMPORT_PLAYS; i++) {
    const p: Play = {
      provider: "spotify",
      playedAt: new Date(Date.UTC(2024, 0, 10 + i, 12)),
      trackId: `importedTrack${i}`,
      trackName: `Imported ${i} — ünïcode`,
      artists: [{ id: `a${i}`, name: "Ärtist" }],
      albumId: null,
      albumName: null,
      durationMs: 180_000,
      context: null,
    };
    batch.set(db().doc(firestorePaths.play(uid, playId(p))), playDoc(p, "import", now));
  }
  // An import job with its checkpoint, and server-only documents that must stay out.
  batch.set(db().doc(firestorePaths.importJob(uid, "imp1")), {
    status: "done",
    source: "command",
    fileName: "my_spotify_data.zip",
    size: 1234,
    checkpoint: { file: 0, entry: 987_654_321 },
    createdAt: Timestamp.fromDate(now),
  });
  batch.update(db().doc(firestorePaths.connection(uid, "spotify")), {
    lease: { holder: LEASE_HOLDER, expiresAt: Timestamp.fromMillis(now.getTime() + 60_000) },
  });
  batch.set(db().doc(firestorePaths.oauthState(STATE_ID)), { uid, provider: "spotify" });
  batch.set(db().doc(firestorePaths.providerApp(uid, "spotify")), { clientId: "own-client", secret: OWN_APP_SECRET });
  await batch.commit();

  for (const p of PROVIDERS) {
    const t = await db().doc(firestorePaths.oauthToken(uid, p)).get();
    if (t.exists) secrets.push(String(t.get("ciphertext")), String(t.get("tag")));
  }
  secrets.push(
    LEASE_HOLDER,
    STATE_ID,
    OWN_APP_SECRET,
    "987654321",
    ...config.TOKEN_ENCRYPTION_KEYS.map((k) => Buffer.from(k.key).toString("base64")),
    config.SPOTIFY_CLIENT_SECRET,
    config.INSTAGRAM_CLIENT_SECRET,
    config.YOUTUBE_CLIENT_SECRET,
  );
});

afterAll(async () => {
  await fake?.stop();
  await db().doc(firestorePaths.oauthState(STATE_ID)).delete();
});

function expectNoSecrets(zip: Buffer, files: Map<string, Buffer>): void {
  const all = Buffer.concat([zip, ...files.values()]);
  for (const s of secrets) {
    expect(s.length).toBeGreaterThan(6);
    expect({ secret: s.slice(0, 12), found: all.includes(Buffer.from(s)) }).toEqual({
      secret: s.slice(0, 12),
      found: false,
    });
  }
  for (const [name, bytes] of files) {
    if (!name.endsWith(".json") && !name.endsWith(".jsonl")) continue;
    expect({ name, lease: bytes.includes(Buffer.from('"lease"')) }).toEqual({ name, lease: false });
  }
}

describe("npm run export-data", () => {
  it("when a synced person is exported, then plays.jsonl equals the play log, each snapshot equals Firestore's (reassembled), the media are the mirrored objects, and no secret is in the zip", async () => {
    const uid = person.uid;
    const dir = await mkdtemp(join(tmpdir(), "export-"));
    try {
      const out = join(dir, "export.zip");
      const started = Date.now();
      const run = await command("export-data.ts", ["--uid", uid, "--out", out]);
      const ms = Date.now() - started;
      expect(run.code).toBe(0);
      const printed = JSON.parse(run.stdout) as Record<string, number>;
      const bytes = await readFile(out);
      expect(printed.bytes).toBe(bytes.length);
      const files = await unzip(bytes);
      process.stderr.write(`export-data: ${JSON.stringify(printed)} in ${ms} ms (with the process start)\n`);

      // README, profile, connections.
      expect(files.get("README.md")!.toString()).toMatch(/## plays\.jsonl/);
      const profile = JSON.parse(files.get("profile.json")!.toString()) as Record<string, unknown>;
      expect(profile).toMatchObject({ uid, settings: { timeZone: "Etc/UTC", syncEnabled: true } });
      const connections = JSON.parse(files.get("connections.json")!.toString()) as Record<string, unknown>[];
      expect(connections.map((c) => [c.provider, c.status])).toEqual([
        ["instagram", "connected"],
        ["spotify", "connected"],
      ]);
      for (const c of connections) expect(c).not.toHaveProperty("lease");

      // The play log, line for line.
      const lines = files.get("plays.jsonl")!.toString().trimEnd().split("\n");
      const log = await playLog(uid);
      expect(log.length).toBe(30 + IMPORT_PLAYS);
      expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(log);
      expect(printed.plays).toBe(log.length);

      // Every snapshot, reassembled; at least one came from parts.
      let fromParts = 0;
      let snapshots = 0;
      for (const provider of PROVIDERS) {
        const heads = await db().collection(firestorePaths.snapshots(uid, provider)).get();
        for (const head of heads.docs.filter((d) => d.id.startsWith(SNAPSHOT_PREFIX))) {
          const name = head.id.slice(SNAPSHOT_PREFIX.length);
          const file = files.get(`snapshots/${provider}/${name}.json`);
          expect({ name, present: file !== undefined }).toEqual({ name, present: true });
          expect(JSON.parse(file!.toString())).toEqual(await readSnapshot(db(), uid, provider, name));
          if (head.get("storage") === "parts") fromParts += 1;
          snapshots += 1;
        }
      }
      expect(fromParts).toBeGreaterThan(0);
      expect(printed.snapshots).toBe(snapshots);

      // Aggregates and history points, sync runs, imports (without the checkpoint).
      const months = await db().collection(firestorePaths.playStats(uid)).get();
      expect(months.size).toBeGreaterThan(0);
      for (const m of months.docs) {
        expect(JSON.parse(files.get(`play_stats/${m.id}.json`)!.toString())).toEqual(toJson(m.data()));
      }
      const points = await db().collection(firestorePaths.history(uid)).get();
      for (const m of points.docs) expect(files.has(`history/${m.id}.json`)).toBe(true);
      const runs = JSON.parse(files.get("sync_runs.json")!.toString()) as unknown[];
      expect(runs).toHaveLength(2);
      const imports = JSON.parse(files.get("imports.json")!.toString()) as Record<string, unknown>[];
      expect(imports).toEqual([
        expect.objectContaining({ id: "imp1", status: "done", fileName: "my_spotify_data.zip" }),
      ]);
      expect(imports[0]).not.toHaveProperty("checkpoint");

      // Media: exactly the mirrored objects, byte for byte.
      const [objects] = await bucket().getFiles({ prefix: storagePaths.userPrefix(uid) });
      const mirrored = objects.filter((f) => !f.name.startsWith(`${uid}/exports/`));
      expect(mirrored.length).toBeGreaterThan(0);
      const media = [...files.keys()].filter((n) => n.startsWith("media/"));
      expect(media.sort()).toEqual(mirrored.map((f) => `media/${f.name.slice(uid.length + 1)}`).sort());
      for (const f of mirrored) {
        const [content] = await f.download();
        expect(files.get(`media/${f.name.slice(uid.length + 1)}`)!.equals(content)).toBe(true);
      }
      expect(printed.media).toBe(mirrored.length);
      expect(printed.files).toBe(files.size);

      expectNoSecrets(bytes, files);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("when the uid or the output is missing, then the command exits 2 with its usage", async () => {
    const run = await command("export-data.ts", ["--uid", person.uid]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/usage: npm run export-data/);
  });
});

describe("requestExport → exportData → media, through the emulators", () => {
  let exportId = "";

  it("when the owner requests an export, then the task makes it ready and media serves the zip to the owner only", async () => {
    const uid = person.uid;
    const started = Date.now();
    const r = await callable("requestExport", person);
    expect(r.error).toBeUndefined();
    exportId = r.result!.exportId;
    const ready = await waitFor(
      async () => {
        const j = await job(uid, exportId);
        if (j?.status === "failed") throw new Error(`export failed: ${String(j.error)}`);
        return j?.status === "ready" && j;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: "the export to be ready" },
    );
    process.stderr.write(`requestExport → ready in ${Date.now() - started} ms, ${String(ready.size)} bytes\n`);
    expect(ready).toMatchObject({
      objectPath: storagePaths.exportObject(uid, exportId),
      progress: { percent: 100 },
      error: null,
    });
    const expiresIn = (ready.expiresAt as Timestamp).toMillis() - (ready.updatedAt as Timestamp).toMillis();
    expect(expiresIn).toBe(24 * 3_600_000);

    const url = `${HOSTING}/api/media/${storagePaths.exportObject(uid, exportId)}`;
    const res = await fetch(url, { headers: { Authorization: `Bearer ${person.idToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe("attachment");
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    const zip = Buffer.from(await res.arrayBuffer());
    expect(zip.length).toBe(ready.size);
    const files = await unzip(zip);
    expect(files.has("README.md")).toBe(true);
    expect(files.get("plays.jsonl")!.toString().trimEnd().split("\n")).toHaveLength((await playLog(uid)).length);
    expectNoSecrets(zip, files);

    const other = await newSignedInPerson("export-other");
    const refused = await fetch(url, { headers: { Authorization: `Bearer ${other.idToken}` } });
    expect(refused.status).toBe(403);
    expect((await fetch(url)).status).toBe(401);

    // The expire task the build enqueued reached the emulator at once (it ignores scheduleTime):
    // early, it changed nothing.
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await job(uid, exportId))?.status).toBe("ready");
    expect(await objectExists(uid, exportId)).toBe(true);
  });

  it("when an export is in progress, then a second request is refused with a sentence; once it stopped moving, a new one starts", async () => {
    const uid = person.uid;
    const busy = `busy-${randomUUID()}`;
    await db().doc(firestorePaths.exportJob(uid, busy)).set(queuedJob(new Date()));
    const r = await callable("requestExport", person);
    expect(r.error).toEqual(
      expect.objectContaining({ status: "FAILED_PRECONDITION", message: EXPORT_MESSAGES.inProgress }),
    );

    await db()
      .doc(firestorePaths.exportJob(uid, busy))
      .update({ updatedAt: Timestamp.fromMillis(Date.now() - EXPORT_STALE_MS - 60_000) });
    const again = await callable("requestExport", person);
    expect(again.error).toBeUndefined();
    expect(await job(uid, busy)).toMatchObject({ status: "failed", error: EXPORT_MESSAGES.stale });
    await waitFor(async () => (await job(uid, again.result!.exportId))?.status === "ready", {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: "the new export to be ready",
    });
  });

  it("when two requests arrive at once, then one job is created and the other is refused", async () => {
    const p = await newSignedInPerson("export-twice");
    const deps = localDeps();
    const results = await Promise.allSettled([requestExport(deps, p.uid), requestExport(deps, p.uid)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(ExportRefusedError);
    expect((await db().collection(firestorePaths.exports(p.uid)).get()).size).toBe(1);
    expect(deps.enqueued).toHaveLength(1);
  });
});

describe("deleting exports", () => {
  it("when an export's time is up, then the delete task (through the emulator) deletes the zip and marks it expired", async () => {
    const uid = person.uid;
    const deps = localDeps({
      // Expiring at once, and the real queue: the emulated exportData runs the expire task.
      config: { ...config, EXPORT_TTL_HOURS: 0 },
      queue: firebaseExportQueue(taskQueueService()),
    });
    const exportId = `ttl-${randomUUID()}`;
    await db().doc(firestorePaths.exportJob(uid, exportId)).set(queuedJob(new Date()));
    const outcome = await runExportTask(deps, { uid, exportId }, { retryCount: 0 });
    expect(outcome.kind).toBe("ready");
    await waitFor(async () => (await job(uid, exportId))?.status === "expired", {
      timeoutMs: 60_000,
      intervalMs: 300,
      what: "the delete task to expire the export",
    });
    expect(await objectExists(uid, exportId)).toBe(false);
    expect(await job(uid, exportId)).toMatchObject({ objectPath: null });
  });

  it("when a due export's delete task was lost, then the next request deletes it (the sweep)", async () => {
    const uid = person.uid;
    const exportId = `lost-${randomUUID()}`;
    await db().doc(firestorePaths.exportJob(uid, exportId)).set(queuedJob(new Date()));
    const building = localDeps({ config: { ...config, EXPORT_TTL_HOURS: 0 } });
    expect((await runExportTask(building, { uid, exportId }, { retryCount: 0 })).kind).toBe("ready");
    expect(await objectExists(uid, exportId)).toBe(true);
    expect(building.enqueued).toEqual([expect.objectContaining({ action: "expire", exportId })]);
    const next = localDeps();
    const { exportId: newer } = await requestExport(next, uid);
    expect((await job(uid, exportId))?.status).toBe("expired");
    expect(await objectExists(uid, exportId)).toBe(false);
    await db().doc(firestorePaths.exportJob(uid, newer)).delete();
  });

  it("when building fails, then the partial zip is deleted: a transient error retries, a lasting one fails the job with a sentence", async () => {
    const uid = person.uid;
    const broken = (e: Error): Bucket =>
      new Proxy(bucket(), {
        get(target, prop, receiver) {
          if (prop === "getFiles") return () => Promise.reject(e);
          return Reflect.get(target, prop, receiver) as unknown;
        },
      });
    const exportId = `fail-${randomUUID()}`;
    await db().doc(firestorePaths.exportJob(uid, exportId)).set(queuedJob(new Date()));
    await expect(
      runExportTask(localDeps({ bucket: broken(new Error("socket hang up")) }), { uid, exportId }, { retryCount: 0 }),
    ).rejects.toBeInstanceOf(ExportRetryLater);
    expect(await objectExists(uid, exportId)).toBe(false);
    expect(await job(uid, exportId)).toMatchObject({ status: "running", progress: { percent: 0 } });

    const failed = await runExportTask(
      localDeps({ bucket: broken(new InvalidInputError("no")) }),
      { uid, exportId },
      { retryCount: 1 },
    );
    expect(failed).toEqual({ kind: "failed", error: EXPORT_MESSAGES.failed });
    expect(await objectExists(uid, exportId)).toBe(false);
    expect(await job(uid, exportId)).toMatchObject({
      status: "failed",
      error: EXPORT_MESSAGES.failed,
      objectPath: null,
    });

    // A retry of a finished task changes nothing.
    expect(await runExportTask(localDeps(), { uid, exportId }, { retryCount: 2 })).toEqual({
      kind: "skipped",
      reason: "failed",
    });
    // A malformed payload is dropped.
    expect(await runExportTask(localDeps(), { uid: "a/b", exportId }, { retryCount: 0 })).toEqual({
      kind: "skipped",
      reason: "bad_payload",
    });
  });
});
