/**
 * "Download my data": requesting an export, the task that builds it into Storage, and its
 * deletion after EXPORT_TTL_HOURS. Plain functions over injected dependencies; the triggers
 * (triggers/exports.ts) pass the real ones (exports/runtime.ts).
 *
 * - requestExport: at most one export of a person is queued or running, checked in a transaction
 *   over the person's in-progress jobs; creates the job and enqueues its build task.
 * - runExportTask `build`: writes the zip straight into `{uid}/exports/{exportId}.zip`, saving the
 *   progress in words; ready → size, expiresAt, and a delayed `expire` task. A failure deletes the
 *   partial object, and either retries (Cloud Tasks) or, on the last attempt, marks the job failed
 *   with a sentence. Re-running a finished task changes nothing; a duplicate delivery of a running
 *   one is fenced by the job's `attempt`.
 * - runExportTask `expire`: deletes the object and marks the job expired once expiresAt has passed.
 * - sweepExports (the fallback, run by both): expires what is due, fails what has stopped moving.
 */
import { randomBytes } from "node:crypto";
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import type { Config } from "../config";
import { AppError, actionOf } from "../errors";
import { logs } from "../logs";
import { firestorePaths, storagePaths } from "../paths";
import { type Bucket, type ExportProgress, writeExport } from "./build";
import {
  EXPORT_MESSAGES,
  EXPORT_STALE_MS,
  EXPORT_STEPS,
  type ExportJobDoc,
  inProgress,
  jobRef,
  newExportId,
  parseJob,
  queuedJob,
} from "./job";
import { EXPORT_TASK_MAX_ATTEMPTS, type ExportQueue, ExportTaskPayload } from "./queue";

export interface ExportDeps {
  db: Firestore;
  bucket: Bucket;
  queue: ExportQueue;
  now: () => Date;
  config: Pick<Config, "EXPORT_TTL_HOURS">;
  /** Random id parts (tests may fix them). */
  random?: () => string;
  /** Least time between two progress writes (ms); 2 s by default. */
  progressEveryMs?: number;
}

/** The request is refused; the message is one sentence for the person. */
export class ExportRefusedError extends AppError {
  readonly code = "export_refused";
  readonly action = "give_up";
}

/** Thrown by the task so Cloud Tasks tries again (not the last attempt). */
export class ExportRetryLater extends Error {}

const rand = (deps: ExportDeps) => (deps.random ?? (() => randomBytes(6).toString("hex")))();
const ttlMs = (deps: ExportDeps) => deps.config.EXPORT_TTL_HOURS * 3_600_000;

function isStale(job: ExportJobDoc, now: Date): boolean {
  return inProgress(job.status) && now.getTime() - job.updatedAt.toMillis() > EXPORT_STALE_MS;
}

/**
 * The fallback for lost or early tasks: deletes every ready export of `uid` whose time is up, and
 * marks failed every queued or running one that stopped moving. Returns what it did.
 */
export async function sweepExports(deps: ExportDeps, uid: string): Promise<{ expired: number; stale: number }> {
  const now = deps.now();
  const col = deps.db.collection(firestorePaths.exports(uid));
  let expired = 0;
  let stale = 0;
  for (const d of (await col.where("status", "==", "ready").get()).docs) {
    const job = parseJob(d.data());
    if (job?.expiresAt && job.expiresAt.toMillis() <= now.getTime()) {
      if (await expireOne(deps, uid, d.id)) expired += 1;
    }
  }
  for (const d of (await col.where("status", "in", ["queued", "running"]).get()).docs) {
    const job = parseJob(d.data());
    if (!job || !isStale(job, now)) continue;
    await deleteObject(deps, uid, d.id);
    const changed = await deps.db.runTransaction(async (tx) => {
      const cur = parseJob((await tx.get(d.ref)).data());
      if (!cur || !isStale(cur, now)) return false;
      tx.update(d.ref, failedFields(now, EXPORT_MESSAGES.stale));
      return true;
    });
    if (changed) stale += 1;
  }
  if (expired + stale > 0) logs.info("export.swept", { uid, expired, stale });
  return { expired, stale };
}

