/**
 * One task of the `importHistory` queue: an uploaded export (imports/upload.ts) imported in steps.
 *
 * Each task downloads the upload's parts, in order, into one temporary file, then runs the import
 * (imports/job.ts runImport) from the job's checkpoint until it is done or the task's budget
 * (IMPORT_TASK_BUDGET_SECONDS, below the function's timeout) is spent. Paused → the next step is
 * enqueued as a new task (its own id); done or failed → the uploaded parts are deleted (the raw
 * export holds personal fields such as IP addresses, which are never kept); the temporary file is
 * always removed. A task that is killed is retried by Cloud Tasks and resumes from the checkpoint;
 * runImport makes sure nothing is imported twice.
 */
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import type { Readable } from "node:stream";
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import type { bucket as adminBucket } from "../admin";
import { logs } from "../logs";
import { firestorePaths, storagePaths } from "../paths";
import { runImport } from "./job";
import { type EnqueueImportTask, type PartStore, importTaskId } from "./upload";

export const ImportTaskPayload = z.object({
  uid: z.string().min(1).max(128),
  importId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  step: z.number().int().nonnegative().max(1_000_000).default(0),
});

export interface UploadedParts {
  /** Reads an object; the stream errors with `code` 404 when it does not exist. */
  read(objectPath: string): Readable;
  /** Deletes every object under `prefix`. */
  deletePrefix(prefix: string): Promise<void>;
}

/** The upload's parts in a Storage bucket: what both the upload and the task need. */
export function bucketParts(bucket: ReturnType<typeof adminBucket>): PartStore & UploadedParts {
  return {
    async write(objectPath, bytes) {
      await bucket.file(objectPath).save(bytes, { resumable: false, contentType: "application/octet-stream" });
    },
    async list(prefix) {
      const [files] = await bucket.getFiles({ prefix });
      return new Map(files.map((f) => [f.name, Number(f.metadata.size ?? 0)]));
    },
    read: (objectPath) => bucket.file(objectPath).createReadStream(),
    async deletePrefix(prefix) {
      await bucket.deleteFiles({ prefix });
    },
  };
}

export interface ImportTaskDeps {
  db: Firestore;
  parts: UploadedParts;
  enqueue: EnqueueImportTask;
  now(): Date;
  /** How long one task imports before it pauses and hands over to the next (ms). */
  budgetMs: number;
  /** Where the temporary download goes (os.tmpdir() by default). */
  tmpDir?: string;
  /** The import (imports/job.ts runImport); replaceable in tests. */
  run?: typeof runImport;
}

export type ImportTaskOutcome = "done" | "paused" | "failed" | "missing" | "invalid";

const GONE = "The uploaded file is no longer stored: upload it again.";

const JobFields = z.object({
  status: z.enum(["uploading", "queued", "running", "done", "failed"]),
  fileName: z.string(),
  parts: z.number().int().nonnegative(),
});

/** Downloads parts 0…parts-1 of an upload, in order, into `dest`; false when one is missing. */
async function download(deps: ImportTaskDeps, uid: string, importId: string, parts: number, dest: string) {
  const out = createWriteStream(dest, { flags: "w" });
  const failed = new Promise<never>((_, reject) => out.once("error", reject));
  failed.catch(() => undefined);
  try {
    for (let i = 0; i < parts; i++) {
      for await (const chunk of deps.parts.read(storagePaths.importPart(uid, importId, i))) {
        if (!out.write(chunk)) await Promise.race([once(out, "drain"), failed]);
      }
    }
  } catch (e) {
    out.destroy();
    if ((e as { code?: unknown }).code === 404) return false;
    throw e;
  }
  await Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed]);
  return true;
}

/** Runs one task. Throws only for transient failures (Cloud Tasks then retries the task). */
export async function runImportTask(deps: ImportTaskDeps, data: unknown): Promise<ImportTaskOutcome> {
  const payload = ImportTaskPayload.safeParse(data);
  if (!payload.success) {
    logs.error("imports.task_invalid", { issues: payload.error.issues.length });
    return "invalid";
  }
  const { uid, importId, step } = payload.data;
  const start = deps.now();
  const ref = deps.db.doc(firestorePaths.importJob(uid, importId));
  const snap = await ref.get();
  const job = JobFields.safeParse(snap.data());
  const prefix = storagePaths.importPrefix(uid, importId);
  if (!snap.exists || !job.success || job.data.status === "done" || job.data.status === "failed") {
    // Nothing left to do; a deletion a crash interrupted is finished here.
    await deps.parts.deletePrefix(prefix);
    return "missing";
  }
  if (job.data.status === "uploading") {
    logs.warn("imports.task_before_finish", { uid, importId });
    return "missing";
  }
  if (job.data.status === "queued") {
    await deps.db.runTransaction(async (tx) => {
      const s = await tx.get(ref);
      if (s.get("status") === "queued") tx.update(ref, { status: "running", updatedAt: Timestamp.fromDate(start) });
    });
  }

  const dir = await mkdtemp(join(deps.tmpDir ?? tmpdir(), "import-"));
  try {
    const ext = /\.zip$/i.test(job.data.fileName) ? ".zip" : ".json";
    const path = join(dir, `upload${ext}`);
    if (!(await download(deps, uid, importId, job.data.parts, path))) {
      await ref.update({
        status: "failed",
        error: GONE,
        updatedAt: Timestamp.fromDate(deps.now()),
        finishedAt: Timestamp.fromDate(deps.now()),
      });
      await deps.parts.deletePrefix(prefix);
      logs.warn("imports.task_parts_missing", { uid, importId });
      return "failed";
    }
    const deadline = new Date(start.getTime() + deps.budgetMs);
    const out = await (deps.run ?? runImport)(deps.db, { uid, importId, path, deadline, now: deps.now });
    if (out.kind === "paused") {
      const next = step + 1;
      await deps.enqueue({ uid, importId, step: next }, importTaskId(uid, importId, next));
      logs.info("imports.task_paused", { uid, importId, step });
      return "paused";
    }
    await deps.parts.deletePrefix(prefix);
    logs.info("imports.task_finished", { uid, importId, step, outcome: out.kind });
    return out.kind;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
