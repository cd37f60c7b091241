/**
 * The listening history's shapes: one document per play in `users/{uid}/plays/{playId}`, month
 * aggregates in `users/{uid}/play_stats/{provider}-{YYYY-MM}` and daily points of the other data
 * in `users/{uid}/history/{provider}-{YYYY-MM}` (layout in the README, "Listening history").
 *
 * These are contracts other tools read: field names do not change.
 */
import { Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { InvalidInputError } from "../errors";
import { PROVIDERS, type Provider } from "../paths";

/** One play as a provider module reports it (providers/*: mapping), before it is logged. */
export interface Play {
  provider: Provider;
  /** When the play happened (Spotify: `played_at`, near the end of the play). */
  playedAt: Date;
  trackId: string;
  trackName: string;
  artists: { id: string; name: string }[];
  albumId: string | null;
  albumName: string | null;
  durationMs: number;
  context: { type: string; uri: string } | null;
}

export type PlaySource = "sync" | "import";

const timestamp = z.instanceof(Timestamp);

/** A play document as stored. */
export const PlayDoc = z.object({
  provider: z.enum(PROVIDERS),
  playedAt: timestamp,
  trackId: z.string().min(1),
  trackName: z.string(),
  artists: z.array(z.object({ id: z.string(), name: z.string() })),
  albumId: z.string().nullable(),
  albumName: z.string().nullable(),
  durationMs: z.number().int().nonnegative(),
  context: z.object({ type: z.string(), uri: z.string() }).nullable(),
  source: z.enum(["sync", "import"]),
  /** When the product logged it. */
  loggedAt: timestamp,
});
export type PlayDoc = z.infer<typeof PlayDoc>;

/**
 * The play's document id: provider, play time (unix ms) and track, so reading the same window
 * twice addresses the same documents (`spotify-1764650000000-4uLU6hMCjMI75M1A2tKUQC`).
 */
export function playId(p: Pick<Play, "provider" | "playedAt" | "trackId">): string {
  const ms = p.playedAt.getTime();
  if (!Number.isSafeInteger(ms) || ms < 0) throw new InvalidInputError("A play needs a valid play time.");
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(p.trackId))
    throw new InvalidInputError(`Invalid track id for a play: ${JSON.stringify(p.trackId.slice(0, 40))}.`);
  return `${p.provider}-${ms}-${p.trackId}`;
}

/** The document of a play, from what a provider reported. */
export function playDoc(p: Play, source: PlaySource, loggedAt: Date): PlayDoc {
  return {
    provider: p.provider,
    playedAt: Timestamp.fromDate(p.playedAt),
    trackId: p.trackId,
    trackName: p.trackName,
    artists: p.artists.map((a) => ({ id: a.id, name: a.name })),
    albumId: p.albumId,
    albumName: p.albumName,
    durationMs: p.durationMs,
    context: p.context,
    source,
    loggedAt: Timestamp.fromDate(loggedAt),
  };
}

/**
 * A month of plays in the person's time zone: `users/{uid}/play_stats/{provider}-{YYYY-MM}`.
 * Day keys are "01".."31"; grid keys "{weekday}-{hour}" with weekday 0 = Monday … 6 = Sunday and
 * hour 0–23, local. `ms` sums the tracks' durations (minutes listened = ms / 60,000).
 */
export interface MonthStats {
  provider: Provider;
  /** "2026-12" */
  month: string;
  /** The time zone the days and the grid were counted in. */
  timeZone: string;
  plays: number;
  ms: number;
  days: Record<string, { plays: number; ms: number }>;
  grid: Record<string, number>;
  artists: Record<string, ArtistStats>;
  tracks: Record<string, TrackStats>;
}

export interface ArtistStats {
  name: string;
  plays: number;
  ms: number;
  first: Timestamp;
  last: Timestamp;
  /** Plays per day of the month ("01": 3). */
  days: Record<string, number>;
}

export interface TrackStats {
  name: string;
  /** The artists' names, joined with ", ". */
  artists: string;
  albumName: string | null;
  plays: number;
  ms: number;
  first: Timestamp;
  last: Timestamp;
  days: Record<string, number>;
}

/** The id of a month's aggregate or history document: `spotify-2026-12`. */
export function monthDocId(provider: Provider, month: string): string {
  if (!/^\d{4}-\d{2}$/.test(month)) throw new InvalidInputError(`Invalid month ${JSON.stringify(month)}.`);
  return `${provider}-${month}`;
}

/**
 * A month of daily points of the other data: `users/{uid}/history/{provider}-{YYYY-MM}` =
 * { provider, month, days: { "01": point } }. The point is the provider's (its `historyPoint`).
 */
export interface HistoryMonth {
  provider: Provider;
  month: string;
  days: Record<string, Record<string, unknown>>;
}

/**
 * The listening-history fields of a connection (`users/{uid}/connections/{provider}`), kept by the
 * sync in the same transaction as the plays it logs.
 */
export const ConnectionHistory = z.object({
  /** The newest play logged (the `after` cursor, before the overlap). */
  newestPlayedAt: timestamp.nullable(),
  /** Ids of the newest logged plays (at most RECENT_IDS), so re-reading a window writes nothing. */
  recentPlayIds: z.array(z.string()),
  /** Plays the sync has logged on this connection. */
  plays: z.number().int().nonnegative(),
  /** When a sync last logged a new play (drives the active-listener interval). */
  lastNewPlayAt: timestamp.nullable(),
  /** The local day ("2026-12-02") of the last daily point written. */
  lastPointDay: z.string().nullable(),
  /**
   * When the next daily point is due: the local midnight after the last one, in the time zone the
   * person had then. Before it a sync without new plays needs no time zone (no profile read); a
   * changed time zone counts from the next point. Absent: due.
   */
  nextPointAt: timestamp.nullable().optional(),
});
export type ConnectionHistory = z.infer<typeof ConnectionHistory>;

/** How many ids `recentPlayIds` keeps (twice Spotify's 50-play window). */
export const RECENT_IDS = 100;

/**
 * A detected gap on the connection, `lastHistoryGap`: plays between `after` (the newest play
 * logged before) and `before` (the oldest play read now) may be lost. `historyGaps` counts them.
 */
export const HistoryGap = z.object({ after: timestamp, before: timestamp, detectedAt: timestamp });
export type HistoryGap = z.infer<typeof HistoryGap>;
