/**
 * The play log: what a sync read from a provider's recently-played list becomes one document per
 * play in `users/{uid}/plays/{playId}`, with the month aggregates and the connection's `history`
 * updated in the same transaction — so the aggregates never disagree with the log, and a run that
 * lost its lease (fenced by `lease.holder`) writes nothing.
 *
 * Dedupe without reads in the normal case: the connection keeps the ids of the RECENT_IDS newest
 * logged plays. A play read is new when its id is not among them and it is newer than the oldest
 * of them; only a play at or before that (a late play older than the list, or the first sync of a
 * connection, which has no list yet) costs a read of its document. Reading the same window twice
 * therefore writes nothing at all.
 *
 * Gap: when the provider says its window came back full and every play read is newer than the
 * newest play logged before, plays between the two may have been lost (more arrived between two
 * syncs than the window holds). The connection records it as `lastHistoryGap` and counts it in
 * `historyGaps`.
 */
import {
  FieldValue,
  type DocumentReference,
  type Firestore,
  Timestamp,
  type Transaction,
} from "firebase-admin/firestore";
import { InvalidInputError } from "../errors";
import { logs } from "../logs";
import { type Provider, firestorePaths } from "../paths";
import { leaseHeldBy } from "../sync/lease";
import { isSyncable } from "../sync/policy";
import { addPlaysToMonths, parseMonthStats } from "./aggregates";
import {
  ConnectionHistory,
  type HistoryGap,
  type MonthStats,
  type Play,
  RECENT_IDS,
  monthDocId,
  playDoc,
  playId,
} from "./model";
import { monthOf } from "./read";
import { isTimeZone } from "./timeZone";

export { timeZoneOf } from "./timeZone";

export interface PlayCommitArgs {
  uid: string;
  provider: Provider;
  /** The run holding the connection's lease; another holder means this run was overtaken. */
  runId: string;
  /** What the fetch read (any order, may include already-logged ones and repeats). */
  plays: Play[];
  /** The provider says whether the read came back full (older plays may be gone); null: no gap check. */
  gapCheck: { fullWindow: boolean } | null;
  now: Date;
  timeZone: string;
}

/**
 * When the connection's history (as read with the lease) already lists every valid play read, or
 * none was read, the read's commit as duplicates only: ids join recentPlayIds only once logged, so
 * nothing is new and nothing needs commitPlays' transaction, or the person's time zone. Null when
 * a play may be new.
 */
export function knownPlays(known: ConnectionHistory | null | undefined, plays: readonly Play[]): PlayCommit | null {
  const ids = new Set(known?.recentPlayIds ?? []);
  const unique = new Set<string>();
  for (const p of plays) {
    let id: string;
    try {
      id = playId(p);
    } catch {
      continue; // an invalid play is never logged (commitPlays counts it)
    }
    if (!ids.has(id)) return null;
    unique.add(id);
  }
  return {
    kind: "committed",
    logged: 0,
    duplicates: unique.size,
    gap: null,
    newest: known?.newestPlayedAt?.toDate() ?? null,
  };
}

export type PlayCommit =
  | { kind: "committed"; logged: number; duplicates: number; gap: HistoryGap | null; newest: Date | null }
  | { kind: "superseded" };

/** Plays per transaction: each is one create, plus its months and the connection, well under 500 writes. */
export const PLAYS_PER_COMMIT = 200;

/** A connection's history before its first logged play. */
export function emptyHistory(): ConnectionHistory {
  return { newestPlayedAt: null, recentPlayIds: [], plays: 0, lastNewPlayAt: null, lastPointDay: null };
}

/** The play time (unix ms) a play id carries (`spotify-1764650000000-…`), or null. */
export function playedAtOfId(id: string): number | null {
  const m = /^[^-]+-(\d+)-/.exec(id);
  return m ? Number(m[1]) : null;
}

