/**
 * The listening-history charts' data, from the month aggregates (`play_stats`) and the daily
 * points (`history`) as Firestore hands them to the web app. Pure (no DOM, no SDK), so the unit
 * tests check it (functions/test/unit/web-history.test.ts). The sums, ranges and top lists are
 * functions/src/history/read.ts, shared with the server; this file reads documents defensively
 * into its shapes and turns them into chart series and sentences.
 */
import type { MonthView } from "../../../functions/src/history/read";
import { addDays, daysBetween, monthsCovering } from "../../../functions/src/history/read";
import { isObj, num, str } from "../fields";

/** The minutes chart's ranges, in days ending today. */
export const DAY_RANGES = [30, 90, 365] as const;
export type DayRange = (typeof DAY_RANGES)[number];

/** The longest range the dashboard follows live: its months are what the live query reads. */
export const LIVE_DAYS = 365;

export interface DayRangeSpan {
  from: string;
  to: string;
}

/** The `days` days ending `today` (both "YYYY-MM-DD"), today included. */
export function lastDays(today: string, days: number): DayRangeSpan {
  return { from: addDays(today, -(days - 1)), to: today };
}

/** The first and last month ("2026-12") the live window of `today` covers (≤ 13 months). */
export function liveMonths(today: string): { first: string; last: string } {
  const months = monthsCovering(lastDays(today, LIVE_DAYS).from, today);
  return { first: months[0]!, last: months[months.length - 1]! };
}

const MONTH = /^\d{4}-\d{2}$/;
const DD = /^\d{2}$/;
type Millis = { toMillis(): number };
const isMillis = (v: unknown): v is Millis => isObj(v) && typeof (v as { toMillis?: unknown }).toMillis === "function";

function counts(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (isObj(v)) for (const [k, n] of Object.entries(v)) if (num(n) !== null) out[k] = n as number;
  return out;
}

/**
 * A `play_stats` month document as the readers take it; null when it is not one (a field the
 * readers need is missing). Odd entries inside (an artist without play times) are skipped.
 */
export function readMonth(data: unknown): MonthView | null {
  if (!isObj(data)) return null;
  const month = str(data.month);
  const provider = str(data.provider);
  if (!month || !MONTH.test(month) || !provider) return null;
  const days: MonthView["days"] = {};
  if (isObj(data.days))
    for (const [dd, v] of Object.entries(data.days))
      if (DD.test(dd) && isObj(v)) days[dd] = { plays: num(v.plays) ?? 0, ms: num(v.ms) ?? 0 };
  const entries = <T>(v: unknown, read: (e: Record<string, unknown>) => T | null): Record<string, T> => {
    const out: Record<string, T> = {};
    if (isObj(v))
      for (const [id, e] of Object.entries(v)) {
        const r = isObj(e) ? read(e) : null;
        if (r) out[id] = r;
      }
    return out;
  };
  const common = (e: Record<string, unknown>) =>
    isMillis(e.first) && isMillis(e.last)
      ? {
          name: str(e.name) ?? "(no name)",
          plays: num(e.plays) ?? 0,
          ms: num(e.ms) ?? 0,
          first: e.first,
          last: e.last,
          days: counts(e.days),
        }
      : null;
  return {
    provider,
    month,
    plays: num(data.plays) ?? 0,
    ms: num(data.ms) ?? 0,
    days,
    grid: counts(data.grid),
    artists: entries(data.artists, common),
    tracks: entries(data.tracks, (e) => {
      const c = common(e);
      return c ? { ...c, artists: str(e.artists) ?? "", albumName: str(e.albumName) } : null;
    }),
  };
}

/** A `history` month document: the daily points by day ("2026-12-02"). */
export interface PointMonth {
  month: string;
  days: Record<string, Record<string, unknown>>;
}

export function readPointMonth(data: unknown): PointMonth | null {
  if (!isObj(data)) return null;
  const month = str(data.month);
  if (!month || !MONTH.test(month)) return null;
  const days: PointMonth["days"] = {};
  if (isObj(data.days)) for (const [dd, p] of Object.entries(data.days)) if (DD.test(dd) && isObj(p)) days[dd] = p;
  return { month, days };
}

/** One value per day of the range (null: no point that day), from the daily points. */
export function pointSeries(
  months: Iterable<PointMonth>,
  span: DayRangeSpan,
  pick: (point: Record<string, unknown>) => number | null,
): { day: string; value: number | null }[] {
  const byDay = new Map<string, number | null>();
  for (const m of months) for (const [dd, p] of Object.entries(m.days)) byDay.set(`${m.month}-${dd}`, pick(p));
  return daysBetween(span.from, span.to).map((day) => ({ day, value: byDay.get(day) ?? null }));
}

/** The newest point of the months (by day), or null. */
export function latestPoint(months: Iterable<PointMonth>): { day: string; point: Record<string, unknown> } | null {
  let best: { day: string; point: Record<string, unknown> } | null = null;
  for (const m of months)
    for (const [dd, point] of Object.entries(m.days)) {
      const day = `${m.month}-${dd}`;
      if (!best || day > best.day) best = { day, point };
    }
  return best;
}

/** Unix seconds of a day's UTC midnight: the charts' x values (drawn in UTC, so the day stays the person's day). */
export function dayToSeconds(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) / 1000;
}

/** Artists and tracks whose name (or, for tracks, artists) contains `q`, most plays first. */
export function searchNames(
  months: Iterable<MonthView>,
  q: string,
  n: number,
): { kind: "artists" | "tracks"; id: string; name: string; detail: string | null; plays: number }[] {
  const needle = q.trim().toLocaleLowerCase();
  if (!needle) return [];
  const found = new Map<
    string,
    { kind: "artists" | "tracks"; id: string; name: string; detail: string | null; plays: number }
  >();
  for (const m of months) {
    for (const kind of ["artists", "tracks"] as const) {
      for (const [id, s] of Object.entries(m[kind])) {
        const detail = kind === "tracks" ? (s as MonthView["tracks"][string]).artists : null;
        if (!`${s.name} ${detail ?? ""}`.toLocaleLowerCase().includes(needle)) continue;
        const key = `${kind}/${id}`;
        const e = found.get(key);
        if (e) e.plays += s.plays;
        else found.set(key, { kind, id, name: s.name, detail, plays: s.plays });
      }
    }
  }
  return [...found.values()].sort((a, b) => b.plays - a.plays || a.name.localeCompare(b.name)).slice(0, n);
}

/** A gap the sync detected on a connection (`lastHistoryGap`), as times. */
export interface GapView {
  after: Date;
  before: Date;
  detectedAt: Date | null;
}

const when = (d: Date, timeZone: string) =>
  d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short", timeZone });

/**
 * The gap in words: "Some plays between … and … may be missing: more than 50 plays happened
 * between two syncs." `window` is the provider's recently-played window (how many plays it keeps).
 */
export function gapWords(gap: GapView, window: number, timeZone: string): string {
  return `Some plays between ${when(gap.after, timeZone)} and ${when(gap.before, timeZone)} may be missing: more than ${window} plays happened between two syncs.`;
}

/** "1 h 05 min", "42 min", "0 min" from minutes. */
export function formatMinutes(minutes: number): string {
  const m = Math.round(minutes);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** "Mon" … "Sun" for weekday 0 = Monday … 6 = Sunday (the grid's order). */
export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;

/** The grid's share of its largest cell (0..1), for the heatmap's shading. */
export function gridLevels(grid: number[][]): number[][] {
  const max = Math.max(0, ...grid.flat());
  return grid.map((row) => row.map((v) => (max > 0 ? v / max : 0)));
}
