/**
 * Fake Spotify's listening: the plays an account makes on the fake clock, and the window of
 * recently-played that the Web API shows of them.
 *
 * Three sources of plays, merged:
 * - the fixed plays of the 3 days before the account was made (`recentlyPlayed`, as always);
 * - the simulation (`listening` spec option, off by default): from the account's creation, hour
 *   k (k = 0 starts at the creation time) holds about `playsPerHour` plays (each hour 0.5–1.5 ×
 *   that, from the seed); when k + 1 is a multiple of `burstEveryHours` the hour holds
 *   `burstPlays` instead (a skipping session: more than 50 an hour); when k + 1 is a multiple of
 *   `lateEveryHours` the hour was listened offline: its plays keep their `played_at` but appear
 *   only `lateDelayHours` after the hour ends;
 * - explicit plays a test adds (the `listen` control operation), each with its own `visibleAt`.
 *
 * Every hour is computed from (seed, k) alone, so nothing is stored per hour: the same seed on
 * the same clock gives the same plays, whatever was asked before. Plays are at least 30 s apart
 * (shorter plays do not count on Spotify), whatever the track's duration: skips.
 *
 * The window follows Spotify's rules (docs "Recently played" of the provider notes): only the
 * latest 50 plays exist, by `played_at` among the plays visible now; a late play visible after
 * 50 newer ones is never shown.
 */
import { z } from "../../../functions/node_modules/zod";
import { rngFor } from "../data";

export const HOUR_MS = 3_600_000;
/** Spotify keeps the latest 50 plays. */
export const WINDOW_SIZE = 50;
/** Plays shorter than 30 s do not count: simulated plays are at least this far apart. */
const MIN_GAP_MS = 30_000;
/** The most plays an hour can hold, 30 s apart. */
export const MAX_PLAYS_PER_HOUR = HOUR_MS / MIN_GAP_MS;
/** Tracks the simulation picks from (the `trackKey`s "0" … "199"). */
export const CATALOGUE_SIZE = 200;
/** Explicit plays an account keeps (tests build scenarios far smaller). */
export const MAX_EXPLICIT_PLAYS = 100_000;

const count = (max: number) => z.number().int().min(0).max(max);
const hours = z
  .number()
  .int()
  .min(1)
  .max(24 * 366);

/** The `listening` option of a Spotify account spec. */
export const ListeningSpec = z
  .strictObject({
    /** Mean plays per hour, 0–120. */
    playsPerHour: z.number().min(0).max(MAX_PLAYS_PER_HOUR),
    /** Every this many hours, a burst hour (with burstPlays; default 60 plays). */
    burstEveryHours: hours.optional(),
    burstPlays: count(MAX_PLAYS_PER_HOUR).optional(),
    /** Every this many hours, an offline hour whose plays appear lateDelayHours (default 2) after it ends. */
    lateEveryHours: hours.optional(),
    lateDelayHours: z
      .number()
      .min(0)
      .max(24 * 30)
      .optional(),
  })
  .refine((s) => s.burstPlays === undefined || s.burstEveryHours !== undefined, {
    message: '"burstPlays" needs "burstEveryHours".',
  })
  .refine((s) => s.lateDelayHours === undefined || s.lateEveryHours !== undefined, {
    message: '"lateDelayHours" needs "lateEveryHours".',
  });
export type ListeningSpec = z.infer<typeof ListeningSpec>;

const isoTime = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && Number.isFinite(Date.parse(s)), "must be an ISO date-time")
  .transform((s) => Date.parse(s));

/** One play of the `listen` operation. */
export const ListenPlay = z
  .strictObject({
    /** The same key always plays the same track; "0" … "199" are the simulation's catalogue. */
    trackKey: z.string().min(1).max(200).optional(),
    playedAt: isoTime,
    /** When it appears in recently-played (default: playedAt); never before playedAt. */
    visibleAt: isoTime.optional(),
  })
  .refine((p) => p.visibleAt === undefined || p.visibleAt >= p.playedAt, {
    message: '"visibleAt" must not be before "playedAt".',
  });
export const ListenPlays = z.array(ListenPlay).max(10_000);

/** Shows a zod error as one sentence. */
export function problem(e: z.ZodError, what: string): string {
  const i = e.issues[0]!;
  const at = i.path.length > 0 ? ` at ${i.path.join(".")}` : "";
  return `${what}${at}: ${i.message}`;
}

