/**
 * Uploading a Spotify export from the web app, in parts, through the `imports` function
 * (`/api/imports/**` behind a Hosting rewrite, `Authorization: Bearer <ID token>`):
 *
 *   POST /api/imports                      {fileName, size, minPlaySeconds?, partBytes?} → 201 {importId, partBytes, parts}
 *   PUT  /api/imports/{importId}/parts/{n}  the part's bytes (application/octet-stream, ≤ partBytes) → 200
 *   POST /api/imports/{importId}/finish     → 202 {importId, status: "queued"}: the import task is enqueued
 *
 * Why a function and not the Storage web SDK: storage.rules cannot be evaluated by the Storage
 * emulator on offline machines (see media/serve.ts), so this path is the same code locally and in
 * production, and the owner check is here: an import id is only looked up under the caller's own
 * `users/{uid}/imports`, and parts are written under their own `{uid}/imports/{importId}/`.
 *
 * Parts are at most MAX_PART_BYTES (4 MiB: under the 32 MB request limit of Cloud Functions and
 * Hosting's); a client may choose smaller ones. Re-sending a part overwrites it. Every refusal is
 * an UploadRefusedError with an HTTP status and one sentence, and changes nothing.
 */
import { randomUUID } from "node:crypto";
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { APP_CHECK_HEADER, APP_CHECK_REQUIRED, SESSION_ENDED, SessionEndedError } from "../access/caller";
import { InvalidInputError } from "../errors";
import { logs } from "../logs";
import type { HttpRequest, HttpResponse } from "../oauth/http";
import { firestorePaths, storagePaths } from "../paths";
import { DEFAULT_MIN_PLAY_MS, createImportJob } from "./job";
import { DEFAULT_LIMITS } from "./read";

/** The largest part (and the default): 4 MiB. */
export const MAX_PART_BYTES = 4 * 1024 * 1024;
/** The smallest part a client may choose (tests use tiny parts). */
export const MIN_PART_BYTES = 256;
/** At most this many parts per upload. */
export const MAX_PARTS = 10_000;
/** An upload with no part received for this long no longer blocks a new one. */
export const UPLOAD_ABANDONED_MS = 60 * 60_000;
/** A queued or running import that has not moved for this long no longer blocks a new one. */
export const RUN_ABANDONED_MS = 6 * 60 * 60_000;
/** The longest minimum play length a person may set, in seconds. */
export const MAX_MIN_PLAY_SECONDS = 600;

/** What the import task receives (imports/task.ts validates it again). */
export interface ImportTaskPayload {
  uid: string;
  importId: string;
  /** 0 for the first task of an import, then 1, 2, … for each continuation after a pause. */
  step: number;
}

/** Enqueues a task on the `importHistory` queue under `id` ("duplicate" when that id exists). */
export type EnqueueImportTask = (payload: ImportTaskPayload, id: string) => Promise<"enqueued" | "duplicate">;

/** The Storage the upload writes to. */
export interface PartStore {
  write(objectPath: string, bytes: Buffer): Promise<void>;
  /** The objects under `prefix` and their sizes in bytes. */
  list(prefix: string): Promise<Map<string, number>>;
}

export interface UploadDeps {
  db: Firestore;
  parts: PartStore;
  enqueue: EnqueueImportTask;
  now(): Date;
  newId?(): string;
}

