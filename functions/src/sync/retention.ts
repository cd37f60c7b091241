/**
 * Data that may not be kept forever: a provider whose catalog `dataPolicy.maxAgeDays` is set
 * (YouTube: its developer policies allow Authorized Data to be kept 30 days unless refreshed) has
 * its synced data deleted once the connection's last successful sync is older than that — a
 * connection that needs re-auth (the grant was revoked or expired), is paused or keeps failing
 * stops being refreshed, so its data goes. The connection document stays (status, history), with
 * `dataExpiredAt` saying when and why its data went; the next successful sync brings data back.
 *
 * Runs after each fan-out. Reads only connections past the age (one collection-group query per
 * such provider, index provider + lastSuccessAt), and skips those already expired since their
 * last success, so a steady state costs one query.
 */
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { logs } from "../logs";
import type { ProviderDataEraser } from "../oauth/disconnect";
import { CONNECTIONS, type Provider, parseConnectionPath } from "../paths";
import { CATALOG, type ProviderId, catalogEntry } from "../providers/catalog";
import { errorSummary } from "./policy";

export interface RetentionDeps {
  db: Firestore;
  eraser: ProviderDataEraser;
  now: () => Date;
}

export interface RetentionResult {
  provider: Provider;
  /** Connections whose last success is older than the provider's maxAgeDays. */
  stale: number;
  /** Of those, the ones whose data was deleted now. */
  expired: number;
  documents: number;
  objects: number;
  failed: number;
}

/** The providers with a maximum data age. */
export function providersWithMaxAge(): ProviderId[] {
  return CATALOG.filter((e) => "dataPolicy" in e && e.dataPolicy !== undefined).map((e) => e.id);
}

export async function expireStaleData(deps: RetentionDeps, provider: ProviderId): Promise<RetentionResult> {
  const policy = catalogEntry(provider).dataPolicy;
  const result: RetentionResult = { provider, stale: 0, expired: 0, documents: 0, objects: 0, failed: 0 };
  if (!policy) return result;
  const now = deps.now();
  const cutoff = Timestamp.fromMillis(now.getTime() - policy.maxAgeDays * 86_400_000);
  const stale = await deps.db
    .collectionGroup(CONNECTIONS)
    .where("provider", "==", provider)
    .where("lastSuccessAt", "<", cutoff)
    .get();
  for (const doc of stale.docs) {
    const at = parseConnectionPath(doc.ref.path);
    if (!at) continue;
    result.stale++;
    const lastSuccess = doc.get("lastSuccessAt") as Timestamp | undefined;
    const expiredAt = doc.get("dataExpiredAt") as Timestamp | null | undefined;
    if (expiredAt && lastSuccess && expiredAt.toMillis() >= lastSuccess.toMillis()) continue;
    try {
      const documents = await deps.eraser.eraseDocuments(at.uid, provider);
      const objects = await deps.eraser.eraseObjects(at.uid, provider);
      // The image mirror's manifest goes with the objects (the next sync, if any, lists the folder).
      await doc.ref.update({ dataExpiredAt: Timestamp.fromDate(now), mirror: null, snapshotHashes: null });
      result.expired++;
      result.documents += documents;
      result.objects += objects;
    } catch (e) {
      result.failed++;
      logs.error("sync.retention_failed", { uid: at.uid, provider, error: errorSummary(e) });
    }
  }
  if (result.stale > 0) logs.info("sync.retention", { ...result, maxAgeDays: policy.maxAgeDays });
  return result;
}
