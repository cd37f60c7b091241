/**
 * Reads Spotify's snapshot documents (playlists, top tracks and artists, recently played) into
 * what its panels show. Pure (unit-tested through web/src/readers.ts).
 */
import { type Obj, firstImageUrl, isObj, isoDate, itemsOf, num, str } from "../../fields";

function artistNames(v: unknown): string {
  if (!Array.isArray(v)) return "";
  return v
    .map((a) => (isObj(a) ? str(a.name) : str(a)))
    .filter(Boolean)
    .join(", ");
}

export interface PlaylistCard {
  id: string;
  name: string;
  tracks: number | null;
  owner: string | null;
  imageUrl: string | null;
}

export function readPlaylists(doc: unknown): PlaylistCard[] {
  return itemsOf(doc).flatMap((p) => {
    const id = str(p.id);
    if (!id) return [];
    const tracksObj = isObj(p.tracks) ? p.tracks : isObj(p.items) ? p.items : null;
    const owner = isObj(p.owner)
      ? (str(p.owner.display_name) ?? str(p.owner.displayName) ?? str(p.owner.id))
      : str(p.owner);
    return [
      {
        id,
        name: str(p.name) ?? "(untitled playlist)",
        tracks: num(p.trackCount) ?? num(p.tracksTotal) ?? (tracksObj ? num(tracksObj.total) : null),
        owner,
        imageUrl: firstImageUrl(p.images) ?? str(p.imageUrl),
      },
    ];
  });
}

export const TIME_RANGES = [
  { id: "short_term", label: "Last 4 weeks" },
  { id: "medium_term", label: "Last 6 months" },
  { id: "long_term", label: "All time" },
] as const;
export type TimeRange = (typeof TIME_RANGES)[number]["id"];

/** Items of one time range: `{ short_term: {items} | [...] }`, `{ ranges: {...} }`, or items tagged with timeRange. */
export function rangeItems(doc: unknown, range: TimeRange): Obj[] {
  if (!isObj(doc)) return [];
  const holders = [doc, isObj(doc.ranges) ? doc.ranges : null, isObj(doc.byRange) ? doc.byRange : null];
  for (const holder of holders) {
    if (holder && range in holder) return itemsOf(holder[range]);
  }
  const tagged = itemsOf(doc);
  if (tagged.some((i) => "timeRange" in i || "time_range" in i)) {
    return tagged.filter((i) => i.timeRange === range || i.time_range === range);
  }
  return range === "medium_term" ? tagged : [];
}

export interface TrackRow {
  name: string;
  artists: string;
  imageUrl: string | null;
}

export function readTracks(items: Obj[]): TrackRow[] {
  return items.flatMap((i) => {
    const t = isObj(i.track) ? i.track : isObj(i.item) ? i.item : i;
    const name = str(t.name);
    if (!name) return [];
    return [{ name, artists: artistNames(t.artists), imageUrl: isObj(t.album) ? firstImageUrl(t.album.images) : null }];
  });
}

export interface ArtistRow {
  name: string;
  genres: string;
  imageUrl: string | null;
}

export function readArtists(items: Obj[]): ArtistRow[] {
  return items.flatMap((a) => {
    const name = str(a.name);
    if (!name) return [];
    const genres = Array.isArray(a.genres)
      ? a.genres
          .filter((g) => typeof g === "string")
          .slice(0, 3)
          .join(", ")
      : "";
    return [{ name, genres, imageUrl: firstImageUrl(a.images) }];
  });
}

export interface PlayRow extends TrackRow {
  playedAt: Date | null;
}

export function readRecentlyPlayed(doc: unknown): PlayRow[] {
  return itemsOf(doc).flatMap((i) => {
    const [track] = readTracks([i]);
    if (!track) return [];
    return [{ ...track, playedAt: isoDate(str(i.played_at) ?? str(i.playedAt)) }];
  });
}