/** One play, as the fake keeps it. */
export interface FakePlay {
  playedAtMs: number;
  visibleAtMs: number;
  /** Names the track: account.track(trackKey). */
  trackKey: string;
  /** Set for the fixed pre-creation plays: their index and playlist (their own context rules). */
  fixed?: { index: number; playlist: number | undefined };
}

/** Orders plays newest first (ties: by track key, so the order is stable). */
export const newestFirst = (a: FakePlay, b: FakePlay) =>
  b.playedAtMs - a.playedAtMs || (a.trackKey < b.trackKey ? -1 : a.trackKey > b.trackKey ? 1 : 0);

/** The catalogue track key an rng picks, skewed towards the first tracks (favourites). */
export function catalogueKey(r: number): string {
  return `lib-${Math.floor(CATALOGUE_SIZE * r * r)}`;
}

/** A `trackKey` of the control API as the account's track key. */
export const keyOf = (trackKey: string) => `lib-${trackKey}`;

/** The simulation of one account: hour by hour, from (seed, start). */
export class Listening {
  readonly burstEvery: number | undefined;
  readonly burstPlays: number;
  readonly lateEvery: number | undefined;
  readonly lateDelayMs: number;

  constructor(
    private readonly seed: number,
    /** Hour 0 starts here (the account's creation). */
    readonly startMs: number,
    readonly spec: ListeningSpec,
  ) {
    this.burstEvery = spec.burstEveryHours;
    this.burstPlays = spec.burstPlays ?? 60;
    this.lateEvery = spec.lateEveryHours;
    this.lateDelayMs = (spec.lateDelayHours ?? 2) * HOUR_MS;
  }

  /** The hour index a time falls in (negative before the start). */
  hourOf(ms: number): number {
    return Math.floor((ms - this.startMs) / HOUR_MS);
  }

  isBurst(k: number): boolean {
    return this.burstEvery !== undefined && (k + 1) % this.burstEvery === 0;
  }

  isLate(k: number): boolean {
    return this.lateEvery !== undefined && (k + 1) % this.lateEvery === 0;
  }

  /** The plays of hour k (k ≥ 0), oldest first. */
  hour(k: number): FakePlay[] {
    if (k < 0) return [];
    const rng = rngFor(this.seed, "listening", k);
    const jitter = rng.next();
    const n = this.isBurst(k)
      ? this.burstPlays
      : Math.min(MAX_PLAYS_PER_HOUR, Math.round(this.spec.playsPerHour * (0.5 + jitter)));
    if (n === 0) return [];
    const start = this.startMs + k * HOUR_MS;
    const visibleAtMs = this.isLate(k) ? start + HOUR_MS + this.lateDelayMs : undefined;
    // n slots of at least 30 s; each play at most (slot − 30 s) into its slot: ≥ 30 s apart.
    const slot = HOUR_MS / n;
    const slack = Math.floor(slot) - MIN_GAP_MS + 1;
    const out: FakePlay[] = [];
    for (let i = 0; i < n; i++) {
      const playedAtMs = start + Math.floor(i * slot) + rng.int(slack);
      out.push({ playedAtMs, visibleAtMs: visibleAtMs ?? playedAtMs, trackKey: catalogueKey(rng.next()) });
    }
    return out;
  }

  /**
   * The newest simulated plays visible at `nowMs`, newest first: at least `want` of them when
   * that many exist (walking back hour by hour; older hours cannot hold newer plays).
   */
  visibleNewest(nowMs: number, want: number): FakePlay[] {
    const out: FakePlay[] = [];
    for (let k = this.hourOf(nowMs); k >= 0 && out.length < want; k--) {
      const plays = this.hour(k).filter((p) => p.playedAtMs <= nowMs && p.visibleAtMs <= nowMs);
      for (let i = plays.length - 1; i >= 0; i--) out.push(plays[i]!);
    }
    return out;
  }

  /** Every simulated play made by `nowMs` (visible or not yet), oldest first. */
  madeBy(nowMs: number): FakePlay[] {
    const out: FakePlay[] = [];
    const last = this.hourOf(nowMs);
    for (let k = 0; k <= last; k++) for (const p of this.hour(k)) if (p.playedAtMs <= nowMs) out.push(p);
    return out;
  }
}
