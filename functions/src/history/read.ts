/**
 * Pure readers of the month aggregates (`users/{uid}/play_stats/{provider}-{YYYY-MM}`, layout in
 * history/model.ts MonthStats): minutes per day, top artists and tracks of any date range, first
 * and last listens, the hour × weekday grid.
 *
 * The web app bundles this module, so it imports nothing node-only and no firebase SDK: times are
 * anything with `toMillis()` (an Admin or a web SDK Timestamp), days are "YYYY-MM-DD" strings in
 * the person's time zone (the zone the aggregates were counted in).
 */
import { wallClock } from "../time";

/** A Timestamp of either SDK. */
export interface Millis {
  toMillis(): number;
}

/** The parts of a month aggregate the readers use (MonthStats of history/model.ts fits). */
export interface MonthView {
  provider: string;
  /** "2026-12" */
  month: string;
  plays: number;
  ms: number;
  days: Record<string, { plays: number; ms: number }>;
  grid: Record<string, number>;
  artists: Record<
    string,
    { name: string; plays: number; ms: number; first: Millis; last: Millis; days: Record<string, number> }
  >;
  tracks: Record<
    string,
    {
      name: string;
      artists: string;
      albumName: string | null;
      plays: number;
      ms: number;
      first: Millis;
      last: Millis;
      days: Record<string, number>;
    }
  >;
}

const pad = (n: number) => String(n).padStart(2, "0");
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The local month ("2026-12") of an instant in `timeZone`. */
export function monthOf(at: Date, timeZone: string): string {
  const w = wallClock(at, timeZone);
  return `${w.year}-${pad(w.month)}`;
}

