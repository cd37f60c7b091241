/**
 * The month aggregates of the play log (MonthStats, history/model.ts), computed from plays. Pure:
 * the sync adds a commit's new plays to the month documents it read (incremental), the rebuild
 * command recomputes every month from the log; both go through addPlaysToMonths, so the two
 * agree by construction (the unit tests check it).
 *
 * A play counts in the month and on the day of its `playedAt` in the person's time zone; the grid
 * key is "{weekday}-{hour}" local, weekday 0 = Monday … 6 = Sunday.
 */
import { Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { PROVIDERS } from "../paths";
import { wallClock } from "../time";
import { type MonthStats, type Play, monthDocId } from "./model";
import { dayOf, monthOf } from "./read";

export { dayOf, monthOf };

const pad = (n: number) => String(n).padStart(2, "0");

/** Where a play falls in the person's time zone. */
export function localSlot(at: Date, timeZone: string): { month: string; dd: string; gridKey: string } {
  const w = wallClock(at, timeZone);
  // 0 = Monday: getUTCDay of the local calendar date is 0 = Sunday.
  const weekday = (new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay() + 6) % 7;
  return { month: `${w.year}-${pad(w.month)}`, dd: pad(w.day), gridKey: `${weekday}-${w.hour}` };
}

export function emptyMonth(provider: MonthStats["provider"], month: string, timeZone: string): MonthStats {
  return { provider, month, timeZone, plays: 0, ms: 0, days: {}, grid: {}, artists: {}, tracks: {} };
}

const laterOf = (a: Timestamp, b: Timestamp) => (b.toMillis() > a.toMillis() ? b : a);
const earlierOf = (a: Timestamp, b: Timestamp) => (b.toMillis() < a.toMillis() ? b : a);

/**
 * Adds plays to the month aggregates in `months` (keyed by month document id, `spotify-2026-12`),
 * creating the months they need. Names (of a track, an artist, an album) are the ones of the
 * newest play, so the order plays are added in does not matter. Returns the ids of the months
 * that changed. The caller must not pass a play twice: the play log dedupes before adding.
 */
export function addPlaysToMonths(months: Map<string, MonthStats>, plays: Play[], timeZone: string): Set<string> {
  const changed = new Set<string>();
  for (const p of plays) {
    const slot = localSlot(p.playedAt, timeZone);
    const id = monthDocId(p.provider, slot.month);
    let m = months.get(id);
    if (!m) {
      m = emptyMonth(p.provider, slot.month, timeZone);
      months.set(id, m);
    }
    changed.add(id);
    const at = Timestamp.fromDate(p.playedAt);
    const ms = p.durationMs;
    m.plays += 1;
    m.ms += ms;
    const day = (m.days[slot.dd] ??= { plays: 0, ms: 0 });
    day.plays += 1;
    day.ms += ms;
    m.grid[slot.gridKey] = (m.grid[slot.gridKey] ?? 0) + 1;

    const t = m.tracks[p.trackId];
    const artistNames = p.artists.map((a) => a.name).join(", ");
    if (!t) {
      m.tracks[p.trackId] = {
        name: p.trackName,
        artists: artistNames,
        albumName: p.albumName,
        plays: 1,
        ms,
        first: at,
        last: at,
        days: { [slot.dd]: 1 },
      };
    } else {
      if (at.toMillis() >= t.last.toMillis()) {
        t.name = p.trackName;
        t.artists = artistNames;
        t.albumName = p.albumName;
      }
      t.plays += 1;
      t.ms += ms;
      t.first = earlierOf(t.first, at);
      t.last = laterOf(t.last, at);
      t.days[slot.dd] = (t.days[slot.dd] ?? 0) + 1;
    }

    // An artist listed twice on a track counts once for it.
    const seen = new Set<string>();
    for (const artist of p.artists) {
      // Local files carry artists without an id: they have no stable key to count under.
      if (!artist.id || seen.has(artist.id)) continue;
      seen.add(artist.id);
      const a = m.artists[artist.id];
      if (!a) {
        m.artists[artist.id] = { name: artist.name, plays: 1, ms, first: at, last: at, days: { [slot.dd]: 1 } };
      } else {
        if (at.toMillis() >= a.last.toMillis()) a.name = artist.name;
        a.plays += 1;
        a.ms += ms;
        a.first = earlierOf(a.first, at);
        a.last = laterOf(a.last, at);
        a.days[slot.dd] = (a.days[slot.dd] ?? 0) + 1;
      }
    }
  }
  return changed;
}

/** Every month aggregate of these plays, from nothing (the rebuild command). */
export function rebuildMonths(plays: Play[], timeZone: string): Map<string, MonthStats> {
  const months = new Map<string, MonthStats>();
  addPlaysToMonths(months, plays, timeZone);
  return months;
}

const timestamp = z.instanceof(Timestamp);
const counts = z.record(z.string(), z.number().int().nonnegative());

/** A stored month aggregate (its `updatedAt` aside), validated when the sync or the rebuild reads it. */
export const MonthStatsDoc = z.object({
  provider: z.enum(PROVIDERS),
  month: z.string().regex(/^\d{4}-\d{2}$/),
  timeZone: z.string().min(1),
  plays: z.number().int().nonnegative(),
  ms: z.number().int().nonnegative(),
  days: z.record(z.string(), z.object({ plays: z.number().int().nonnegative(), ms: z.number().int().nonnegative() })),
  grid: counts,
  artists: z.record(
    z.string(),
    z.object({
      name: z.string(),
      plays: z.number().int().nonnegative(),
      ms: z.number().int().nonnegative(),
      first: timestamp,
      last: timestamp,
      days: counts,
    }),
  ),
  tracks: z.record(
    z.string(),
    z.object({
      name: z.string(),
      artists: z.string(),
      albumName: z.string().nullable(),
      plays: z.number().int().nonnegative(),
      ms: z.number().int().nonnegative(),
      first: timestamp,
      last: timestamp,
      days: counts,
    }),
  ),
});

/** A month document's data as MonthStats (its `updatedAt` dropped), or null when it is malformed. */
export function parseMonthStats(data: unknown): MonthStats | null {
  const parsed = MonthStatsDoc.safeParse(data);
  return parsed.success ? parsed.data : null;
}

/**
 * The aggregate as plain values (Timestamps as unix ms), so a stored month and a recomputed one
 * compare with a deep equality regardless of key order.
 */
export function comparable(m: MonthStats): unknown {
  const times = <T extends { first: Timestamp; last: Timestamp }>(r: Record<string, T>) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, { ...v, first: v.first.toMillis(), last: v.last.toMillis() }]),
    );
  return { ...m, artists: times(m.artists), tracks: times(m.tracks) };
}
