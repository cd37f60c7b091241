/**
 * The export job document `users/{uid}/exports/{exportId}` ("Download my data"): what the web app
 * follows live (the owner may read it, only the server writes it — firestore.rules).
 *
 *   status: "queued" | "running" | "ready" | "failed" | "expired"
 *   createdAt, updatedAt: Timestamp
 *   expiresAt: Timestamp | null        when the zip is deleted (set when ready)
 *   objectPath: string | null          `{uid}/exports/{exportId}.zip` while ready
 *   size: number | null                bytes of the zip
 *   progress: { step: string, percent: number }   the step in words, 0..100
 *   error: string | null               one sentence when failed
 *   summary: { files, plays, snapshots, media } | null   what the zip holds (when ready)
 *   attempt: string | null             the task run that owns the job (fences a duplicate delivery)
 *
 * At most one export of a person is queued or running (exports/request.ts checks it in a
 * transaction). A queued or running job whose updatedAt is older than EXPORT_STALE_MS is treated
 * as dead (its task stopped without saying so) and marked failed when seen.
 */
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { firestorePaths } from "../paths";

export const EXPORT_STATUSES = ["queued", "running", "ready", "failed", "expired"] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

/** A job that has not moved for this long is dead: progress is saved at least every few seconds while it runs. */
export const EXPORT_STALE_MS = 20 * 60_000;

export const ExportSummary = z.object({
  files: z.number().int().nonnegative(),
  plays: z.number().int().nonnegative(),
  snapshots: z.number().int().nonnegative(),
  media: z.number().int().nonnegative(),
});
export type ExportSummary = z.infer<typeof ExportSummary>;

const timestamp = z.instanceof(Timestamp);

export const ExportJobDoc = z.object({
  status: z.enum(EXPORT_STATUSES),
  createdAt: timestamp,
  updatedAt: timestamp,
  expiresAt: timestamp.nullable(),
  objectPath: z.string().nullable(),
  size: z.number().int().nonnegative().nullable(),
  progress: z.object({ step: z.string(), percent: z.number().min(0).max(100) }),
  error: z.string().nullable(),
  summary: ExportSummary.nullable().optional(),
  attempt: z.string().nullable().optional(),
});
export type ExportJobDoc = z.infer<typeof ExportJobDoc>;

/** The steps of an export in words, as the job's progress shows them. */
export const EXPORT_STEPS = {
  queued: "Waiting to start",
  retrying: "Starting again after a problem",
  profile: "Writing your profile and connections",
  snapshots: "Writing your synced data",
  plays: "Writing your play log",
  aggregates: "Writing your listening statistics and history points",
  runs: "Writing your sync history and imports",
  media: "Copying your images and media",
  finishing: "Finishing the file",
  ready: "Ready to download",
  failed: "Stopped",
  expired: "Deleted after its time ran out",
} as const;

export const EXPORT_MESSAGES = {
  inProgress: "An export of your data is already being prepared; wait until it is ready, then download it.",
  stale: "The export stopped without finishing; request a new one.",
  failed: "The export could not be written; try again in a few minutes.",
  gone: "The export was deleted before it finished (the account or the job no longer exists).",
} as const;

export const inProgress = (s: ExportStatus) => s === "queued" || s === "running";

/** A new export id: sortable by time, then random. */
export function newExportId(now: Date, random: () => string): string {
  return `${now.toISOString().replace(/[-:.TZ]/g, "")}-${random()}`;
}

export function queuedJob(now: Date): ExportJobDoc {
  const at = Timestamp.fromDate(now);
  return {
    status: "queued",
    createdAt: at,
    updatedAt: at,
    expiresAt: null,
    objectPath: null,
    size: null,
    progress: { step: EXPORT_STEPS.queued, percent: 0 },
    error: null,
    summary: null,
    attempt: null,
  };
}

export function parseJob(data: unknown): ExportJobDoc | undefined {
  const r = ExportJobDoc.safeParse(data);
  return r.success ? r.data : undefined;
}

export const jobRef = (db: Firestore, uid: string, exportId: string) => db.doc(firestorePaths.exportJob(uid, exportId));
