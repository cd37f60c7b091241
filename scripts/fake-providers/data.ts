/**
 * Deterministic fake accounts. Every item is computed from (account seed, index, version), so a
 * 5,000-playlist account costs a few maps, not 5,000 objects, and the same seed always gives the
 * same data. Mutations (rename, resize, changeItems) bump per-item versions: a changed playlist
 * gets a new snapshot_id and cover URL; a changed media item a new caption and media_url path.
 */
import { createHash } from "node:crypto";

export type ProviderId = "spotify" | "instagram";
export const PROVIDER_IDS: readonly ProviderId[] = ["spotify", "instagram"];

/** What addAccount accepts. Sizes: playlists 0..5,000, media 0..2,000. */
export interface AccountSpec {
  id?: string;
  seed?: number;
  /** Spotify display_name / Instagram username ("" is allowed: an empty name). */
  displayName?: string;
  playlists?: number;
  media?: number;
  /** Instagram: include CAROUSEL_ALBUM posts (default true). */
  carousels?: boolean;
  /** Spotify development mode: false → every Web API call answers 403 (default true). */
  allowListed?: boolean;
  /** Spotify: items per top list and time range (default 20, max 50). */
  topItems?: number;
  /** Spotify: recently played items (default 30, max 50, as Spotify keeps only the last 50). */
  recentlyPlayed?: number;
  /** Spotify: include fields that development-mode apps no longer get (popularity, followers, email…). */
  extendedQuota?: boolean;
}

export const LIMITS = { playlists: 5000, media: 2000, top: 50, recent: 50 } as const;
const DEFAULTS = { playlists: 12, media: 15, top: 20, recent: 30 } as const;

/** Where generated URLs point (the fake's own routes). */
export interface Urls {
  /** e.g. http://127.0.0.1:9090/spotify-api */
  spotifyApi: string;
  /** e.g. http://127.0.0.1:9090/cdn */
  cdn: string;
}

