/**
 * Importing from the web app against the emulators: the upload in parts through Hosting's
 * `/api/imports/**` rewrite into the emulated `imports` function, the task through the Cloud
 * Tasks emulator into the emulated `importHistory`, Firestore and Storage. What the web import
 * ends with is compared with an in-process import of the same file (what the command does); every
 * refusal is checked to change nothing; a tiny task budget pauses the import at every chunk, and
 * the steps together end with exactly the plays of a one-shot import.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Timestamp } from "firebase-admin/firestore";
import { bucket, db } from "../../src/admin";
import { createImportJob, runImport } from "../../src/imports/job";
import { bucketParts, runImportTask } from "../../src/imports/task";
import {
  type ImportTaskPayload,
  MAX_PART_BYTES,
  type UploadDeps,
  finishUpload,
  putPart,
  startUpload,
} from "../../src/imports/upload";
import { firestorePaths, storagePaths } from "../../src/paths";
import { EMULATORS } from "../../../scripts/lib/local-env";
import { PERSONAL_VALUES, exportZip, generatedExportZip, tempDir } from "../fixtures/spotify-export";
import { type SignedInPerson, newSignedInPerson } from "../support/people";
import { waitFor } from "../support/wait";
import { forgetPeople } from "../support/cleanup";

jest.setTimeout(180_000);

const HOSTING = `http://${EMULATORS.hosting.host}:${EMULATORS.hosting.port}`;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function api(
  who: SignedInPerson | null,
  method: string,
  path: string,
  body?: Buffer | Record<string, unknown>,
  contentType?: string,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (who) headers.Authorization = `Bearer ${who.idToken}`;
  let payload: BodyInit | undefined;
  if (Buffer.isBuffer(body)) {
    headers["Content-Type"] = contentType ?? "application/octet-stream";
    payload = new Uint8Array(body);
  } else if (body) {
    headers["Content-Type"] = contentType ?? "application/json";
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${HOSTING}/api/imports${path}`, { method, headers, body: payload });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed };
}

const jobRef = (uid: string, importId: string) => db().doc(firestorePaths.importJob(uid, importId));
const job = async (uid: string, importId: string) => (await jobRef(uid, importId).get()).data();

async function objectsUnder(prefix: string): Promise<string[]> {
  const [files] = await bucket().getFiles({ prefix });
  return files.map((f) => f.name);
}

function split(bytes: Buffer, partBytes: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += partBytes) out.push(bytes.subarray(i, i + partBytes));
  return out;
}

/** Everything an import leaves in a person's log: play ids with their fields, and the month aggregates. */
async function logOf(uid: string) {
  const strip = (v: unknown): unknown =>
    JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === "loggedAt" || k === "updatedAt" ? undefined : x)));
  const plays = await db().collection(firestorePaths.plays(uid)).get();
  const months = await db().collection(firestorePaths.playStats(uid)).get();
  return {
    plays: Object.fromEntries(plays.docs.map((d) => [d.id, strip(d.data())])),
    months: Object.fromEntries(months.docs.map((d) => [d.id, strip(d.data())])),
  };
}

