/**
 * Reads the snapshot documents the sync writes (users/{uid}/{provider}/last-response_{name})
 * into what the dashboard shows. Defensive: a missing or odd field becomes null or is skipped,
 * so a provider change degrades a card instead of breaking the page. Pure (unit-tested).
 */

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** `v` when it parses as an absolute https: URL (safe as a link's href), else null: never `javascript:`, `data:` or `http:`. */
export function httpsUrl(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  try {
    const u = new URL(s);
    return u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

/** The item list of a snapshot: `items`, or `data.items`, or the document itself when it is a list. */
export function itemsOf(doc: unknown): Obj[] {
  if (Array.isArray(doc)) return doc.filter(isObj);
  if (!isObj(doc)) return [];
  for (const key of ["items", "data"]) {
    const v = doc[key];
    if (Array.isArray(v)) return v.filter(isObj);
    if (isObj(v) && Array.isArray(v.items)) return v.items.filter(isObj);
  }
  return [];
}

function firstImageUrl(v: unknown): string | null {
  if (Array.isArray(v)) for (const i of v) if (isObj(i) && str(i.url)) return str(i.url);
  return null;
}

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
    const at = str(i.played_at) ?? str(i.playedAt);
    const d = at ? new Date(at) : null;
    return [{ ...track, playedAt: d && !Number.isNaN(d.getTime()) ? d : null }];
  });
}

export interface MediaTile {
  id: string;
  type: "IMAGE" | "VIDEO" | "CAROUSEL_ALBUM" | string;
  caption: string;
  /** The post on Instagram; only ever an https: URL (anything else is dropped). */
  permalink: string | null;
  timestamp: Date | null;
  /**
   * The mirrored image shown for it, `{uid}/instagram/{imageId}.{ext}`: the item itself (images;
   * videos: their thumbnail), or a carousel's first mirrored child. Null when nothing is mirrored.
   */
  image: { id: string; ext: string } | null;
  /** Number of items in a carousel (0 otherwise). */
  children: number;
}

function mirrored(m: Obj): { id: string; ext: string } | null {
  const id = str(m.id);
  const ext = str(m.file_ext) ?? str(m.ext);
  return id && ext ? { id, ext } : null;
}

/** The Instagram media snapshot: `{ items: [{ id, media_type, file_ext, caption, permalink, timestamp, children }] }`. */
export function readMedia(doc: unknown): MediaTile[] {
  return itemsOf(doc).flatMap((m) => {
    const id = str(m.id);
    if (!id) return [];
    const type = str(m.media_type) ?? str(m.mediaType) ?? "IMAGE";
    const ts = str(m.timestamp);
    const d = ts ? new Date(ts) : null;
    const kids = Array.isArray(m.children) ? m.children.filter(isObj) : [];
    const image = mirrored(m) ?? kids.map(mirrored).find((x) => x !== null) ?? null;
    return [
      {
        id,
        type,
        caption: str(m.caption) ?? "",
        permalink: httpsUrl(m.permalink),
        timestamp: d && !Number.isNaN(d.getTime()) ? d : null,
        image,
        children: kids.length,
      },
    ];
  });
}

/**
 * A snapshot stored in parts (functions/src/sync/snapshots.ts): the parts' bytes, in index
 * order, are the UTF-8 JSON of the snapshot.
 */
export function decodeParts(parts: { index: number; bytes: { toUint8Array(): Uint8Array } }[]): unknown {
  const chunks = [...parts].sort((a, b) => a.index - b.index).map((p) => p.bytes.toUint8Array());
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return JSON.parse(new TextDecoder().decode(all));
}
