/**
 * Spotify's privacy-export streaming histories, entry by entry: which format a file is, which
 * entries are music plays, and the play each one becomes. Pure functions; reading files and zips
 * (imports/read.ts) and writing plays (imports/job.ts) live in the imports feature.
 *
 * Two formats:
 * - **extended** (`Streaming_History_Audio_*.json`): `ts` (the end of the stream, UTC ISO),
 *   `ms_played`, `master_metadata_*` names, `spotify_track_uri`, episode and audiobook fields, and
 *   personal fields (`ip_addr`, `conn_country`, `platform`, …);
 * - **account** (`StreamingHistory_music_*.json`): `endTime` ("YYYY-MM-DD HH:MM", UTC),
 *   `artistName`, `trackName`, `msPlayed`; no ids.
 *
 * Only whitelisted fields are copied into a play: personal fields never leave this module.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Play } from "../../history/model";

/** The provider whose play log these exports fill. */
export const STREAMING_HISTORY_PROVIDER = "spotify" as const;

export type ImportFormat = "extended" | "account";

/** Why an entry is not imported (counted per reason in the result). */
export type SkipReason = "episode" | "audiobook" | "short" | "no-track" | "invalid";

export const SKIP_REASONS: readonly SkipReason[] = ["episode", "audiobook", "short", "no-track", "invalid"];

/** The words shown to the person for each reason. */
export const SKIP_WORDS: Record<SkipReason, string> = {
  episode: "podcast episodes (music only)",
  audiobook: "audiobook chapters (music only)",
  short: "plays shorter than the minimum length",
  "no-track": "entries without a track",
  invalid: "entries with a missing or unreadable time",
};

const text = z.string().nullish();

/** One extended-history entry: only the fields the import reads (the rest is ignored). */
export const ExtendedEntry = z.object({
  ts: z.string(),
  ms_played: z.number().nonnegative(),
  master_metadata_track_name: text,
  master_metadata_album_artist_name: text,
  master_metadata_album_album_name: text,
  spotify_track_uri: text,
  spotify_episode_uri: text,
  episode_name: text,
  audiobook_uri: text,
  audiobook_chapter_uri: text,
});
export type ExtendedEntry = z.infer<typeof ExtendedEntry>;

/** One account-data entry. */
export const AccountEntry = z.object({
  endTime: z.string(),
  artistName: z.string(),
  trackName: z.string(),
  msPlayed: z.number().nonnegative(),
});
export type AccountEntry = z.infer<typeof AccountEntry>;

/** The format of an entry, from the fields only that format has; null for neither. */
export function formatOf(entry: unknown): ImportFormat | null {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return null;
  if ("ts" in entry && "ms_played" in entry) return "extended";
  if ("endTime" in entry && "msPlayed" in entry) return "account";
  return null;
}

/** A play read from an export, before ids of names are resolved and duplicates removed. */
export interface ImportedPlay extends Play {
  /** How long it was played (the export's `ms_played` / `msPlayed`). */
  msPlayed: number;
}

export type EntryResult = { play: ImportedPlay } | { skip: SkipReason };

export interface EntryRules {
  /** Plays shorter than this are skipped (default 30 s). */
  minPlayMs: number;
  /** Ids for names the export does not identify (see `NameIds`). */
  ids: NameIds;
}

const TRACK_URI = /^spotify:track:([A-Za-z0-9]{1,64})$/;
const ACCOUNT_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$/;

function parseIso(s: string): Date | null {
  const ms = Date.parse(s);
  return Number.isFinite(ms) && ms > 0 ? new Date(ms) : null;
}

function parseAccountTime(s: string): Date | null {
  const m = ACCOUNT_TIME.exec(s);
  if (!m) return null;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!);
  return Number.isFinite(ms) ? new Date(ms) : null;
}

/** One extended entry → a play or the reason it is skipped. */
export function extendedPlay(raw: unknown, rules: EntryRules): EntryResult {
  const parsed = ExtendedEntry.safeParse(raw);
  if (!parsed.success) return { skip: "invalid" };
  const e = parsed.data;
  if (e.spotify_episode_uri || e.episode_name) return { skip: "episode" };
  if (e.audiobook_uri || e.audiobook_chapter_uri) return { skip: "audiobook" };
  const track = TRACK_URI.exec(e.spotify_track_uri ?? "");
  if (!track || !e.master_metadata_track_name) return { skip: "no-track" };
  const playedAt = parseIso(e.ts);
  if (!playedAt) return { skip: "invalid" };
  if (e.ms_played < rules.minPlayMs) return { skip: "short" };
  const artist = e.master_metadata_album_artist_name ?? "";
  const album = e.master_metadata_album_album_name ?? null;
  return {
    play: {
      provider: STREAMING_HISTORY_PROVIDER,
      playedAt,
      trackId: track[1]!,
      trackName: e.master_metadata_track_name,
      artists: artist ? [{ id: rules.ids.artist(artist), name: artist }] : [],
      albumId: null,
      albumName: album,
      durationMs: Math.round(e.ms_played),
      msPlayed: Math.round(e.ms_played),
      context: null,
    },
  };
}

