/**
 * The production dependencies of the sync engine, assembled from the process's config and the
 * admin services. Call inside handlers (never at module load): getConfig() checks every setting.
 */
import { bucket, db, taskQueueService } from "../admin";
import { type Config, getConfig } from "../config";
import { tokenStoreFromConfig } from "../crypto/tokenStore";
import { downloadFile } from "../http/download";
import { FirestoreStorageEraser } from "../oauth/disconnect";
import { getProvider } from "../providers/registry";
import { bucketBlobStore } from "./blobStore";
import type { FanOutDeps } from "./fanOut";
import type { ManualSyncDeps } from "./manual";
import { systemClock } from "./ports";
import type { SyncDeps } from "./runSync";
import { firebaseTaskQueue } from "./taskQueue";

export function syncDeps(config: Config = getConfig()): SyncDeps {
  return {
    db: db(),
    clock: systemClock,
    config,
    tokens: tokenStoreFromConfig(),
    provider: getProvider,
    blobs: bucketBlobStore(bucket()),
    download: (url, opts) => downloadFile(config, url, opts),
    eraser: new FirestoreStorageEraser(db(), bucket()),
  };
}

export function fanOutDeps(config: Config = getConfig()): FanOutDeps {
  return { db: db(), queue: firebaseTaskQueue(taskQueueService()), clock: systemClock, config };
}

export function manualSyncDeps(config: Config = getConfig()): ManualSyncDeps {
  return { db: db(), queue: firebaseTaskQueue(taskQueueService()), clock: systemClock, config };
}
