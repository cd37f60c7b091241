/** The sync engine's production dependencies, with the bench's counters around the Storage port. */
import { bucket, db } from "../../functions/src/admin";
import type { Config } from "../../functions/src/config";
import { tokenStoreFromConfig } from "../../functions/src/crypto/tokenStore";
import { FirestoreStorageEraser } from "../../functions/src/oauth/disconnect";
import { getProvider } from "../../functions/src/providers/registry";
import { bucketBlobStore } from "../../functions/src/sync/blobStore";
import { type Clock, systemClock } from "../../functions/src/sync/ports";
import { providerDownload } from "../../functions/src/sync/runtime";
import type { SyncDeps } from "../../functions/src/sync/runSync";
import type { Stats } from "../fake-providers";
import { type StorageCounts, countingBlobStore } from "./instrument";

export function benchSyncDeps(config: Config, storage: StorageCounts, clock: Clock = systemClock): SyncDeps {
  return {
    db: db(),
    clock,
    config,
    tokens: tokenStoreFromConfig(),
    provider: getProvider,
    blobs: countingBlobStore(bucketBlobStore(bucket()), storage),
    download: providerDownload(config),
    eraser: new FirestoreStorageEraser(db(), bucket()),
  };
}

/** Provider requests seen by the fake server, split by kind. */
export interface ProviderRequests {
  api: number;
  token: number;
  cdn: number;
  rateLimited: number;
}

const NOT_API = new Set(["authorize", "token", "access_token", "refresh_access_token", "cdn"]);

export function providerRequests(s: Stats, only?: "spotify" | "instagram"): ProviderRequests {
  const out: ProviderRequests = { api: 0, token: 0, cdn: 0, rateLimited: s.rateLimited };
  for (const [key, n] of Object.entries(s.byEndpoint)) {
    const [provider, endpoint] = key.split(":") as [string, string];
    if (only && provider !== only) continue;
    if (endpoint === "cdn") out.cdn += n;
    else if (NOT_API.has(endpoint)) out.token += n;
    else out.api += n;
  }
  return out;
}