/** A refused request: the HTTP status and one sentence for the person. */
export class UploadRefusedError extends InvalidInputError {
  constructor(
    readonly status: 400 | 403 | 404 | 405 | 409 | 411 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/** The Cloud Tasks id of step `step` of an import: unique per step, stable across retries. */
export function importTaskId(uid: string, importId: string, step: number): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_");
  return `import-${safe(uid)}-${safe(importId)}-${step}`;
}

const mib = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`;

const StartBody = z.object({
  fileName: z.string(),
  size: z.number(),
  minPlaySeconds: z.number().optional(),
  partBytes: z.number().optional(),
});

/** What the upload reads from the job document (imports/job.ts writes it; `partBytes` is ours). */
const JobFields = z.object({
  status: z.enum(["uploading", "queued", "running", "done", "failed"]),
  size: z.number(),
  parts: z.number(),
  partBytes: z.number().optional(),
  fileName: z.string(),
  updatedAt: z.instanceof(Timestamp).optional(),
  createdAt: z.instanceof(Timestamp).optional(),
});
type JobFields = z.infer<typeof JobFields>;

/** Checks the start request; returns what the job is made of. */
export function parseStart(body: unknown): { fileName: string; size: number; minPlayMs: number; partBytes: number } {
  const parsed = StartBody.safeParse(body);
  if (!parsed.success)
    throw new UploadRefusedError(400, "Send JSON with the file's name (fileName) and its size in bytes (size).");
  const { fileName, size, minPlaySeconds, partBytes } = parsed.data;
  // eslint-disable-next-line no-control-regex
  if (!fileName.trim() || fileName.length > 200 || /[/\\\u0000-\u001f]/.test(fileName))
    throw new UploadRefusedError(400, "The file name must be a plain name of at most 200 characters.");
  if (!/\.(zip|json)$/i.test(fileName))
    throw new UploadRefusedError(
      400,
      `${fileName} is neither a zip of Spotify's export nor a JSON file from it: choose a .zip or a .json file.`,
    );
  if (!Number.isInteger(size) || size <= 0) throw new UploadRefusedError(400, `${fileName} is empty.`);
  if (size > DEFAULT_LIMITS.maxFileBytes)
    throw new UploadRefusedError(
      413,
      `${fileName} is ${mib(size)}, over the ${mib(DEFAULT_LIMITS.maxFileBytes)} limit for one upload: upload the JSON files inside the zip one by one instead.`,
    );
  const seconds = minPlaySeconds ?? DEFAULT_MIN_PLAY_MS / 1000;
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_MIN_PLAY_SECONDS)
    throw new UploadRefusedError(
      400,
      `The shortest play to import must be a whole number of seconds from 0 to ${MAX_MIN_PLAY_SECONDS}.`,
    );
  const part = partBytes ?? MAX_PART_BYTES;
  if (!Number.isInteger(part) || part < MIN_PART_BYTES || part > MAX_PART_BYTES)
    throw new UploadRefusedError(
      400,
      `Parts must be between ${MIN_PART_BYTES} bytes and ${MAX_PART_BYTES} bytes (4 MiB).`,
    );
  if (Math.ceil(size / part) > MAX_PARTS)
    throw new UploadRefusedError(400, `That is more than ${MAX_PARTS} parts: choose larger parts.`);
  return { fileName, size, minPlayMs: seconds * 1000, partBytes: part };
}

const ACTIVE = ["uploading", "queued", "running"] as const;

/**
 * The person's import that still blocks a new one, if any; `mine`: a job just created, which does
 * not count. A job created after its check sees every rival created before that check, and a rival
 * created after it sees this job: so of uploads started at once, at most one stays (sometimes none,
 * and the person starts again).
 */
async function activeImport(deps: UploadDeps, uid: string, mine?: string): Promise<JobFields | null> {
  const snap = await deps.db
    .collection(firestorePaths.imports(uid))
    .where("status", "in", [...ACTIVE])
    .get();
  const now = deps.now().getTime();
  for (const d of snap.docs) {
    const job = JobFields.safeParse(d.data());
    if (!job.success || d.id === mine) continue;
    const moved = (job.data.updatedAt ?? job.data.createdAt)?.toMillis() ?? 0;
    const maxIdle = job.data.status === "uploading" ? UPLOAD_ABANDONED_MS : RUN_ABANDONED_MS;
    if (now - moved < maxIdle) return job.data;
  }
  return null;
}

const busy = (active: JobFields) =>
  new UploadRefusedError(
    409,
    `${active.fileName} is still ${active.status === "uploading" ? "uploading" : "being imported"}: wait until it is done, then upload the next file.`,
  );

