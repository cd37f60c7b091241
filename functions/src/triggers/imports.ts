/**
 * Importing Spotify's streaming history from the web app (thin triggers):
 *
 *   imports        onRequest         /api/imports/** (Hosting rewrite): start, parts, finish (imports/upload.ts)
 *   importHistory  onTaskDispatched  one step of an import (imports/task.ts)
 *
 * The real Auth, App Check, Storage and task queue are built here; config is read inside handlers.
 */
import { getAppCheck } from "firebase-admin/app-check";
import type { Functions } from "firebase-admin/functions";
import { onRequest } from "firebase-functions/v2/https";
import { onTaskDispatched } from "firebase-functions/v2/tasks";
import { authIdTokenVerifier } from "../access/authVerifier";
import { appCheckAllowed } from "../access/caller";
import { adminApp, bucket, db, taskQueueService } from "../admin";
import { ALL_SECRETS, getConfig, params } from "../config";
import { logs } from "../logs";
import { bucketParts, runImportTask } from "../imports/task";
import { type EnqueueImportTask, type ImportTaskPayload, handleImportsRequest } from "../imports/upload";
import { isTaskAlreadyExists } from "../sync/taskQueue";

/** The queue's function name (index.ts exports it under this name). */
export const IMPORT_QUEUE = "importHistory";
/** One import step may run this long; IMPORT_TASK_BUDGET_SECONDS stays below it. */
export const IMPORT_TASK_TIMEOUT_SECONDS = 540;

const now = () => new Date();

function importQueue(functions: Functions): EnqueueImportTask {
  return async (payload: ImportTaskPayload, id: string) => {
    try {
      await functions
        .taskQueue<ImportTaskPayload>(IMPORT_QUEUE)
        .enqueue(payload, { id, dispatchDeadlineSeconds: IMPORT_TASK_TIMEOUT_SECONDS });
      return "enqueued";
    } catch (e) {
      if (isTaskAlreadyExists(e)) return "duplicate";
      throw e;
    }
  };
}

/** Per instance: the signature per request, revocation state per uid at most once a minute. */
const verifyIdToken = authIdTokenVerifier();

export const imports = onRequest(
  {
    invoker: "public",
    // Concurrency above 1 needs a whole CPU; 20 parts of 4 MiB in flight fit in 512 MiB.
    cpu: 1,
    memory: "512MiB",
    concurrency: 20,
    maxInstances: params.HTTP_MAX_INSTANCES,
    secrets: ALL_SECRETS,
  },
  async (req, res) => {
    try {
      const config = getConfig();
      const out = await handleImportsRequest(
        {
          db: db(),
          parts: bucketParts(bucket()),
          enqueue: importQueue(taskQueueService()),
          now,
          verifyIdToken,
          appCheck: (token) => appCheckAllowed(config, token, (t) => getAppCheck(adminApp()).verifyToken(t)),
        },
        {
          method: req.method,
          path: req.path,
          query: req.query as Record<string, unknown>,
          headers: req.headers,
          body: req.body as unknown,
          rawBody: req.rawBody,
        },
      );
      res.status(out.status);
      for (const [k, v] of Object.entries(out.headers)) res.setHeader(k, v);
      if (out.body !== undefined) res.send(out.body);
      else res.end();
    } catch (e) {
      logs.error("imports.failed", { error: e });
      if (!res.headersSent)
        res
          .status(503)
          .setHeader("Cache-Control", "no-store")
          .json({ message: "The upload could not be stored right now; try again in a moment." });
    }
  },
);

/** Thrown so Cloud Tasks retries the step (it resumes from the job's checkpoint). */
class RetryLater extends Error {}

export const importHistory = onTaskDispatched(
  {
    retryConfig: { maxAttempts: 5, minBackoffSeconds: 30, maxBackoffSeconds: 600, maxDoublings: 4 },
    rateLimits: { maxConcurrentDispatches: 20 },
    secrets: ALL_SECRETS,
    timeoutSeconds: IMPORT_TASK_TIMEOUT_SECONDS,
    memory: "2GiB",
  },
  async (req) => {
    const config = getConfig();
    try {
      await runImportTask(
        {
          db: db(),
          parts: bucketParts(bucket()),
          enqueue: importQueue(taskQueueService()),
          now,
          budgetMs: config.IMPORT_TASK_BUDGET_SECONDS * 1000,
        },
        req.data,
      );
    } catch (e) {
      logs.error("imports.task_failed", { error: e, retryCount: req.retryCount });
      throw new RetryLater("The import step failed; Cloud Tasks will retry it from the checkpoint.");
    }
  },
);