/** Newest first by the play time in the id, then by id, so the order is total. */
function newestFirst(a: string, b: string): number {
  return (playedAtOfId(b) ?? 0) - (playedAtOfId(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Logs the plays a sync read: one transaction per PLAYS_PER_COMMIT plays (one in practice),
 * each fenced by the lease. 0 new plays: nothing is written.
 */
export async function commitPlays(db: Firestore, a: PlayCommitArgs): Promise<PlayCommit> {
  if (!a.runId) throw new InvalidInputError("commitPlays needs the run id holding the lease.");
  if (!isTimeZone(a.timeZone)) throw new InvalidInputError(`Unknown time zone ${JSON.stringify(a.timeZone)}.`);
  const unique = new Map<string, Play>();
  let invalid = 0;
  for (const p of a.plays) {
    let id: string;
    try {
      if (p.provider !== a.provider) throw new InvalidInputError("A play of another provider.");
      id = playId(p);
    } catch {
      invalid++;
      continue;
    }
    unique.set(id, p);
  }
  // Counts only: track names and ids are personal.
  if (invalid > 0) logs.warn("history.plays_invalid", { uid: a.uid, provider: a.provider, runId: a.runId, invalid });
  const plays = [...unique.entries()].sort(
    ([ia, pa], [ib, pb]) => pa.playedAt.getTime() - pb.playedAt.getTime() || (ia < ib ? -1 : 1),
  );

  let logged = 0;
  let duplicates = 0;
  let gap: HistoryGap | null = null;
  let newest: Date | null = null;
  const oldestRead = plays[0]?.[1].playedAt ?? null;
  for (let i = 0; i === 0 || i < plays.length; i += PLAYS_PER_COMMIT) {
    const chunk = plays.slice(i, i + PLAYS_PER_COMMIT);
    const args = { ...a, chunk, gapCheck: i === 0 ? a.gapCheck : null, oldestRead };
    let r: ChunkResult;
    try {
      r = await commitChunk(db, args, false);
    } catch (e) {
      // A play the id list did not know but the log holds (logged another way, e.g. an import):
      // the create failed and wrote nothing. Once more, reading every unknown play first.
      if (!isAlreadyExists(e)) throw e;
      r = await commitChunk(db, args, true);
    }
    if (r.kind === "superseded") return r;
    logged += r.logged;
    duplicates += r.duplicates;
    gap ??= r.gap;
    newest = r.newest;
  }
  return { kind: "committed", logged, duplicates, gap, newest };
}

type ChunkResult = Extract<PlayCommit, { kind: "committed" }> | { kind: "superseded" };

async function commitChunk(
  db: Firestore,
  a: PlayCommitArgs & { chunk: [string, Play][]; oldestRead: Date | null },
  checkAll: boolean,
): Promise<ChunkResult> {
  const connRef = db.doc(firestorePaths.connection(a.uid, a.provider));
  return db.runTransaction(async (tx): Promise<ChunkResult> => {
    const snap = await tx.get(connRef);
    if (!snap.exists) return { kind: "superseded" };
    const data = snap.data() as { status?: unknown; history?: unknown };
    if (!leaseHeldBy(data, a.runId)) return { kind: "superseded" };
    if (typeof data.status !== "string" || !isSyncable(data.status as never)) return { kind: "superseded" };
    const parsed = data.history === undefined ? null : ConnectionHistory.safeParse(data.history);
    const known = parsed?.success ? parsed.data : null;
    const history = known ?? emptyHistory();
    const ids = new Set(history.recentPlayIds);
    const oldestKept = history.recentPlayIds.reduce<number | null>((min, id) => {
      const ms = playedAtOfId(id);
      return ms === null ? min : min === null ? ms : Math.min(min, ms);
    }, null);

    const toCheck: [string, Play][] = [];
    const fresh: [string, Play][] = [];
    let duplicates = 0;
    for (const entry of a.chunk) {
      const [id, p] = entry;
      if (ids.has(id)) duplicates++;
      else if (checkAll || !known || oldestKept === null || p.playedAt.getTime() <= oldestKept) toCheck.push(entry);
      else fresh.push(entry);
    }
    const seenLogged: string[] = [];
    if (toCheck.length > 0) {
      const refs = toCheck.map(([id]) => db.doc(firestorePaths.play(a.uid, id)));
      const docs = await tx.getAll(...refs);
      docs.forEach((d, k) => {
        const entry = toCheck[k]!;
        if (d.exists) {
          duplicates++;
          seenLogged.push(entry[0]);
        } else fresh.push(entry);
      });
    }
    const newestBefore = history.newestPlayedAt;
    if (fresh.length === 0) {
      return { kind: "committed", logged: 0, duplicates, gap: null, newest: newestBefore?.toDate() ?? null };
    }

    const newPlays = fresh.map(([, p]) => p);
    await applyPlaysInTransaction(tx, db, a.uid, newPlays, a.timeZone, a.now);
    for (const [id, p] of fresh) tx.create(db.doc(firestorePaths.play(a.uid, id)), playDoc(p, "sync", a.now));

    const newestMs = Math.max(newestBefore?.toMillis() ?? 0, ...newPlays.map((p) => p.playedAt.getTime()));
    const recent = [...new Set([...history.recentPlayIds, ...seenLogged, ...fresh.map(([id]) => id)])]
      .sort(newestFirst)
      .slice(0, RECENT_IDS);
    const now = Timestamp.fromDate(a.now);
    const next: ConnectionHistory = {
      newestPlayedAt: Timestamp.fromMillis(newestMs),
      recentPlayIds: recent,
      plays: history.plays + fresh.length,
      lastNewPlayAt: now,
      lastPointDay: history.lastPointDay,
    };
    const update: Record<string, unknown> = { history: next };
    let gap: HistoryGap | null = null;
    if (a.gapCheck?.fullWindow && newestBefore && a.oldestRead && a.oldestRead.getTime() > newestBefore.toMillis()) {
      gap = { after: newestBefore, before: Timestamp.fromDate(a.oldestRead), detectedAt: now };
      update.lastHistoryGap = gap;
      update.historyGaps = FieldValue.increment(1);
    }
    tx.update(connRef, update);
    return { kind: "committed", logged: fresh.length, duplicates, gap, newest: next.newestPlayedAt!.toDate() };
  });
}

function isAlreadyExists(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 6 || code === "already-exists" || code === "ALREADY_EXISTS";
}

/**
 * Adds new plays to their month aggregates inside a transaction: reads the months they fall in
 * (in `timeZone`), adds, writes each changed month. The caller has already deduped the plays and
 * writes the play documents itself (source "sync" or "import"), after this — a transaction reads
 * before it writes. Returns the changed month ids.
 */
export async function applyPlaysInTransaction(
  tx: Transaction,
  db: Firestore,
  uid: string,
  plays: Play[],
  timeZone: string,
  now: Date = new Date(),
): Promise<Set<string>> {
  if (plays.length === 0) return new Set();
  const ids = [...new Set(plays.map((p) => monthDocId(p.provider, monthOf(p.playedAt, timeZone))))];
  const refs: DocumentReference[] = ids.map((id) => db.doc(firestorePaths.playStatsMonth(uid, id)));
  const snaps = await tx.getAll(...refs);
  const months = new Map<string, MonthStats>();
  snaps.forEach((s, k) => {
    if (!s.exists) return;
    const m = parseMonthStats(s.data());
    if (!m) {
      throw new InvalidInputError(
        `The listening aggregate ${ids[k]} is malformed; repair it with \`npm run rebuild-stats -- --uid ${uid}\`.`,
      );
    }
    months.set(ids[k]!, m);
  });
  const changed = addPlaysToMonths(months, plays, timeZone);
  const updatedAt = Timestamp.fromDate(now);
  for (const id of changed) {
    tx.set(db.doc(firestorePaths.playStatsMonth(uid, id)), { ...months.get(id)!, updatedAt });
  }
  return changed;
}