/** POST /api/imports: a new job in status "uploading". */
export async function startUpload(
  deps: UploadDeps,
  uid: string,
  body: unknown,
): Promise<{ importId: string; partBytes: number; parts: number }> {
  const start = parseStart(body);
  const active = await activeImport(deps, uid);
  if (active) throw busy(active);
  const importId = deps.newId?.() ?? randomUUID().replace(/-/g, "");
  const parts = Math.ceil(start.size / start.partBytes);
  await createImportJob(deps.db, {
    uid,
    importId,
    source: "web",
    fileName: start.fileName,
    size: start.size,
    parts,
    minPlayMs: start.minPlayMs,
    status: "uploading",
    now: deps.now(),
  });
  const ref = deps.db.doc(firestorePaths.importJob(uid, importId));
  // Two uploads started at the same moment may both have passed the check above: look again.
  const rival = await activeImport(deps, uid, importId);
  if (rival) {
    await ref.delete();
    throw busy(rival);
  }
  await ref.update({ partBytes: start.partBytes });
  logs.info("imports.upload_started", { uid, importId, size: start.size, parts });
  return { importId, partBytes: start.partBytes, parts };
}

const IMPORT_ID = /^[A-Za-z0-9_-]{1,64}$/;

async function uploadingJob(deps: UploadDeps, uid: string, importId: string): Promise<JobFields> {
  if (!IMPORT_ID.test(importId)) throw new UploadRefusedError(404, "There is no such import.");
  const snap = await deps.db.doc(firestorePaths.importJob(uid, importId)).get();
  // Someone else's import id is simply not found under the caller's own imports.
  if (!snap.exists) throw new UploadRefusedError(404, "There is no such import.");
  const job = JobFields.safeParse(snap.data());
  if (!job.success) throw new UploadRefusedError(409, "This import cannot take parts.");
  return job.data;
}

const partBytesOf = (job: JobFields) => job.partBytes ?? MAX_PART_BYTES;

/** PUT /api/imports/{importId}/parts/{n}: stores (or overwrites) part n. */
export async function putPart(
  deps: UploadDeps,
  uid: string,
  importId: string,
  index: number,
  bytes: Buffer,
): Promise<{ index: number; bytes: number }> {
  const job = await uploadingJob(deps, uid, importId);
  if (job.status !== "uploading")
    throw new UploadRefusedError(409, "This upload is finished: its parts can no longer change.");
  if (!Number.isInteger(index) || index < 0 || index >= job.parts)
    throw new UploadRefusedError(
      400,
      `This upload has parts 0 to ${job.parts - 1}; there is no part ${Number.isFinite(index) ? index : "?"}.`,
    );
  if (bytes.length === 0) throw new UploadRefusedError(400, `Part ${index} is empty.`);
  if (bytes.length > partBytesOf(job))
    throw new UploadRefusedError(
      413,
      `Part ${index} is ${bytes.length} bytes, over this upload's ${partBytesOf(job)}.`,
    );
  await deps.parts.write(storagePaths.importPart(uid, importId, index), bytes);
  // The upload is alive: it keeps blocking a second one (UPLOAD_ABANDONED_MS).
  await deps.db.doc(firestorePaths.importJob(uid, importId)).update({ updatedAt: Timestamp.fromDate(deps.now()) });
  return { index, bytes: bytes.length };
}

/** POST /api/imports/{importId}/finish: every part there and the sizes add up → queued, task enqueued. */
export async function finishUpload(
  deps: UploadDeps,
  uid: string,
  importId: string,
): Promise<{ importId: string; status: "queued" }> {
  const job = await uploadingJob(deps, uid, importId);
  if (job.status === "queued") {
    // A finish sent again (its answer was lost): the task's id makes enqueueing it again harmless.
    await deps.enqueue({ uid, importId, step: 0 }, importTaskId(uid, importId, 0));
    return { importId, status: "queued" };
  }
  if (job.status !== "uploading")
    throw new UploadRefusedError(409, `This import is already ${job.status === "running" ? "running" : job.status}.`);
  const stored = await deps.parts.list(storagePaths.importPrefix(uid, importId));
  let total = 0;
  for (let i = 0; i < job.parts; i++) {
    const size = stored.get(storagePaths.importPart(uid, importId, i));
    if (size === undefined)
      throw new UploadRefusedError(400, `Part ${i} of ${job.parts} has not arrived: upload it, then finish again.`);
    total += size;
  }
  if (total !== job.size)
    throw new UploadRefusedError(
      400,
      `The parts hold ${total} bytes, not the ${job.size} bytes announced for ${job.fileName}: upload the file again.`,
    );
  const ref = deps.db.doc(firestorePaths.importJob(uid, importId));
  const queued = await deps.db.runTransaction(async (tx) => {
    const now = await tx.get(ref);
    if (now.get("status") !== "uploading") return false;
    tx.update(ref, { status: "queued", updatedAt: Timestamp.fromDate(deps.now()) });
    return true;
  });
  if (!queued) throw new UploadRefusedError(409, "This import was finished by another request.");
  try {
    await deps.enqueue({ uid, importId, step: 0 }, importTaskId(uid, importId, 0));
  } catch (e) {
    // Not queued after all: let the person finish again.
    await ref.update({ status: "uploading", updatedAt: Timestamp.fromDate(deps.now()) });
    throw e;
  }
  logs.info("imports.upload_finished", { uid, importId, parts: job.parts });
  return { importId, status: "queued" };
}