// --- Seeded randomness -----------------------------------------------------------------------------

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** mulberry32: [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

function hash(...parts: (string | number)[]): Buffer {
  return createHash("sha256").update(parts.join("\u0000")).digest();
}

export function rngFor(...parts: (string | number)[]): Rng {
  return new Rng(hash(...parts).readUInt32LE(0));
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A Spotify-style 22-character base62 id. */
export function base62Id(...parts: (string | number)[]): string {
  const h = hash(...parts);
  let out = "";
  for (let i = 0; i < 22; i++) out += BASE62[h[i]! % 62];
  return out;
}

/** A numeric id of `digits` digits (Instagram ids are long numbers; keep them as strings). */
export function numericId(digits: number, ...parts: (string | number)[]): string {
  const h = hash(...parts);
  let out = String(1 + (h[0]! % 9));
  for (let i = 1; i < digits; i++) out += String(h[i % h.length]! % 10);
  return out;
}

// --- Names (unicode on purpose, and some empty) ----------------------------------------------------

const WORDS = [
  "Chill",
  "Morning",
  "Café",
  "Nachtfahrt",
  "Été",
  "日本のポップ",
  "Поп-музыка",
  "Mix",
  "Vibes",
  "🌙",
  "🔥🔥",
  "Lo-fi",
  "Road trip",
  "Ünïcödé",
  "Workout",
  "Ελληνικά",
  "موسيقى",
  "Sommar",
  "Focus",
  "𝔊𝔬𝔱𝔥𝔦𝔠",
  "Jazz",
  "Kpop 케이팝",
  "Ñandú",
  "Rainy days",
  "שירים",
  "Deep work",
  "Año nuevo",
  "Zürich",
] as const;

function title(rng: Rng, emptyRate: number): string {
  if (rng.chance(emptyRate)) return "";
  const n = 1 + rng.int(3);
  return Array.from({ length: n }, () => rng.pick(WORDS)).join(" ");
}

const ARTISTS = [
  "Ólafur",
  "Sigur Rós",
  "Björk",
  "坂本龍一",
  "Röyksopp",
  "Mø",
  "Beyoncé",
  "Café Tacvba",
  "Nils Frahm",
  "Лёша",
];

const iso = (ms: number) => new Date(ms).toISOString();
const clamp = (n: number, max: number) => Math.max(0, Math.min(max, Math.floor(n)));

// --- Accounts ----------------------------------------------------------------------------------------

abstract class BaseAccount {
  abstract readonly provider: ProviderId;
  /** Per-item version: a changed item gets version + 1 (new snapshot / URL). */
  protected readonly versions = new Map<number, number>();
  /** The sequence of changeItems calls (so repeated calls change different content). */
  protected changeRounds = 0;

  constructor(
    readonly id: string,
    readonly seed: number,
    public displayName: string,
    /** Fake-clock time the account was created (anchors timestamps). */
    readonly createdAtMs: number,
  ) {}

  rename(displayName: string): void {
    this.displayName = displayName;
  }

  version(i: number): number {
    return this.versions.get(i) ?? 0;
  }

  abstract get itemCount(): number;

  /**
   * Changes the first `n` items (Spotify: playlists; Instagram: media): new content, a new
   * snapshot_id / media_url path. Returns their ids.
   */
  changeItems(n: number): string[] {
    this.changeRounds++;
    const count = Math.min(clamp(n, Number.MAX_SAFE_INTEGER), this.itemCount);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      this.versions.set(i, this.version(i) + 1);
      ids.push(this.itemId(i));
    }
    return ids;
  }

  abstract itemId(i: number): string;
  abstract summary(): Record<string, unknown>;
}

export class SpotifyAccount extends BaseAccount {
  readonly provider = "spotify" as const;
  allowListed: boolean;
  extendedQuota: boolean;
  playlistCount: number;
  topItems: number;
  recentCount: number;

  constructor(id: string, seed: number, spec: AccountSpec, createdAtMs: number) {
    super(id, seed, spec.displayName ?? title(rngFor(seed, "user"), 0.1), createdAtMs);
    this.allowListed = spec.allowListed ?? true;
    this.extendedQuota = spec.extendedQuota ?? false;
    this.playlistCount = clamp(spec.playlists ?? DEFAULTS.playlists, LIMITS.playlists);
    this.topItems = clamp(spec.topItems ?? DEFAULTS.top, LIMITS.top);
    this.recentCount = clamp(spec.recentlyPlayed ?? DEFAULTS.recent, LIMITS.recent);
  }

  get itemCount(): number {
    return this.playlistCount;
  }

  setPlaylistCount(n: number): void {
    this.playlistCount = clamp(n, LIMITS.playlists);
  }

  setAllowListed(on: boolean): void {
    this.allowListed = on;
  }

  itemId(i: number): string {
    return base62Id(this.seed, this.id, "playlist", i);
  }

  /** GET /v1/me (PrivateUserObject). Development-mode apps get no email/country/product/followers. */
  profile(u: Urls): Record<string, unknown> {
    const rng = rngFor(this.seed, "profile");
    const images = rng.chance(0.5) ? [image(u, this.id, "avatar", 64)] : [];
    const base: Record<string, unknown> = {
      display_name: this.displayName,
      external_urls: { spotify: `https://open.spotify.com/user/${encodeURIComponent(this.id)}` },
      href: `${u.spotifyApi}/v1/users/${encodeURIComponent(this.id)}`,
      id: this.id,
      images,
      type: "user",
      uri: `spotify:user:${this.id}`,
    };
    if (this.extendedQuota) {
      Object.assign(base, {
        country: "SE",
        email: `${this.id}@example.invalid`,
        product: rng.pick(["premium", "free"]),
        explicit_content: { filter_enabled: false, filter_locked: false },
        followers: { href: null, total: rng.int(500) },
      });
    }
    return base;
  }

  /** One SimplifiedPlaylistObject: 0 images (~10%), one uploaded cover of unknown size (~10%), or a 3-image mosaic. */
  playlist(i: number, u: Urls): Record<string, unknown> {
    const id = this.itemId(i);
    const v = this.version(i);
    const rng = rngFor(this.seed, "playlist", i);
    const vrng = rngFor(this.seed, "playlist", i, "v", v);
    const kind = rng.next();
    const stem = `${id}-v${v}`;
    const images =
      kind < 0.1
        ? []
        : kind < 0.2
          ? [{ url: `${u.cdn}/spotify/${enc(this.id)}/${stem}/64.jpg`, height: null, width: null }]
          : [image(u, this.id, stem, 64), image(u, this.id, stem, 32), image(u, this.id, stem, 16)];
    const ownedBySelf = rng.chance(0.8);
    const ownerId = ownedBySelf ? this.id : `other-${rng.int(1000)}`;
    const name = v === 0 ? title(rng, 0.06) : `${title(vrng, 0)} (v${v})`;
    const total = rng.int(300);
    const href = `${u.spotifyApi}/v1/playlists/${id}`;
    return {
      collaborative: !ownedBySelf && rng.chance(0.3),
      description: rng.chance(0.5) ? "" : title(rng, 0),
      external_urls: { spotify: `https://open.spotify.com/playlist/${id}` },
      href,
      id,
      images,
      name,
      owner: {
        display_name: ownedBySelf ? this.displayName : rng.chance(0.2) ? null : title(rng, 0),
        external_urls: { spotify: `https://open.spotify.com/user/${ownerId}` },
        href: `${u.spotifyApi}/v1/users/${ownerId}`,
        id: ownerId,
        type: "user",
        uri: `spotify:user:${ownerId}`,
      },
      public: rng.chance(0.6),
      snapshot_id: Buffer.from(hash(id, v).subarray(0, 24)).toString("base64"),
      items: { href: `${href}/items`, total },
      tracks: { href: `${href}/tracks`, total },
      type: "playlist",
      uri: `spotify:playlist:${id}`,
    };
  }

  private artist(key: string, u: Urls, full: boolean): Record<string, unknown> {
    const rng = rngFor(this.seed, "artist", key);
    const id = base62Id(this.seed, "artist", key);
    const simple: Record<string, unknown> = {
      external_urls: { spotify: `https://open.spotify.com/artist/${id}` },
      href: `${u.spotifyApi}/v1/artists/${id}`,
      id,
      name: rng.chance(0.03) ? "" : `${rng.pick(ARTISTS)} ${rng.int(100)}`,
      type: "artist",
      uri: `spotify:artist:${id}`,
    };
    if (!full) return simple;
    const out: Record<string, unknown> = {
      ...simple,
      images: rng.chance(0.15) ? [] : [image(u, this.id, `artist-${id}`, 64), image(u, this.id, `artist-${id}`, 32)],
    };
    if (this.extendedQuota) {
      Object.assign(out, {
        followers: { href: null, total: rng.int(1_000_000) },
        genres: rng.chance(0.3) ? [] : ["indie", "électronique"],
        popularity: rng.int(101),
      });
    }
    return out;
  }

  /** A TrackObject (with its SimplifiedAlbumObject). */
  private track(key: string, u: Urls): Record<string, unknown> {
    const rng = rngFor(this.seed, "track", key);
    const id = base62Id(this.seed, "track", key);
    const albumId = base62Id(this.seed, "album", key);
    const artists = [this.artist(`a${rng.int(40)}`, u, false)];
    const out: Record<string, unknown> = {
      album: {
        album_type: rng.pick(["album", "single", "compilation"]),
        total_tracks: 1 + rng.int(20),
        available_markets: this.extendedQuota ? ["SE", "US"] : [],
        external_urls: { spotify: `https://open.spotify.com/album/${albumId}` },
        href: `${u.spotifyApi}/v1/albums/${albumId}`,
        id: albumId,
        images: [image(u, this.id, `album-${albumId}`, 64)],
        name: title(rng, 0.02),
        release_date: `${1970 + rng.int(56)}`,
        release_date_precision: "year",
        type: "album",
        uri: `spotify:album:${albumId}`,
        artists,
      },
      artists,
      disc_number: 1,
      duration_ms: 60_000 + rng.int(300_000),
      explicit: rng.chance(0.2),
      external_ids: { isrc: `SE${String(rng.int(1e9)).padStart(10, "0")}` },
      external_urls: { spotify: `https://open.spotify.com/track/${id}` },
      href: `${u.spotifyApi}/v1/tracks/${id}`,
      id,
      is_local: false,
      name: title(rng, 0.03),
      preview_url: null,
      track_number: 1 + rng.int(12),
      type: "track",
      uri: `spotify:track:${id}`,
    };
    if (this.extendedQuota) out.popularity = rng.int(101);
    return out;
  }

  /** All items of a top list (the endpoint pages through them). */
  top(type: "artists" | "tracks", range: string, u: Urls): Record<string, unknown>[] {
    return Array.from({ length: this.topItems }, (_, i) =>
      type === "artists" ? this.artist(`top-${range}-${i}`, u, true) : this.track(`top-${range}-${i}`, u),
    );
  }

  /** PlayHistoryObjects, newest first, played in the 3 days before the account was created. */
  recentlyPlayed(u: Urls): { playedAtMs: number; item: Record<string, unknown> }[] {
    const rng = rngFor(this.seed, "recent");
    let t = this.createdAtMs - 60_000;
    const out: { playedAtMs: number; item: Record<string, unknown> }[] = [];
    for (let i = 0; i < this.recentCount; i++) {
      t -= 60_000 + rng.int(90 * 60_000);
      const playlist = this.playlistCount > 0 && rng.chance(0.5) ? rng.int(this.playlistCount) : undefined;
      const context =
        playlist === undefined
          ? { type: "album", href: `${u.spotifyApi}/v1/albums/x${i}`, external_urls: {}, uri: `spotify:album:x${i}` }
          : {
              type: "playlist",
              href: `${u.spotifyApi}/v1/playlists/${this.itemId(playlist)}`,
              external_urls: { spotify: `https://open.spotify.com/playlist/${this.itemId(playlist)}` },
              uri: `spotify:playlist:${this.itemId(playlist)}`,
            };
      out.push({
        playedAtMs: t,
        item: { track: this.track(`recent-${i}`, u), played_at: iso(t), context },
      });
    }
    return out;
  }

  summary(): Record<string, unknown> {
    return {
      provider: this.provider,
      id: this.id,
      seed: this.seed,
      displayName: this.displayName,
      allowListed: this.allowListed,
      playlists: this.playlistCount,
      topItems: this.topItems,
      recentlyPlayed: this.recentCount,
      changedItems: this.versions.size,
    };
  }
}

export type MediaType = "IMAGE" | "VIDEO" | "CAROUSEL_ALBUM";

/** One Instagram media item with every field the fake can return (the route picks the requested ones). */
export interface MediaItem {
  id: string;
  media_type: MediaType;
  caption?: string;
  media_url: string;
  thumbnail_url?: string;
  permalink: string;
  timestamp: string;
  username: string;
  like_count: number;
  comments_count: number;
  children?: Omit<MediaItem, "children" | "caption" | "like_count" | "comments_count">[];
}

export class InstagramAccount extends BaseAccount {
  readonly provider = "instagram" as const;
  mediaCount: number;
  carousels: boolean;
  readonly accountType: "BUSINESS" | "CREATOR";
  /** The app-scoped id Graph returns as `id` (differs from the account's `user_id`). */
  readonly appScopedId: string;

  constructor(id: string, seed: number, spec: AccountSpec, createdAtMs: number) {
    const rng = rngFor(seed, "ig-user");
    super(
      id,
      seed,
      spec.displayName ?? `fake.${rng.pick(["café", "nørd", "sunny", "ola", "xyz"])}_${seed}`,
      createdAtMs,
    );
    this.mediaCount = clamp(spec.media ?? DEFAULTS.media, LIMITS.media);
    this.carousels = spec.carousels ?? true;
    this.accountType = rng.chance(0.5) ? "BUSINESS" : "CREATOR";
    this.appScopedId = numericId(17, seed, id, "asid");
  }

  get itemCount(): number {
    return this.mediaCount;
  }

  setMediaCount(n: number): void {
    this.mediaCount = clamp(n, LIMITS.media);
  }

  itemId(i: number): string {
    return numericId(17, this.seed, this.id, "media", i);
  }

  profile(): Record<string, unknown> {
    return {
      id: this.appScopedId,
      user_id: this.id,
      username: this.displayName,
      name: this.displayName,
      account_type: this.accountType,
      media_count: this.mediaCount,
      followers_count: rngFor(this.seed, "followers").int(10_000),
      profile_picture_url: `CDN:instagram/${enc(this.id)}/avatar/64.jpg`,
    };
  }

  /** Media item `i` (0 = newest). CDN URLs are given relative ("CDN:…"); the route signs them. */
  media(i: number): MediaItem {
    const id = this.itemId(i);
    const v = this.version(i);
    const rng = rngFor(this.seed, "media", i);
    const vrng = rngFor(this.seed, "media", i, "v", v);
    const roll = rng.next();
    const type: MediaType = this.carousels && roll < 0.15 ? "CAROUSEL_ALBUM" : roll < 0.3 ? "VIDEO" : "IMAGE";
    const at = this.createdAtMs - (i + 1) * 7 * 3600_000 - rng.int(3600_000);
    const file = (mediaId: string, t: MediaType) => {
      const stem = `${enc(this.id)}/${mediaId}-v${v}`;
      return t === "VIDEO"
        ? { media_url: `CDN:instagram/${stem}/video.mp4`, thumbnail_url: `CDN:instagram/${stem}/64.jpg` }
        : { media_url: `CDN:instagram/${stem}/64.jpg` };
    };
    const item: MediaItem = {
      id,
      media_type: type,
      ...file(id, type === "VIDEO" ? "VIDEO" : "IMAGE"),
      permalink: `https://www.instagram.com/p/${base62Id(id).slice(0, 11)}/`,
      timestamp: new Date(at).toISOString().replace(/\.\d{3}Z$/, "+0000"),
      username: this.displayName,
      like_count: rng.int(2000),
      comments_count: rng.int(80),
    };
    const caption = v === 0 ? title(rng, 0.2) : `${title(vrng, 0)} (edited ${v})`;
    if (caption !== "") item.caption = caption;
    if (type === "CAROUSEL_ALBUM") {
      const n = 2 + rng.int(3);
      item.children = Array.from({ length: n }, (_, c) => {
        const childId = numericId(17, this.seed, this.id, "child", i, c);
        const childType: MediaType = rng.chance(0.25) ? "VIDEO" : "IMAGE";
        return {
          id: childId,
          media_type: childType,
          ...file(childId, childType),
          permalink: item.permalink,
          timestamp: item.timestamp,
          username: this.displayName,
        };
      });
      item.media_url = item.children[0]!.media_url;
    }
    return item;
  }

  summary(): Record<string, unknown> {
    return {
      provider: this.provider,
      id: this.id,
      seed: this.seed,
      username: this.displayName,
      accountType: this.accountType,
      media: this.mediaCount,
      carousels: this.carousels,
      changedItems: this.versions.size,
    };
  }
}

export type FakeAccount = SpotifyAccount | InstagramAccount;

function enc(s: string): string {
  return encodeURIComponent(s);
}

function image(u: Urls, accountId: string, stem: string, px: number) {
  return { url: `${u.cdn}/spotify/${enc(accountId)}/${stem}/${px}.jpg`, height: px, width: px };
}
