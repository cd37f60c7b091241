/**
 * Recomputes a person's month aggregates from the play log (npm run rebuild-stats): for repairs,
 * and after a change of the time zone the days are counted in. Not the normal path: the sync
 * keeps the aggregates up to date in the transaction that logs the plays.
 *
 * The log is read in pages through a query cursor (only the month aggregates accumulate in
 * memory). Each recomputed month is compared with the stored one; with `check`, nothing is
 * written and the differing months are reported; otherwise differing months are replaced and
 * months the log no longer has plays for are deleted.
 *
 * A play logged while a rebuild runs may be missed by it: run it again, or with `check`, after.
 */
import { isDeepStrictEqual } from "node:util";
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { firestorePaths } from "../paths";
import { addPlaysToMonths, comparable, parseMonthStats } from "./aggregates";
import { type MonthStats, type Play, PlayDoc } from "./model";
import { timeZoneOf } from "./timeZone";

export interface RebuildResult {
  uid: string;
  /** Plays read from the log. */
  plays: number;
  /** Month aggregates the log implies. */
  months: number;
  /** Month ids whose stored aggregate differed (rewritten, or deleted when the log has no play of that month). */
  changed: string[];
  timeZone: string;
  /** Play documents that are not valid plays (skipped). */
  invalid: number;
  /** Whether anything was written (false with `check`). */
  written: boolean;
}

export const REBUILD_PAGE_SIZE = 1000;

export function playOfDoc(d: PlayDoc): Play {
  return {
    provider: d.provider,
    playedAt: d.playedAt.toDate(),
    trackId: d.trackId,
    trackName: d.trackName,
    artists: d.artists,
    albumId: d.albumId,
    albumName: d.albumName,
    durationMs: d.durationMs,
    context: d.context,
  };
}

export async function rebuildStats(
  db: Firestore,
  uid: string,
  opts: { check: boolean; now?: Date; pageSize?: number },
): Promise<RebuildResult> {
  const timeZone = await timeZoneOf(db, uid);
  const months = new Map<string, MonthStats>();
  let plays = 0;
  let invalid = 0;
  const base = db
    .collection(firestorePaths.plays(uid))
    .orderBy("__name__")
    .limit(opts.pageSize ?? REBUILD_PAGE_SIZE);
  let page = await base.get();
  while (!page.empty) {
    const batch: Play[] = [];
    for (const doc of page.docs) {
      const parsed = PlayDoc.safeParse(doc.data());
      if (parsed.success) batch.push(playOfDoc(parsed.data));
      else invalid++;
    }
    addPlaysToMonths(months, batch, timeZone);
    plays += batch.length;
    if (page.size < (opts.pageSize ?? REBUILD_PAGE_SIZE)) break;
    page = await base.startAfter(page.docs[page.docs.length - 1]!).get();
  }

  const changed: string[] = [];
  const stats = db.collection(firestorePaths.playStats(uid));
  for (const [id, m] of months) {
    const stored = await db.doc(firestorePaths.playStatsMonth(uid, id)).get();
    const current = stored.exists ? parseMonthStats(stored.data()) : null;
    if (!current || !isDeepStrictEqual(comparable(current), comparable(m))) changed.push(id);
  }
  const storedIds = (await stats.select().get()).docs.map((d) => d.id);
  const stale = storedIds.filter((id) => !months.has(id));
  changed.push(...stale);
  changed.sort();

  if (!opts.check && changed.length > 0) {
    const updatedAt = Timestamp.fromDate(opts.now ?? new Date());
    // One month at a time: a month document can be large, and there are few of them (12 a year).
    for (const id of changed) {
      const ref = db.doc(firestorePaths.playStatsMonth(uid, id));
      const m = months.get(id);
      if (m) await ref.set({ ...m, updatedAt });
      else await ref.delete();
    }
  }
  return { uid, plays, months: months.size, changed, timeZone, invalid, written: !opts.check && changed.length > 0 };
}
