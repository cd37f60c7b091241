/**
 * The production dependencies of exports, from the process's config and the admin services. Call
 * inside handlers (never at module load): getConfig() checks every setting.
 */
import { bucket, db, taskQueueService } from "../admin";
import { type Config, getConfig } from "../config";
import { firebaseExportQueue } from "./queue";
import type { ExportDeps } from "./run";

export function exportDeps(config: Config = getConfig()): ExportDeps {
  return {
    db: db(),
    bucket: bucket(),
    queue: firebaseExportQueue(taskQueueService()),
    now: () => new Date(),
    config,
  };
}