/** Whether Intl knows the IANA zone ("Europe/Paris"); the profile allows 1–64 characters. */
export function isTimeZone(value: unknown): value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > 64) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** The local day ("2026-12-02") of an instant in `timeZone`. */
export function dayOf(at: Date, timeZone: string): string {
  const w = wallClock(at, timeZone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`;
}

function parseDay(day: string): { year: number; month: number; day: number } {
  const m = DAY.exec(day);
  if (!m) throw new Error(`Invalid day ${JSON.stringify(day)}: expected YYYY-MM-DD.`);
  return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
}

/** The calendar day `n` days after `day` (n may be negative). */
export function addDays(day: string, n: number): string {
  const d = parseDay(day);
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + n));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

/** Every day from `fromDay` to `toDay`, both included (empty when from > to). */
export function daysBetween(fromDay: string, toDay: string): string[] {
  const out: string[] = [];
  for (let d = fromDay; d <= toDay; d = addDays(d, 1)) out.push(d);
  return out;
}

/** The months ("2026-12") a day range touches: the month documents to read for it. */
export function monthsCovering(fromDay: string, toDay: string): string[] {
  parseDay(fromDay);
  parseDay(toDay);
  const out: string[] = [];
  let { year, month } = parseDay(fromDay);
  const last = toDay.slice(0, 7);
  for (;;) {
    const id = `${year}-${pad(month)}`;
    if (id > last) break;
    out.push(id);
    month++;
    if (month > 12) {
      month = 1;
      year++;
    }
  }
  return out;
}

/** Iterates the (day, value) entries of a month's `days` map that fall inside the range. */
function* daysInRange<T>(m: MonthView, days: Record<string, T>, fromDay: string, toDay: string) {
  for (const [dd, value] of Object.entries(days)) {
    const day = `${m.month}-${dd}`;
    if (day >= fromDay && day <= toDay) yield [day, value] as const;
  }
}

export interface DayTotal {
  day: string;
  plays: number;
  ms: number;
  /** ms / 60,000, to one decimal. */
  minutes: number;
}

/** Plays and minutes listened on every day of the range (days without plays included, as 0), all providers summed. */
export function minutesPerDay(months: Iterable<MonthView>, fromDay: string, toDay: string): DayTotal[] {
  const totals = new Map<string, { plays: number; ms: number }>();
  for (const m of months) {
    for (const [day, v] of daysInRange(m, m.days, fromDay, toDay)) {
      const t = totals.get(day) ?? { plays: 0, ms: 0 };
      t.plays += v.plays;
      t.ms += v.ms;
      totals.set(day, t);
    }
  }
  return daysBetween(fromDay, toDay).map((day) => {
    const t = totals.get(day) ?? { plays: 0, ms: 0 };
    return { day, plays: t.plays, ms: t.ms, minutes: Math.round(t.ms / 6_000) / 10 };
  });
}

export type TopKind = "artists" | "tracks";

export interface TopEntry {
  id: string;
  name: string;
  /** Plays inside the range. */
  plays: number;
  /** Tracks: the artists' names and the album (the newest month's); artists: null. */
  artists: string | null;
  albumName: string | null;
}

/**
 * The `n` artists or tracks played most inside the day range (from the per-day counts of each
 * month), most plays first; ties by name, then id, so the order is stable.
 */
export function topInRange(
  months: Iterable<MonthView>,
  fromDay: string,
  toDay: string,
  kind: TopKind,
  n: number,
): TopEntry[] {
  const byId = new Map<string, TopEntry & { month: string }>();
  for (const m of months) {
    for (const [id, s] of Object.entries(m[kind])) {
      let plays = 0;
      for (const [, count] of daysInRange(m, s.days, fromDay, toDay)) plays += count;
      if (plays === 0) continue;
      const e = byId.get(id);
      const track = kind === "tracks" ? (s as MonthView["tracks"][string]) : null;
      if (!e) {
        byId.set(id, {
          id,
          name: s.name,
          plays,
          artists: track?.artists ?? null,
          albumName: track?.albumName ?? null,
          month: m.month,
        });
      } else {
        e.plays += plays;
        if (m.month > e.month) {
          // Names can change at the provider: the newest month's wins.
          e.name = s.name;
          e.artists = track?.artists ?? null;
          e.albumName = track?.albumName ?? null;
          e.month = m.month;
        }
      }
    }
  }
  return [...byId.values()]
    .sort((a, b) => b.plays - a.plays || a.name.localeCompare(b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, Math.max(0, n))
    .map(({ month: _month, ...e }) => e);
}

export interface FirstLast {
  name: string;
  /** Unix ms of the first and the last play. */
  first: number;
  last: number;
  /** Plays across the months given. */
  plays: number;
}

/** The first and last listen of an artist or a track over the months given; null if never played in them. */
export function firstLast(months: Iterable<MonthView>, kind: TopKind, id: string): FirstLast | null {
  let out: (FirstLast & { month: string }) | null = null;
  for (const m of months) {
    const s = Object.prototype.hasOwnProperty.call(m[kind], id) ? m[kind][id] : undefined;
    if (!s) continue;
    const first = s.first.toMillis();
    const last = s.last.toMillis();
    if (!out) {
      out = { name: s.name, first, last, plays: s.plays, month: m.month };
      continue;
    }
    out.first = Math.min(out.first, first);
    out.last = Math.max(out.last, last);
    out.plays += s.plays;
    if (m.month > out.month) {
      out.name = s.name;
      out.month = m.month;
    }
  }
  if (!out) return null;
  const { month: _month, ...rest } = out;
  return rest;
}

/** Weekday 0 = Monday … 6 = Sunday, hour 0–23: plays summed over the months given. */
export function gridOf(months: Iterable<MonthView>): number[][] {
  const grid = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 0));
  for (const m of months) {
    for (const [key, count] of Object.entries(m.grid)) {
      const match = /^([0-6])-(\d{1,2})$/.exec(key);
      if (!match) continue;
      const hour = Number(match[2]);
      if (hour > 23) continue;
      grid[Number(match[1])]![hour]! += count;
    }
  }
  return grid;
}
