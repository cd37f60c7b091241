/**
 * The production dependencies of the sync engine, assembled from the process's config and the
 * admin services. Call inside handlers (never at module load): getConfig() checks every setting.
 */
import { bucket, db, isEmulated, projectId, taskQueueService } from "../admin";
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
import { PauseCache } from "./providerPause";
import { type QueueRatePort, recordOnlyQueueRate } from "./queueRate";
import type { RetentionDeps } from "./retention";
import type { SyncDeps } from "./runSync";
import { firebaseTaskQueue } from "./taskQueue";

/** The process's reads of provider pauses, shared by every sync it serves (PROVIDER_PAUSE_CACHE_SECONDS). */
let processPauses: { ttl: number; cache: PauseCache } | undefined;
function pauseCache(config: Config): PauseCache | undefined {
  if (config.PROVIDER_PAUSE_CACHE_SECONDS === 0) return undefined;
  if (processPauses?.ttl !== config.PROVIDER_PAUSE_CACHE_SECONDS)
    processPauses = {
      ttl: config.PROVIDER_PAUSE_CACHE_SECONDS,
      cache: new PauseCache(db(), config.PROVIDER_PAUSE_CACHE_SECONDS),
    };
  return processPauses.cache;
}

export function syncDeps(config: Config = getConfig()): SyncDeps {
  const pauses = pauseCache(config);
  return {
    ...(pauses ? { pauses } : {}),
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
  // The Tasks emulator has no updateQueue: locally the adaptive rate is only recorded.
  const project = projectId();
  const queueRate = isEmulated() || !project ? recordOnlyQueueRate : lazyCloudTasksQueueRate(project);
  return { db: db(), queue: firebaseTaskQueue(taskQueueService()), clock: systemClock, config, queueRate };
}

/** @google-cloud/tasks (gRPC) is loaded on the first adjustment only, not by every function's cold start. */
function lazyCloudTasksQueueRate(projectId: string): QueueRatePort {
  let port: Promise<QueueRatePort> | undefined;
  return {
    async setRate(provider, perSecond) {
      port ??= import("./queueAdmin").then((m) => m.cloudTasksQueueRate({ projectId }));
      await (await port).setRate(provider, perSecond);
    },
  };
}

export function retentionDeps(): RetentionDeps {
  return { db: db(), eraser: new FirestoreStorageEraser(db(), bucket()), now: () => systemClock.now() };
}

export function manualSyncDeps(config: Config = getConfig()): ManualSyncDeps {
  return { db: db(), queue: firebaseTaskQueue(taskQueueService()), clock: systemClock, config };
}
