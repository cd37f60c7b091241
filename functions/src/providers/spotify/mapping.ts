/**
 * Spotify answers → the compact snapshot documents stored under `users/{uid}/spotify/last-response_*`.
 *
 * Field names follow Spotify's (snake_case, same nesting), pruned to what the dashboard shows, so a
 * legacy `last-response_playlists` (a raw Spotify page) reads the same way (`items[].images[0].url`,
 * `items[].tracks.total`). Every field is present (null when Spotify did not send it): Firestore
 * rejects `undefined`. Image lists keep only the largest image. Shapes are documented in the README
 * ("Stored snapshot shapes").
 */
import type { Play } from "../../history/model";
import type { MirrorItem } from "../types";
import { spotifyCatalog } from "./catalog";
import { TIME_RANGES, type TimeRange } from "./descriptor";
import type { Artist, Image, Playlist, PlayHistory, Track, User } from "./schemas";

export interface ImageEntry {
  url: string;
  width: number | null;
  height: number | null;
}
export type ExternalUrls = { spotify?: string };

export interface ProfileSnapshot {
  id: string;
  display_name: string | null;
  uri: string | null;
  external_urls: ExternalUrls;
  images: ImageEntry[];
  followers: { total: number } | null;
}

export interface PlaylistEntry {
  id: string;
  name: string;
  description: string | null;
  public: boolean | null;
  collaborative: boolean | null;
  owner: { id: string; display_name: string | null } | null;
  tracks: { total: number | null };
  images: ImageEntry[];
  snapshot_id: string | null;
  uri: string | null;
  external_urls: ExternalUrls;
}
export interface PlaylistsSnapshot {
  /** What Spotify reported; `items` may hold fewer when bad items were skipped. */
  total: number;
  items: PlaylistEntry[];
}

export interface TrackEntry {
  id: string | null;
  name: string;
  uri: string | null;
  duration_ms: number | null;
  explicit: boolean | null;
  popularity: number | null;
  artists: { id: string | null; name: string }[];
  album: { id: string | null; name: string; release_date: string | null; images: ImageEntry[] } | null;
  external_urls: ExternalUrls;
}
export interface ArtistEntry {
  id: string;
  name: string;
  uri: string | null;
  genres: string[];
  popularity: number | null;
  followers: { total: number } | null;
  images: ImageEntry[];
  external_urls: ExternalUrls;
}
export type TopSnapshot<T> = Record<TimeRange, { total: number; items: T[] }>;
export type TopTracksSnapshot = TopSnapshot<TrackEntry>;
export type TopArtistsSnapshot = TopSnapshot<ArtistEntry>;

export interface PlayEntry {
  played_at: string;
  track: TrackEntry;
  context: { type: string | null; uri: string | null } | null;
}
export interface RecentlyPlayedSnapshot {
  items: PlayEntry[];
}

/** The largest image (by area; Spotify lists largest first, so ties keep the first), or undefined. */
export function largestImage(images: readonly Image[] | null | undefined): Image | undefined {
  let best: Image | undefined;
  for (const image of images ?? []) {
    if (!best || area(image) > area(best)) best = image;
  }
  return best;
}

const area = (i: Image) => (i.width ?? 0) * (i.height ?? 0);

function imageList(images: readonly Image[] | null | undefined): ImageEntry[] {
  const best = largestImage(images);
  return best ? [{ url: best.url, width: best.width ?? null, height: best.height ?? null }] : [];
}

function externalUrls(x: { spotify?: string } | null | undefined): ExternalUrls {
  return x?.spotify ? { spotify: x.spotify } : {};
}

function followers(x: { total?: number | null } | null | undefined): { total: number } | null {
  return typeof x?.total === "number" ? { total: x.total } : null;
}

export function mapProfile(user: User): ProfileSnapshot {
  return {
    id: user.id,
    display_name: user.display_name ?? null,
    uri: user.uri ?? null,
    external_urls: externalUrls(user.external_urls),
    images: imageList(user.images),
    followers: followers(user.followers),
  };
}

export function mapPlaylist(p: Playlist): PlaylistEntry {
  return {
    id: p.id,
    name: p.name,
    description: p.description ?? null,
    public: p.public ?? null,
    collaborative: p.collaborative ?? null,
    owner: p.owner ? { id: p.owner.id, display_name: p.owner.display_name ?? null } : null,
    tracks: { total: p.items?.total ?? p.tracks?.total ?? null },
    images: imageList(p.images),
    snapshot_id: p.snapshot_id ?? null,
    uri: p.uri ?? null,
    external_urls: externalUrls(p.external_urls),
  };
}

