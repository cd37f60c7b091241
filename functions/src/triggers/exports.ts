/**
 * "Download my data" triggers (thin): the `requestExport` callable and the `exportData` task
 * queue that builds an export into Storage and deletes it when its time is up. The logic is in
 * exports/ (run.ts, build.ts). The zip is served to its owner by `media`
 * (GET /api/media/{uid}/exports/{exportId}.zip).
 */
import { HttpsError, onCall } from "firebase-functions/v2/https";
import { onTaskDispatched } from "firebase-functions/v2/tasks";
import { CALLABLE_OPTIONS, verifiedCaller } from "../access/caller";
import { ALL_SECRETS } from "../config";
import { EXPORT_TASK_DEADLINE_SECONDS, EXPORT_TASK_MAX_ATTEMPTS } from "../exports/queue";
import { ExportRefusedError, requestExport as request, runExportTask } from "../exports/run";
import { exportDeps } from "../exports/runtime";

/** { } → { exportId }; refused (failed-precondition, one sentence) while an export is in progress. */
export const requestExport = onCall(CALLABLE_OPTIONS, async (req) => {
  const uid = await verifiedCaller(req, "Sign in to download your data.");
  try {
    return await request(exportDeps(), uid);
  } catch (e) {
    if (e instanceof ExportRefusedError) throw new HttpsError("failed-precondition", e.message);
    throw e;
  }
});

/** Builds an export (`build`) or deletes it once expired (`expire`); payload { uid, exportId, action }. */
export const exportData = onTaskDispatched(
  {
    retryConfig: { maxAttempts: EXPORT_TASK_MAX_ATTEMPTS, minBackoffSeconds: 30, maxBackoffSeconds: 600 },
    // Exports are rare and each reads a person's whole history: a few at a time.
    rateLimits: { maxDispatchesPerSecond: 5, maxConcurrentDispatches: 5 },
    secrets: ALL_SECRETS,
    timeoutSeconds: EXPORT_TASK_DEADLINE_SECONDS,
    memory: "512MiB",
  },
  async (req) => {
    await runExportTask(exportDeps(), req.data, { retryCount: req.retryCount });
  },
);