/** One account-data entry → a play or the reason it is skipped. */
export function accountPlay(raw: unknown, rules: EntryRules): EntryResult {
  const parsed = AccountEntry.safeParse(raw);
  if (!parsed.success) return { skip: "invalid" };
  const e = parsed.data;
  // Podcasts appear in the music files with the show as artist and no way to tell them apart,
  // except in the separate StreamingHistory_podcast_* files, which the reader skips.
  if (!e.trackName.trim() || !e.artistName.trim() || e.trackName === "Unknown Track") return { skip: "no-track" };
  const playedAt = parseAccountTime(e.endTime);
  if (!playedAt) return { skip: "invalid" };
  if (e.msPlayed < rules.minPlayMs) return { skip: "short" };
  return {
    play: {
      provider: STREAMING_HISTORY_PROVIDER,
      playedAt,
      trackId: rules.ids.track(e.artistName, e.trackName),
      trackName: e.trackName,
      artists: [{ id: rules.ids.artist(e.artistName), name: e.artistName }],
      albumId: null,
      albumName: null,
      durationMs: Math.round(e.msPlayed),
      msPlayed: Math.round(e.msPlayed),
      context: null,
    },
  };
}

/**
 * Ids for what the export names but does not identify.
 *
 * The extended history has track URIs but only the artist's name; the account data has names
 * only. Names are matched, case- and space-insensitively, against what the person's log already
 * knows (synced plays carry Spotify's ids, and extended imports the tracks' ids); a name the log
 * does not know gets a stable derived id (`n` + 22 characters of a hash of the name), the same for
 * every import, so the same unknown artist aggregates as one.
 */
export class NameIds {
  private readonly artists = new Map<string, string>();
  private readonly tracks = new Map<string, string>();

  /** Teaches an id for a name (from the log's aggregates or an extended file). */
  learnArtist(name: string, id: string): void {
    const k = key(name);
    if (k && !this.artists.has(k)) this.artists.set(k, id);
  }

  learnTrack(artistName: string, trackName: string, id: string): void {
    const k = `${key(artistName)}\u0000${key(trackName)}`;
    if (!this.tracks.has(k)) this.tracks.set(k, id);
  }

  artist(name: string): string {
    return this.artists.get(key(name)) ?? derivedId(`artist\u0000${key(name)}`);
  }

  track(artistName: string, trackName: string): string {
    const k = `${key(artistName)}\u0000${key(trackName)}`;
    return this.tracks.get(k) ?? derivedId(`track\u0000${k}`);
  }
}

function key(name: string): string {
  return name.normalize("NFC").trim().replace(/\s+/g, " ").toLowerCase();
}

/** 23 characters from [A-Za-z0-9_-], never a Spotify id (those are 22 base-62 characters). */
export function derivedId(s: string): string {
  return `n${createHash("sha256").update(s).digest("base64url").slice(0, 22)}`;
}

/** Two plays of the same track within this window are one play (end times drift). */
export const SAME_PLAY_MS = 60_000;

/**
 * Removes duplicates: inside `plays`, and against `known` (track id → logged play times, ms).
 * Returns the plays to write and how many were duplicates. `known` grows with what is kept, so
 * calling it chunk after chunk dedupes across chunks.
 */
export function dedupe(
  plays: ImportedPlay[],
  known: Map<string, number[]>,
): { keep: ImportedPlay[]; duplicates: number } {
  const keep: ImportedPlay[] = [];
  let duplicates = 0;
  for (const p of plays) {
    const t = p.playedAt.getTime();
    const times = known.get(p.trackId);
    if (times?.some((x) => Math.abs(x - t) < SAME_PLAY_MS)) {
      duplicates++;
      continue;
    }
    if (times) times.push(t);
    else known.set(p.trackId, [t]);
    keep.push(p);
  }
  return { keep, duplicates };
}