function failedFields(now: Date, error: string) {
  return {
    status: "failed",
    updatedAt: Timestamp.fromDate(now),
    objectPath: null,
    size: null,
    expiresAt: null,
    progress: { step: EXPORT_STEPS.failed, percent: 0 },
    error,
  };
}

async function deleteObject(deps: ExportDeps, uid: string, exportId: string): Promise<void> {
  await deps.bucket.file(storagePaths.exportObject(uid, exportId)).delete({ ignoreNotFound: true });
}

/** Deletes a ready export whose time is up; false when it is not (yet) due or no longer ready. */
async function expireOne(deps: ExportDeps, uid: string, exportId: string): Promise<boolean> {
  const ref = jobRef(deps.db, uid, exportId);
  const now = deps.now();
  const due = (job: ExportJobDoc | undefined) =>
    job?.status === "ready" && job.expiresAt !== null && job.expiresAt.toMillis() <= now.getTime();
  if (!due(parseJob((await ref.get()).data()))) return false;
  await deleteObject(deps, uid, exportId);
  return deps.db.runTransaction(async (tx) => {
    const job = parseJob((await tx.get(ref)).data());
    if (!due(job)) return false;
    tx.update(ref, {
      status: "expired",
      updatedAt: Timestamp.fromDate(now),
      objectPath: null,
      progress: { step: EXPORT_STEPS.expired, percent: 100 },
    });
    return true;
  });
}

/** Starts an export of `uid`'s data: { exportId }, or ExportRefusedError while one is in progress. */
export async function requestExport(deps: ExportDeps, uid: string): Promise<{ exportId: string }> {
  await sweepExports(deps, uid);
  const now = deps.now();
  const exportId = newExportId(now, () => rand(deps));
  const ref = jobRef(deps.db, uid, exportId);
  const running = deps.db.collection(firestorePaths.exports(uid)).where("status", "in", ["queued", "running"]);
  await deps.db.runTransaction(async (tx) => {
    const open = await tx.get(running);
    for (const d of open.docs) {
      const job = parseJob(d.data());
      if (job && isStale(job, now)) tx.update(d.ref, failedFields(now, EXPORT_MESSAGES.stale));
      else throw new ExportRefusedError(EXPORT_MESSAGES.inProgress);
    }
    tx.create(ref, queuedJob(now));
  });
  try {
    await deps.queue.enqueue({ uid, exportId, action: "build" }, {});
  } catch (e) {
    // Nothing will build it: say so on the job, so it does not block the next request.
    await ref.update(failedFields(deps.now(), EXPORT_MESSAGES.failed)).catch(() => undefined);
    throw e;
  }
  logs.info("export.requested", { uid, exportId });
  return { exportId };
}

export type ExportTaskOutcome =
  | { kind: "ready"; size: number; expiresAt: Date }
  | { kind: "expired" }
  | { kind: "failed"; error: string }
  | { kind: "skipped"; reason: string };

/**
 * Runs one export task. Throws ExportRetryLater when Cloud Tasks should try again; `retryCount`
 * is Cloud Tasks' (0 on the first attempt).
 */
export async function runExportTask(
  deps: ExportDeps,
  input: unknown,
  opts: { retryCount: number; maxAttempts?: number },
): Promise<ExportTaskOutcome> {
  const parsed = ExportTaskPayload.safeParse(input);
  if (!parsed.success) {
    logs.warn("export.bad_payload", { issues: parsed.error.issues.length });
    return { kind: "skipped", reason: "bad_payload" };
  }
  const { uid, exportId, action } = parsed.data;
  if (action === "expire") {
    const done = await expireOne(deps, uid, exportId);
    // Early (the emulator ignores scheduleTime) or already gone: the sweep deletes it when due.
    return done ? { kind: "expired" } : { kind: "skipped", reason: "not_due" };
  }
  return buildTask(deps, uid, exportId, opts.retryCount, opts.maxAttempts ?? EXPORT_TASK_MAX_ATTEMPTS);
}

