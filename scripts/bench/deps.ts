/** The sync engine's production dependencies, with the bench's counters around the Storage port. */
import { bucket, db } from "../../functions/src/admin";
import type { Config } from "../../functions/src/config";
import { ownAppStoreFromConfig } from "../../functions/src/apps/store";
import { tokenStoreFromConfig } from "../../functions/src/crypto/tokenStore";
import { FirestoreStorageEraser } from "../../functions/src/oauth/disconnect";
import { getProvider } from "../../functions/src/providers/registry";
import { bucketBlobStore } from "../../functions/src/sync/blobStore";
import { type Clock, systemClock } from "../../functions/src/sync/ports";
import { providerDownload } from "../../functions/src/sync/runtime";
import type { SyncDeps } from "../../functions/src/sync/runSync";
import type { ProviderId } from "../../functions/src/providers/catalog";
import { FAKES, type Stats } from "../fake-providers";
import { type StorageCounts, countingBlobStore } from "./instrument";

export function benchSyncDeps(config: Config, storage: StorageCounts, clock: Clock = systemClock): SyncDeps {
  return {
    db: db(),
    clock,
    config,
    tokens: tokenStoreFromConfig(),
    apps: ownAppStoreFromConfig(),
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

/**
 * Splits the fake's counters (keyed "provider:endpoint") by the kind of route each endpoint is
 * (the provider's fake declares it): CDN files, the data API, and the rest (consent pages and
 * token endpoints) as token requests. `only` keeps one provider's.
 */
export function providerRequests(s: Stats, only?: ProviderId): ProviderRequests {
  const out: ProviderRequests = { api: 0, token: 0, cdn: 0, rateLimited: s.rateLimited };
  for (const [key, n] of Object.entries(s.byEndpoint)) {
    const i = key.indexOf(":");
    const provider = key.slice(0, i) as ProviderId;
    const endpoint = key.slice(i + 1);
    if (only && provider !== only) continue;
    const kind = FAKES[provider]?.endpoints[endpoint] ?? "api";
    if (kind === "cdn") out.cdn += n;
    else if (kind === "api") out.api += n;
    else out.token += n;
  }
  return out;
}