export function mapTrack(t: Track): TrackEntry {
  return {
    id: t.id ?? null,
    name: t.name,
    uri: t.uri ?? null,
    duration_ms: t.duration_ms ?? null,
    explicit: t.explicit ?? null,
    popularity: t.popularity ?? null,
    artists: (t.artists ?? []).map((a) => ({ id: a.id ?? null, name: a.name })),
    album: t.album
      ? {
          id: t.album.id ?? null,
          name: t.album.name,
          release_date: t.album.release_date ?? null,
          images: imageList(t.album.images),
        }
      : null,
    external_urls: externalUrls(t.external_urls),
  };
}

export function mapArtist(a: Artist): ArtistEntry {
  return {
    id: a.id,
    name: a.name,
    uri: a.uri ?? null,
    genres: a.genres ?? [],
    popularity: a.popularity ?? null,
    followers: followers(a.followers),
    images: imageList(a.images),
    external_urls: externalUrls(a.external_urls),
  };
}

export function mapPlay(p: PlayHistory): PlayEntry {
  return {
    played_at: p.played_at,
    track: mapTrack(p.track),
    context: p.context ? { type: p.context.type ?? null, uri: p.context.uri ?? null } : null,
  };
}

/** Track ids as Spotify spells them (base-62); a local file has none and is not logged. */
const TRACK_ID = /^[A-Za-z0-9]{1,64}$/;

/**
 * A recently-played item → a play of the listening history, or null when it cannot be logged: a
 * local file (no track id) or an unreadable `played_at`. Artists without an id are left out (the
 * aggregates count artists by id).
 */
export function toPlay(p: PlayHistory): Play | null {
  const id = p.track.id;
  if (!id || !TRACK_ID.test(id) || p.track.is_local === true) return null;
  const at = Date.parse(p.played_at);
  if (!Number.isFinite(at) || at <= 0) return null;
  const type = p.context?.type;
  const uri = p.context?.uri;
  return {
    provider: spotifyCatalog.id,
    playedAt: new Date(at),
    trackId: id,
    trackName: p.track.name,
    artists: (p.track.artists ?? []).flatMap((a) => (a.id ? [{ id: a.id, name: a.name }] : [])),
    albumId: p.track.album?.id ?? null,
    albumName: p.track.album?.name ?? null,
    durationMs: Math.max(0, p.track.duration_ms ?? 0),
    context: type && uri ? { type, uri } : null,
  };
}

/**
 * The daily point of the data without a log of its own: the top lists' ranks per time range as
 * id arrays (rank = position), the playlist count and each playlist's track count. Compact: a
 * day of a heavy account is a few kilobytes. Null when the snapshots hold none of it.
 */
export function historyPoint(snapshots: Record<string, unknown>): Record<string, unknown> | null {
  const tracks = snapshots["top-tracks"] as TopSnapshot<{ id: string | null }> | undefined;
  const artists = snapshots["top-artists"] as TopSnapshot<{ id: string | null }> | undefined;
  const playlists = snapshots.playlists as PlaylistsSnapshot | undefined;
  if (!tracks && !artists && !playlists) return null;
  const ranks = (top: TopSnapshot<{ id: string | null }> | undefined) =>
    Object.fromEntries(
      TIME_RANGES.map((r) => [r, (top?.[r]?.items ?? []).flatMap((i) => (i.id ? [i.id] : []))] as const),
    );
  return {
    topTracks: ranks(tracks),
    topArtists: ranks(artists),
    playlists: playlists?.total ?? null,
    playlistTracks: Object.fromEntries((playlists?.items ?? []).map((p) => [p.id, p.tracks.total ?? null])),
  };
}

/**
 * Covers to mirror: the largest image of each playlist that has one, stored as
 * `{uid}/spotify/playlists/{playlistId}.jpg`. The version (snapshot_id + image URL) changes when
 * the playlist or its cover changes, so an unchanged cover is not downloaded again.
 */
export function coverMirrorItems(playlists: readonly Playlist[]): MirrorItem[] {
  const out: MirrorItem[] = [];
  for (const p of playlists) {
    const image = largestImage(p.images);
    if (!image) continue;
    out.push({ id: p.id, url: image.url, ext: "jpg", version: `${p.snapshot_id ?? ""}|${image.url}` });
  }
  return out;
}
