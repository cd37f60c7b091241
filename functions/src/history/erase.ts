/**
 * A person deletes part of their listening history: the plays of a date range, of an artist, or
 * of an artist inside a date range (the web app's "Delete history…", the `eraseHistory` callable).
 *
 * - Days are the person's (profile `settings.timeZone`), both ends included, as the charts count them.
 * - An artist's plays are the plays whose `artists[].id` lists it. A play of several artists is one
 *   document and is deleted whole (its other artists lose that play too): keeping it with the artist
 *   struck from its list would make the log say something that did not happen.
 * - Where to look: the month aggregates (`play_stats`) say which months hold plays (of the artist),
 *   so only those months' plays are read (Firestore cannot query `array-contains` on one field of
 *   the objects in `artists`). The matching is done in code.
 *
 * Each month is one transaction (more when it holds more than ERASE_PER_COMMIT matches): read the
 * month aggregate and the month's plays, delete the matching ones, write the month recounted from
 * the plays left (deleted when none are). The sync adds plays to a month in a transaction that
 * reads and writes the same aggregate (playLog.ts applyPlaysInTransaction), so the two serialize on
 * that document: a play logged meanwhile is either in the log this transaction reads, or added by
 * the sync to the recounted aggregate after it. The log and the aggregates never disagree, and a
 * run that stops halfway leaves every month consistent; running it again finishes the work.
 *
 * A month whose aggregate counts more plays than the log holds (PLAY_RETENTION_DAYS trimmed the raw
 * plays, the aggregates kept them) is not recounted, which would drop the trimmed plays from the
 * charts: the deleted plays are subtracted from it instead (their first / last listens stay).
 *
 * The connection's `recentPlayIds` stay, so the next sync, reading the same recently-played window,
 * takes a deleted play for one already logged and does not log it again. An import of the same
 * export, however, would add the deleted plays back.
 */
