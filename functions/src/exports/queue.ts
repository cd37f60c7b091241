/**
 * The export task queue (the `exportData` onTaskDispatched function): `build` writes the zip,
 * `expire` deletes it once its time is up (enqueued with scheduleTime = expiresAt). The same
 * firebase-admin task queue API reaches the Cloud Tasks emulator locally and Cloud Tasks in
 * production. Note: the emulator dispatches a task at once whatever its scheduleTime, so an early
 * `expire` must be (and is) harmless; the sweep in exports/run.ts deletes what is due later.
 */
import { createHash } from "node:crypto";
import type { Functions } from "firebase-admin/functions";
import { z } from "zod";
import { isTaskAlreadyExists } from "../sync/taskQueue";

export const EXPORT_QUEUE_FUNCTION = "exportData";
/** A build may run as long as its function may (triggers/exports.ts timeoutSeconds). */
export const EXPORT_TASK_DEADLINE_SECONDS = 540;
/** Attempts per task (triggers/exports.ts retryConfig): the last one marks the job failed. */
export const EXPORT_TASK_MAX_ATTEMPTS = 3;

const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^/]+$/);

export const ExportTaskPayload = z
  .object({ uid: id, exportId: id, action: z.enum(["build", "expire"]).default("build") })
  .strict();
export type ExportTaskPayload = z.output<typeof ExportTaskPayload>;

export interface ExportQueue {
  enqueue(payload: ExportTaskPayload, opts: { scheduleTime?: Date }): Promise<"enqueued" | "duplicate">;
}

/** One task per (export, action): a retried request or a second enqueue is a duplicate, not a second build. */
export function exportTaskId(p: ExportTaskPayload): string {
  return createHash("sha256").update(`${p.uid}\n${p.exportId}\n${p.action}`).digest("hex");
}

export function firebaseExportQueue(functions: Functions): ExportQueue {
  const queue = functions.taskQueue<ExportTaskPayload>(EXPORT_QUEUE_FUNCTION);
  return {
    async enqueue(payload, opts) {
      try {
        await queue.enqueue(payload, {
          id: exportTaskId(payload),
          dispatchDeadlineSeconds: EXPORT_TASK_DEADLINE_SECONDS,
          ...(opts.scheduleTime ? { scheduleTime: opts.scheduleTime } : {}),
        });
        return "enqueued";
      } catch (e) {
        if (isTaskAlreadyExists(e)) return "duplicate";
        throw e;
      }
    },
  };
}
