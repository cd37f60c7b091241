/**
 * The production dependencies of the sync engine, assembled from the process's config and the
 * admin services. Call inside handlers (never at module load): getConfig() checks every setting.
 */
import { bucket, db, taskQueueService } from "../admin";
import { type Config, getConfig } from "../config";
import { ownAppStoreFromConfig } from "../apps/store";
import { tokenStoreFromConfig } from "../crypto/tokenStore";
import { downloadFile } from "../http/download";
import { FirestoreStorageEraser } from "../oauth/disconnect";
import { downloadPolicy } from "../providers/descriptor";
import { getProvider, PROVIDER_DESCRIPTORS } from "../providers/registry";
import { bucketBlobStore } from "./blobStore";
import type { FanOutDeps } from "./fanOut";
import type { ManualSyncDeps } from "./manual";
import type { Download } from "./mirror";
import { systemClock } from "./ports";
import type { RetentionDeps } from "./retention";
import type { SyncDeps } from "./runSync";
import { firebaseTaskQueue } from "./taskQueue";

export function syncDeps(config: Config = getConfig()): SyncDeps {
  return {
    db: db(),
    clock: systemClock,
    config,
    tokens: tokenStoreFromConfig(),
    apps: ownAppStoreFromConfig(),
    provider: getProvider,
    blobs: bucketBlobStore(bucket()),
    download: providerDownload(config),
    eraser: new FirestoreStorageEraser(db(), bucket()),
  };
}

/** The mirror's Download port: downloadFile under the download rules of the item's provider. */
export function providerDownload(config: Config): Download {
  return (url, { provider, ...opts }) =>
    downloadFile(config, url, { ...opts, policy: downloadPolicy(PROVIDER_DESCRIPTORS[provider], config) });
}

export function fanOutDeps(config: Config = getConfig()): FanOutDeps {
  return { db: db(), queue: firebaseTaskQueue(taskQueueService()), clock: systemClock, config };
}

export function retentionDeps(): RetentionDeps {
  return { db: db(), eraser: new FirestoreStorageEraser(db(), bucket()), now: () => systemClock.now() };
}

export function manualSyncDeps(config: Config = getConfig()): ManualSyncDeps {
  return { db: db(), queue: firebaseTaskQueue(taskQueueService()), clock: systemClock, config };
}