/** The same file imported in-process in one go (as `npm run import-history` does). */
async function oneShot(path: string, fileName: string, size: number) {
  const uid = `imp-ref-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const importId = "ref";
  await createImportJob(db(), {
    uid,
    importId,
    source: "command",
    fileName,
    size,
    parts: 0,
    minPlayMs: 30_000,
    status: "queued",
    now: new Date(),
  });
  const out = await runImport(db(), { uid, importId, path, deadline: null, now: () => new Date() });
  expect(out.kind).toBe("done");
  return { uid, job: (await job(uid, importId))!, log: await logOf(uid) };
}

afterAll(async () => {
  await forgetPeople(["imp-"]);
});

describe("an upload in parts, through Hosting, imported by the task queue", () => {
  it("when an export zip is uploaded in 4 parts (one sent twice) and finished, then the task imports exactly what a one-shot import gives and deletes the parts", async () => {
    const p = await newSignedInPerson("imp-web");
    const zip = await exportZip(tempDir());
    const bytes = readFileSync(zip);
    const partBytes = Math.max(256, Math.ceil(bytes.length / 4));
    const start = await api(p, "POST", "", { fileName: "my_spotify_data.zip", size: bytes.length, partBytes });
    expect(start).toMatchObject({ status: 201, body: { partBytes, parts: 4 } });
    const importId = String(start.body.importId);
    expect(await job(p.uid, importId)).toMatchObject({ status: "uploading", source: "web", parts: 4 });

    const parts = split(bytes, partBytes);
    // Out of order, and part 1 twice (the first time with the wrong bytes): the last write wins.
    for (const i of [3, 1, 0, 2]) {
      const body = i === 1 ? Buffer.alloc(parts[1]!.length, 0x41) : parts[i]!;
      expect((await api(p, "PUT", `/${importId}/parts/${i}`, body)).status).toBe(200);
    }
    expect((await api(p, "PUT", `/${importId}/parts/1`, parts[1]!)).status).toBe(200);
    expect((await objectsUnder(storagePaths.importPrefix(p.uid, importId))).length).toBe(4);

    const finish = await api(p, "POST", `/${importId}/finish`);
    expect(finish).toMatchObject({ status: 202, body: { importId, status: "queued" } });

    const done = await waitFor(
      async () => {
        const j = await job(p.uid, importId);
        return j && (j.status === "done" || j.status === "failed") ? j : null;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: "the import task to finish" },
    );
    expect(done).toMatchObject({ status: "done", error: null });
    expect(done.progress.percent).toBe(100);

    const ref = await oneShot(zip, "my_spotify_data.zip", bytes.length);
    expect(done.files).toEqual(ref.job.files);
    expect(done.progress).toEqual(ref.job.progress);
    expect(done.files.length).toBe(2);
    expect(done.progress.imported).toBeGreaterThan(0);
    expect(done.files.some((f: { skipped: { episode: number } }) => f.skipped.episode > 0)).toBe(true);
    const mine = await logOf(p.uid);
    expect(Object.keys(mine.plays).length).toBe(done.progress.imported);
    expect(mine).toEqual(ref.log);
    expect(Object.values(mine.plays).every((x) => (x as { source: string }).source === "import")).toBe(true);
    const stored = JSON.stringify(mine);
    for (const v of PERSONAL_VALUES) expect(stored).not.toContain(v);

    // The raw export (IP addresses) is gone from Storage.
    await waitFor(async () => (await objectsUnder(storagePaths.importPrefix(p.uid, importId))).length === 0, {
      what: "the parts to be deleted",
    });
    // A finish sent again after the end changes nothing.
    expect((await api(p, "POST", `/${importId}/finish`)).status).toBe(409);
  });
});

describe("refusals: one sentence each, and nothing changes", () => {
  it("when the requests are unsigned, badly named, too big, someone else's, incomplete or of the wrong size, then each is refused and the upload stays as it was", async () => {
    const p = await newSignedInPerson("imp-refuse");
    const other = await newSignedInPerson("imp-other");
    const imports = () => db().collection(firestorePaths.imports(p.uid)).get();

    const unsigned = await api(null, "POST", "", { fileName: "a.zip", size: 10 });
    expect(unsigned.status).toBe(401);
    const badName = await api(p, "POST", "", { fileName: "history.txt", size: 10 });
    expect(badName).toMatchObject({ status: 400 });
    expect(String(badName.body.message)).toMatch(/history\.txt is neither a zip .* nor a JSON file/);
    const tooBig = await api(p, "POST", "", { fileName: "big.zip", size: 513 * 1024 * 1024 });
    expect(tooBig.status).toBe(413);
    expect(String(tooBig.body.message)).toContain("over the 512 MiB limit");
    expect((await api(p, "POST", "", { fileName: "a.zip", size: 0 })).status).toBe(400);
    expect((await api(p, "POST", "", { fileName: "a.zip" })).status).toBe(400);
    expect((await api(p, "POST", "", { fileName: "a.zip", size: 10, partBytes: MAX_PART_BYTES + 1 })).status).toBe(400);
    expect((await api(p, "POST", "", { fileName: "a.zip", size: 10, minPlaySeconds: -1 })).status).toBe(400);
    expect((await imports()).size).toBe(0);

    // A real upload of 3 parts of 300 bytes (the last one 100).
    const bytes = Buffer.alloc(700, 0x5b);
    const start = await api(p, "POST", "", {
      fileName: "Streaming_History_Audio_2020_0.json",
      size: 700,
      partBytes: 300,
    });
    expect(start).toMatchObject({ status: 201, body: { parts: 3, partBytes: 300 } });
    const id = String(start.body.importId);
    const prefix = storagePaths.importPrefix(p.uid, id);

    // A second import while this one is uploading.
    const second = await api(p, "POST", "", { fileName: "other.zip", size: 10 });
    expect(second.status).toBe(409);
    expect(String(second.body.message)).toContain("Streaming_History_Audio_2020_0.json is still uploading");
    expect((await imports()).size).toBe(1);

    // Someone else cannot send or finish parts of it.
    const foreign = await api(other, "PUT", `/${id}/parts/0`, bytes.subarray(0, 300));
    expect(foreign.status).toBe(404);
    expect((await api(other, "POST", `/${id}/finish`)).status).toBe(404);
    expect(await objectsUnder(prefix)).toEqual([]);
    expect(await objectsUnder(storagePaths.importPrefix(other.uid, id))).toEqual([]);

    // Bad parts.
    expect((await api(p, "PUT", `/${id}/parts/3`, bytes.subarray(0, 100))).status).toBe(400);
    expect((await api(p, "PUT", `/${id}/parts/0`, Buffer.alloc(301, 0x20))).status).toBe(413);
    expect((await api(p, "PUT", `/${id}/parts/0`, bytes.subarray(0, 300), "text/plain")).status).toBe(415);
    expect((await api(p, "PUT", `/${id}/parts/x`, bytes.subarray(0, 300))).status).toBe(400);
    expect((await api(p, "PUT", `/nope/parts/0`, bytes.subarray(0, 300))).status).toBe(404);
    expect(await objectsUnder(prefix)).toEqual([]);

    // Finishing with a part missing.
    expect((await api(p, "PUT", `/${id}/parts/0`, bytes.subarray(0, 300))).status).toBe(200);
    expect((await api(p, "PUT", `/${id}/parts/2`, bytes.subarray(600))).status).toBe(200);
    const missing = await api(p, "POST", `/${id}/finish`);
    expect(missing.status).toBe(400);
    expect(String(missing.body.message)).toBe("Part 1 of 3 has not arrived: upload it, then finish again.");
    expect((await job(p.uid, id))?.status).toBe("uploading");

    // Finishing when the parts do not add up to the announced size.
    expect((await api(p, "PUT", `/${id}/parts/1`, bytes.subarray(300, 550))).status).toBe(200);
    const short = await api(p, "POST", `/${id}/finish`);
    expect(short.status).toBe(400);
    expect(String(short.body.message)).toContain("The parts hold 650 bytes, not the 700 bytes announced");
    expect((await job(p.uid, id))?.status).toBe("uploading");
    expect((await objectsUnder(prefix)).length).toBe(3);

    // An upload abandoned for over an hour no longer blocks a new one.
    await jobRef(p.uid, id).update({ updatedAt: Timestamp.fromMillis(Date.now() - 2 * 3_600_000) });
    expect((await api(p, "POST", "", { fileName: "next.zip", size: 10 })).status).toBe(201);
  });
});

describe("uploads started at the same moment", () => {
  it("when one person starts three uploads at once, then at most one is kept and the others are refused", async () => {
    const p = await newSignedInPerson("imp-race");
    const answers = await Promise.all(
      [1, 2, 3].map((i) => api(p, "POST", "", { fileName: `Streaming_History_Audio_${i}.json`, size: 10 })),
    );
    const kept = answers.filter((a) => a.status === 201);
    expect(kept.length).toBeLessThanOrEqual(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(3 - kept.length);
    const docs = await db().collection(firestorePaths.imports(p.uid)).get();
    expect(docs.docs.map((d) => d.id)).toEqual(kept.map((a) => String(a.body.importId)));
  });
});

describe("a tiny task budget", () => {
  it("when every task may import only one chunk, then the import pauses and continues over many tasks and ends with exactly the plays of a one-shot import", async () => {
    const uid = `imp-budget-${Date.now()}`;
    const zip = await generatedExportZip(join(tempDir(), "my_spotify_data.zip"), 600, {
      perFile: 250,
      from: Date.UTC(2024, 0, 1),
      stepMs: 45 * 60_000,
    });
    const bytes = readFileSync(zip);
    const tasks: { payload: ImportTaskPayload; id: string }[] = [];
    const enqueue = async (payload: ImportTaskPayload, id: string) => {
      if (tasks.some((t) => t.id === id)) return "duplicate" as const;
      tasks.push({ payload, id });
      return "enqueued" as const;
    };
    const parts = bucketParts(bucket());
    const deps: UploadDeps = { db: db(), parts, enqueue, now: () => new Date() };
    const start = await startUpload(deps, uid, {
      fileName: "my_spotify_data.zip",
      size: bytes.length,
      partBytes: 1024,
    });
    expect(start.parts).toBeGreaterThan(1);
    for (const [i, b] of split(bytes, start.partBytes).entries()) await putPart(deps, uid, start.importId, i, b);
    await finishUpload(deps, uid, start.importId);
    expect(tasks.map((t) => t.payload.step)).toEqual([0]);

    const outcomes: string[] = [];
    for (let i = 0; i < tasks.length && i < 100; i++) {
      outcomes.push(
        await runImportTask(
          {
            db: db(),
            parts,
            enqueue,
            now: () => new Date(),
            budgetMs: 1,
            run: (d, a) => runImport(d, { ...a, chunkPlays: 50 }),
          },
          tasks[i]!.payload,
        ),
      );
    }
    expect(outcomes.at(-1)).toBe("done");
    expect(outcomes.slice(0, -1).every((o) => o === "paused")).toBe(true);
    expect(outcomes.length).toBeGreaterThanOrEqual(12);
    expect(new Set(tasks.map((t) => t.id)).size).toBe(tasks.length);

    const ref = await oneShot(zip, "my_spotify_data.zip", bytes.length);
    const done = (await job(uid, start.importId))!;
    expect(done.status).toBe("done");
    expect(done.progress.imported).toBe(600);
    expect(done.files).toEqual(ref.job.files);
    expect(await logOf(uid)).toEqual(ref.log);
    expect(await objectsUnder(storagePaths.importPrefix(uid, start.importId))).toEqual([]);

    // A task delivered again after the end does nothing.
    expect(
      await runImportTask({ db: db(), parts, enqueue, now: () => new Date(), budgetMs: 1 }, tasks[0]!.payload),
    ).toBe("missing");
    expect(await logOf(uid)).toEqual(ref.log);
  });
});

describe("a task killed mid-import", () => {
  it("when a task dies after some chunks, then its retry resumes from the checkpoint, the temp file is gone each time, and the plays equal a one-shot import", async () => {
    const uid = `imp-killed-${Date.now()}`;
    const zip = await generatedExportZip(join(tempDir(), "my_spotify_data.zip"), 300, {
      perFile: 300,
      from: Date.UTC(2023, 5, 1),
      stepMs: 50 * 60_000,
    });
    const bytes = readFileSync(zip);
    const tasks: { payload: ImportTaskPayload; id: string }[] = [];
    const enqueue = async (payload: ImportTaskPayload, id: string) => {
      tasks.push({ payload, id });
      return "enqueued" as const;
    };
    const parts = bucketParts(bucket());
    const deps: UploadDeps = { db: db(), parts, enqueue, now: () => new Date() };
    const start = await startUpload(deps, uid, {
      fileName: "my_spotify_data.zip",
      size: bytes.length,
      partBytes: 2048,
    });
    for (const [i, b] of split(bytes, start.partBytes).entries()) await putPart(deps, uid, start.importId, i, b);
    await finishUpload(deps, uid, start.importId);

    const tmp = tempDir("import-task-tmp-");
    // The first delivery imports 2 chunks, then the process dies (before it could hand over).
    const killed = runImportTask(
      {
        db: db(),
        parts,
        enqueue,
        now: () => new Date(),
        budgetMs: 420_000,
        tmpDir: tmp,
        run: async (d, a) => {
          let chunks = 0;
          const out = await runImport(d, {
            ...a,
            chunkPlays: 50,
            deadline: new Date(0),
            now: () => (++chunks >= 2 ? new Date(1) : new Date(-1)),
          });
          if (out.kind === "paused") throw new Error("killed");
          return out;
        },
      },
      tasks[0]!.payload,
    );
    await expect(killed).rejects.toThrow("killed");
    expect(readdirSync(tmp)).toEqual([]);
    const halfway = (await job(uid, start.importId))!;
    expect(halfway.status).toBe("running");
    expect(halfway.progress.imported).toBeGreaterThan(0);
    expect(halfway.progress.imported).toBeLessThan(300);
    expect((await objectsUnder(storagePaths.importPrefix(uid, start.importId))).length).toBe(start.parts);

    // Cloud Tasks delivers the same task again: it resumes and finishes.
    const again = await runImportTask(
      { db: db(), parts, enqueue, now: () => new Date(), budgetMs: 420_000, tmpDir: tmp },
      tasks[0]!.payload,
    );
    expect(again).toBe("done");
    expect(readdirSync(tmp)).toEqual([]);
    expect(tasks).toHaveLength(1);
    const ref = await oneShot(zip, "my_spotify_data.zip", bytes.length);
    expect((await job(uid, start.importId))!.files).toEqual(ref.job.files);
    expect(await logOf(uid)).toEqual(ref.log);
    expect(await objectsUnder(storagePaths.importPrefix(uid, start.importId))).toEqual([]);
  });
});