async function buildTask(
  deps: ExportDeps,
  uid: string,
  exportId: string,
  retryCount: number,
  maxAttempts: number,
): Promise<ExportTaskOutcome> {
  const ref = jobRef(deps.db, uid, exportId);
  const attempt = rand(deps);
  const objectPath = storagePaths.exportObject(uid, exportId);
  const started = await deps.db.runTransaction(async (tx) => {
    const job = parseJob((await tx.get(ref)).data());
    if (!job) return "missing" as const;
    if (!inProgress(job.status)) return job.status;
    tx.update(ref, {
      status: "running",
      attempt,
      updatedAt: Timestamp.fromDate(deps.now()),
      progress: { step: retryCount > 0 ? EXPORT_STEPS.retrying : EXPORT_STEPS.profile, percent: 0 },
    });
    return "started" as const;
  });
  if (started !== "started") {
    logs.info("export.task_skipped", { uid, exportId, reason: started });
    return { kind: "skipped", reason: started };
  }
  await sweepExports(deps, uid).catch((e: unknown) => logs.warn("export.sweep_failed", { uid, error: e }));

  /** Writes `fields` if this attempt still owns the job; false when it does not. */
  const owned = (fields: Record<string, unknown>) =>
    deps.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      if (!snap.exists || snap.get("attempt") !== attempt || snap.get("status") !== "running") return false;
      tx.update(ref, { updatedAt: Timestamp.fromDate(deps.now()), ...fields });
      return true;
    });

  const every = deps.progressEveryMs ?? 2000;
  let lastWrite = 0;
  let lastStep = "";
  const onProgress = async (p: ExportProgress) => {
    const t = Date.now();
    const stepName = p.step.replace(/ \(.*\)$/, "");
    if (stepName === lastStep && t - lastWrite < every) return;
    lastStep = stepName;
    lastWrite = t;
    if (!(await owned({ progress: p }))) throw new ExportSuperseded();
  };

  const startedAt = Date.now();
  try {
    const file = deps.bucket.file(objectPath);
    const upload = file.createWriteStream({
      resumable: false,
      contentType: "application/zip",
      metadata: { contentType: "application/zip", cacheControl: "private, no-store" },
    });
    const result = await writeExport({ db: deps.db, bucket: deps.bucket }, uid, upload, {
      now: deps.now(),
      onProgress,
    });
    const now = deps.now();
    const expiresAt = new Date(now.getTime() + ttlMs(deps));
    const { bytes, ...summary } = result;
    const ok = await owned({
      updatedAt: Timestamp.fromDate(now),
      status: "ready",
      objectPath,
      size: bytes,
      expiresAt: Timestamp.fromDate(expiresAt),
      progress: { step: EXPORT_STEPS.ready, percent: 100 },
      error: null,
      summary,
    });
    if (!ok) {
      // The job was deleted (the account with it) or taken over: this object is nobody's.
      if (!(await ref.get()).exists) await deleteObject(deps, uid, exportId);
      return { kind: "skipped", reason: "superseded" };
    }
    logs.info("export.ready", { uid, exportId, ...result, durationMs: Date.now() - startedAt });
    try {
      await deps.queue.enqueue({ uid, exportId, action: "expire" }, { scheduleTime: expiresAt });
    } catch (e) {
      // The sweep of the next request or export deletes it instead.
      logs.warn("export.expire_enqueue_failed", { uid, exportId, error: e });
    }
    return { kind: "ready", size: bytes, expiresAt };
  } catch (e) {
    if (e instanceof ExportSuperseded) {
      logs.info("export.superseded", { uid, exportId });
      return { kind: "skipped", reason: "superseded" };
    }
    await deleteObject(deps, uid, exportId).catch(() => undefined);
    const last = retryCount + 1 >= maxAttempts || actionOf(e) === "give_up";
    logs.error("export.failed", { uid, exportId, retryCount, last, error: e });
    if (!last) {
      await owned({ progress: { step: EXPORT_STEPS.retrying, percent: 0 } }).catch(() => false);
      throw new ExportRetryLater("The export failed; Cloud Tasks will retry.", { cause: e });
    }
    await owned(failedFields(deps.now(), EXPORT_MESSAGES.failed)).catch(() => false);
    return { kind: "failed", error: EXPORT_MESSAGES.failed };
  }
}

/** This attempt no longer owns the job (a duplicate delivery took it over, or it was deleted). */
class ExportSuperseded extends Error {}
