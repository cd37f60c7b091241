/**
 * Retention of the raw play log (PLAY_RETENTION_DAYS, default 0 = keep forever): plays older than
 * the cutoff are deleted, the month aggregates are kept, so the charts still show those months.
 * A rebuild (npm run rebuild-stats) after trimming would recompute only what the log still holds.
 */
import type { Firestore } from "firebase-admin/firestore";
import { Timestamp } from "firebase-admin/firestore";
import { firestorePaths } from "../paths";

/** Deletes up to `limit` plays of `uid` played before `cutoff`, oldest first; returns how many. */
export async function trimPlays(db: Firestore, uid: string, cutoff: Date, limit: number): Promise<number> {
  if (!Number.isInteger(limit) || limit <= 0) return 0;
  const page = await db
    .collection(firestorePaths.plays(uid))
    .where("playedAt", "<", Timestamp.fromDate(cutoff))
    .orderBy("playedAt")
    .limit(limit)
    .select()
    .get();
  for (let i = 0; i < page.docs.length; i += 400) {
    const batch = db.batch();
    for (const d of page.docs.slice(i, i + 400)) batch.delete(d.ref);
    await batch.commit();
  }
  return page.size;
}

/** The cutoff for a retention of `days` days at `now`, or null when plays are kept forever (0). */
export function retentionCutoff(now: Date, days: number): Date | null {
  return days > 0 ? new Date(now.getTime() - days * 86_400_000) : null;
}