// --- HTTP ------------------------------------------------------------------------------------------

export interface ImportsHttpDeps extends UploadDeps {
  /** The uid behind a valid ID token (access/caller.ts cachedIdTokenVerifier); throws otherwise. */
  verifyIdToken(idToken: string): Promise<{ uid: string }>;
  /** App Check (access/caller.ts appCheckAllowed). */
  appCheck(headerValue: string | undefined): Promise<boolean>;
}

export interface ImportsHttpRequest extends HttpRequest {
  /** The request's bytes (PUT of a part). */
  rawBody?: Buffer;
}

const BEARER = /^Bearer\s+([A-Za-z0-9._-]{1,8192})$/;
const PREFIX = "/api/imports";

function header(req: HttpRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function reply(status: number, body: unknown): HttpResponse {
  return {
    status,
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "Cache-Control": "private, no-store",
      "X-Content-Type-Options": "nosniff",
    },
    body: JSON.stringify(body),
  };
}

const refused = (status: number, message: string, extra: Record<string, string> = {}): HttpResponse => {
  const r = reply(status, { message });
  Object.assign(r.headers, extra);
  return r;
};

/** Routes one request of the `imports` function. */
export async function handleImportsRequest(deps: ImportsHttpDeps, req: ImportsHttpRequest): Promise<HttpResponse> {
  if (!(await deps.appCheck(header(req, APP_CHECK_HEADER)))) return refused(401, APP_CHECK_REQUIRED);
  const bearer = BEARER.exec(header(req, "authorization") ?? "");
  if (!bearer) return refused(401, "Sign in first: an ID token is required.", { "WWW-Authenticate": "Bearer" });
  let uid: string;
  try {
    ({ uid } = await deps.verifyIdToken(bearer[1]!));
  } catch (e) {
    if (e instanceof SessionEndedError) return refused(401, SESSION_ENDED, { "WWW-Authenticate": "Bearer" });
    logs.warn("imports.unauthenticated", { reason: "invalid_id_token", error: e });
    return refused(401, "The ID token is invalid or expired; sign in again.", { "WWW-Authenticate": "Bearer" });
  }

  const path = (req.path.startsWith(PREFIX) ? req.path.slice(PREFIX.length) : req.path).replace(/\/+$/, "");
  const segs = path.split("/").filter(Boolean);
  try {
    if (segs.length === 0) {
      if (req.method !== "POST") return refused(405, "Use POST to start an upload.");
      return reply(201, await startUpload(deps, uid, req.body));
    }
    const [importId, what, n] = segs;
    if (segs.length === 3 && what === "parts") {
      if (req.method !== "PUT") return refused(405, "Use PUT to send a part.");
      if (!/^\d{1,6}$/.test(n!)) return refused(400, "A part number is a whole number from 0.");
      const type = (header(req, "content-type") ?? "").split(";")[0]!.trim().toLowerCase();
      const body = req.rawBody ?? (Buffer.isBuffer(req.body) ? req.body : undefined);
      if (type !== "application/octet-stream" || !body)
        return refused(415, "Send the part's bytes as application/octet-stream.");
      return reply(200, await putPart(deps, uid, importId!, Number(n), body));
    }
    if (segs.length === 2 && what === "finish") {
      if (req.method !== "POST") return refused(405, "Use POST to finish an upload.");
      return reply(202, await finishUpload(deps, uid, importId!));
    }
    return refused(404, "There is no such import endpoint.");
  } catch (e) {
    if (e instanceof UploadRefusedError) {
      logs.info("imports.refused", { uid, status: e.status });
      return refused(e.status, e.message);
    }
    throw e;
  }
}