import { type Firestore, FieldPath, type QueryDocumentSnapshot, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { InvalidInputError } from "../errors";
import { logs } from "../logs";
import { firestorePaths } from "../paths";
import { CATALOG, PROVIDERS, type ProviderId, providerName } from "../providers/catalog";
import { addPlaysToMonths, localSlot, parseMonthStats } from "./aggregates";
import { ConnectionHistory, type MonthStats, type Play, PlayDoc, monthDocId } from "./model";
import { addDays, dayOf, monthOf } from "./read";
import { playOfDoc } from "./rebuild";
import { timeZoneOf } from "./timeZone";

/** The providers that keep a play log (their catalog entry has `plays`). */
export const ERASABLE_PROVIDERS: readonly ProviderId[] = CATALOG.filter((e) => "plays" in e && e.plays).map(
  (e) => e.id,
);

const NOT_ERASABLE = `Listening history can only be deleted for ${ERASABLE_PROVIDERS.map(providerName).join(" and ")}.`;

/** Plays deleted per transaction (each a write, plus the month's). */
export const ERASE_PER_COMMIT = 400;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

function isCalendarDay(s: string): boolean {
  const m = DAY.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1970 && t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

const day = (which: string) =>
  z
    .string({ error: `The ${which} day must be a date written YYYY-MM-DD.` })
    .refine(isCalendarDay, { error: (i) => `${JSON.stringify(i.input)} is not a date written YYYY-MM-DD.` });

/** What to delete, as the callable receives it. */
export const EraseRequest = z
  .strictObject(
    {
      provider: z
        .enum(PROVIDERS as [ProviderId, ...ProviderId[]], { error: NOT_ERASABLE })
        .refine((p) => ERASABLE_PROVIDERS.includes(p), { error: NOT_ERASABLE }),
      from: day("first").optional(),
      to: day("last").optional(),
      artistId: z
        .string({ error: "The artist must be given by its id." })
        .min(1, { error: "The artist must be given by its id." })
        .max(300, { error: "That artist id is too long." })
        .optional(),
    },
    { error: "Say which plays to delete with provider, from, to and artistId only." },
  )
  .superRefine((r, ctx) => {
    if (r.from === undefined && r.to === undefined && r.artistId === undefined)
      ctx.addIssue({ code: "custom", message: "Say which plays to delete: a date range, an artist, or both." });
    if (r.from !== undefined && r.to !== undefined && r.from > r.to)
      ctx.addIssue({ code: "custom", message: `The first day (${r.from}) is after the last day (${r.to}).` });
  });
export type EraseRequest = z.infer<typeof EraseRequest>;

/** The request, checked; a refusal is an InvalidInputError with one sentence. */
export function parseEraseRequest(input: unknown): EraseRequest {
  const r = EraseRequest.safeParse(input ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const msg = issue?.message && !/^Invalid input/.test(issue.message) ? issue.message : "That request is not valid.";
    throw new InvalidInputError(msg);
  }
  return r.data;
}

export interface EraseResult {
  /** Plays deleted from the log. */
  deleted: number;
  /** The month aggregates rewritten or deleted (`spotify-2026-03`), sorted. */
  months: string[];
}

const HOUR = 3_600_000;

/** The first instant (unix ms) of a local day in `timeZone`. */
export function startOfDay(d: string, timeZone: string): number {
  const m = DAY.exec(d);
  if (!m) throw new InvalidInputError(`Invalid day ${JSON.stringify(d)}.`);
  const utcMidnight = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Offsets run from −12 h to +14 h: 15 h either side brackets the local midnight. Zones change
  // offset on whole seconds, so the search runs on seconds.
  let lo = utcMidnight - 15 * HOUR; // local day before `d`
  let hi = utcMidnight + 15 * HOUR; // local day `d` or after
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (dayOf(new Date(mid), timeZone) >= d) hi = mid;
    else lo = mid;
  }
  return hi;
}

const nextMonth = (month: string) => addDays(`${month}-28`, 7).slice(0, 7);

/**
 * Deletes the plays `input` names from `users/{uid}/plays` and brings the month aggregates along.
 * Returns how many plays went and which months changed.
 */
export async function eraseHistory(db: Firestore, uid: string, input: unknown, now: Date): Promise<EraseResult> {
  const req = parseEraseRequest(input);
  const timeZone = await timeZoneOf(db, uid);
  const provider = req.provider;

  // The months to look in: those with an aggregate (listing the artist), inside the range. A play
  // in a month without an aggregate is one the log and the aggregates disagree on: rebuild-stats first.
  const prefix = `${provider}-`;
  const stats = db.collection(firestorePaths.playStats(uid));
  const artistField = req.artistId === undefined ? null : new FieldPath("artists", req.artistId);
  const listed = await (artistField ? stats.select(artistField) : stats.select()).get();
  const inRange = (month: string) =>
    (req.from === undefined || month >= req.from.slice(0, 7)) && (req.to === undefined || month <= req.to.slice(0, 7));
  const months = listed.docs
    .filter((d) => d.id.startsWith(prefix) && (!artistField || d.get(artistField) !== undefined))
    .map((d) => d.id.slice(prefix.length))
    .filter((m) => /^\d{4}-\d{2}$/.test(m) && inRange(m))
    .sort();
  const matches = (p: Play): boolean => {
    if (p.provider !== provider) return false;
    if (req.from !== undefined || req.to !== undefined) {
      const d = dayOf(p.playedAt, timeZone);
      if ((req.from !== undefined && d < req.from) || (req.to !== undefined && d > req.to)) return false;
    }
    return req.artistId === undefined || p.artists.some((a) => a.id === req.artistId);
  };

  let deleted = 0;
  let deletedSynced = 0;
  const changed = new Set<string>();
  for (const month of months) {
    for (;;) {
      const r = await eraseInMonth(db, uid, provider, month, timeZone, matches, now);
      deleted += r.deleted;
      deletedSynced += r.deletedSynced;
      if (r.changed) changed.add(monthDocId(provider, month));
      if (!r.more) break;
    }
  }
  if (deletedSynced > 0) await uncount(db, uid, provider, deletedSynced);

  // Counts only: which artist or days were deleted is personal.
  logs.info("history.erased", {
    uid,
    provider,
    byArtist: req.artistId !== undefined,
    byDate: req.from !== undefined || req.to !== undefined,
    deleted,
    months: changed.size,
  });
  return { deleted, months: [...changed].sort() };
}

interface MonthPass {
  deleted: number;
  deletedSynced: number;
  changed: boolean;
  /** More matches remain in the month (over ERASE_PER_COMMIT): run again. */
  more: boolean;
}

/** One transaction on one month: delete up to ERASE_PER_COMMIT matching plays, recount the month. */
async function eraseInMonth(
  db: Firestore,
  uid: string,
  provider: ProviderId,
  month: string,
  timeZone: string,
  matches: (p: Play) => boolean,
  now: Date,
): Promise<MonthPass> {
  const id = monthDocId(provider, month);
  const monthRef = db.doc(firestorePaths.playStatsMonth(uid, id));
  const start = Timestamp.fromMillis(startOfDay(`${month}-01`, timeZone));
  const end = Timestamp.fromMillis(startOfDay(`${nextMonth(month)}-01`, timeZone));
  const playsOfMonth = db
    .collection(firestorePaths.plays(uid))
    .where("playedAt", ">=", start)
    .where("playedAt", "<", end);

  return db.runTransaction(async (tx): Promise<MonthPass> => {
    const [stored, log] = await Promise.all([tx.get(monthRef), tx.get(playsOfMonth)]);
    const kept: Play[] = [];
    const gone: { doc: QueryDocumentSnapshot; play: Play }[] = [];
    let more = false;
    for (const doc of log.docs) {
      const parsed = PlayDoc.safeParse(doc.data());
      if (!parsed.success) continue; // not a play: neither counted nor deleted (rebuild-stats skips it too)
      const play = playOfDoc(parsed.data);
      if (play.provider !== provider || monthOf(play.playedAt, timeZone) !== month) continue;
      if (matches(play) && gone.length < ERASE_PER_COMMIT) gone.push({ doc, play });
      else {
        if (matches(play)) more = true;
        kept.push(play);
      }
    }
    if (gone.length === 0) return { deleted: 0, deletedSynced: 0, changed: false, more: false };
    const current = stored.exists ? parseMonthStats(stored.data()) : null;

    for (const g of gone) tx.delete(g.doc.ref);
    const logged = kept.length + gone.length;
    let next: MonthStats | null;
    if (current && current.plays > logged) {
      // The log lacks plays the aggregate counts (trimmed by retention): take away only the deleted ones.
      next = subtractPlays(
        current,
        gone.map((g) => g.play),
        timeZone,
      );
    } else {
      next = recount(kept, timeZone, id);
    }
    if (next && next.plays > 0) tx.set(monthRef, { ...next, updatedAt: Timestamp.fromDate(now) });
    else if (stored.exists) tx.delete(monthRef);
    return {
      deleted: gone.length,
      deletedSynced: gone.filter((g) => g.doc.get("source") === "sync").length,
      changed: true,
      more,
    };
  });
}

function recount(plays: Play[], timeZone: string, id: string): MonthStats | null {
  const months = new Map<string, MonthStats>();
  addPlaysToMonths(months, plays, timeZone);
  return months.get(id) ?? null;
}

/**
 * The month without these plays: counts, minutes, days, grid, tracks and artists reduced; a track
 * or an artist left with no play goes. First and last listens are kept as they were.
 */
export function subtractPlays(m: MonthStats, plays: Play[], timeZone: string): MonthStats {
  const copy = <T extends { days: Record<string, number> }>(r: Record<string, T>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { ...v, days: { ...v.days } }]));
  const out: MonthStats = {
    ...m,
    days: Object.fromEntries(Object.entries(m.days).map(([k, v]) => [k, { ...v }])),
    grid: { ...m.grid },
    artists: copy(m.artists),
    tracks: copy(m.tracks),
  };
  const less = (r: Record<string, number>, k: string) => {
    const v = (r[k] ?? 0) - 1;
    if (v > 0) r[k] = v;
    else delete r[k];
  };
  const take = (
    r: Record<string, { plays: number; ms: number; days: Record<string, number> }>,
    k: string,
    p: Play,
    dd: string,
  ) => {
    const s = r[k];
    if (!s) return;
    s.plays -= 1;
    s.ms = Math.max(0, s.ms - p.durationMs);
    less(s.days, dd);
    if (s.plays <= 0) delete r[k];
  };
  for (const p of plays) {
    const slot = localSlot(p.playedAt, timeZone);
    out.plays = Math.max(0, out.plays - 1);
    out.ms = Math.max(0, out.ms - p.durationMs);
    const d = out.days[slot.dd];
    if (d) {
      d.plays -= 1;
      d.ms = Math.max(0, d.ms - p.durationMs);
      if (d.plays <= 0) delete out.days[slot.dd];
    }
    less(out.grid, slot.gridKey);
    take(out.tracks, p.trackId, p, slot.dd);
    for (const a of new Set(p.artists.map((x) => x.id).filter(Boolean))) take(out.artists, a, p, slot.dd);
  }
  return out;
}

/** Takes deleted synced plays off the connection's `history.plays`; its `recentPlayIds` stay. */
async function uncount(db: Firestore, uid: string, provider: ProviderId, n: number): Promise<void> {
  const ref = db.doc(firestorePaths.connection(uid, provider));
  await db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const parsed = snap.exists ? ConnectionHistory.safeParse(snap.get("history")) : null;
    if (!parsed?.success) return;
    tx.update(ref, { "history.plays": Math.max(0, parsed.data.plays - n) });
  });
}
