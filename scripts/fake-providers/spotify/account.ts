/**
 * Fake Spotify accounts: profile, playlists (0 images, an unsized uploaded cover, or a 3-image
 * mosaic), top artists and tracks, recently played, all generated from the account's seed.
 * Changed playlists get a new snapshot_id and cover URL. Listening (the plays over time and
 * recently-played's window of them) is simulated in listening.ts.
 */
import { type CommonAccountSpec, BaseAccount, base62Id, clamp, enc, hash, iso, rngFor, title } from "../data";
import {
  type FakePlay,
  Listening,
  ListeningSpec,
  ListenPlays,
  MAX_EXPLICIT_PLAYS,
  WINDOW_SIZE,
  catalogueKey,
  keyOf,
  newestFirst,
  problem,
} from "./listening";

/** What addAccount accepts for Spotify. */
export interface SpotifyAccountSpec extends CommonAccountSpec {
  /** Playlists, 0..5,000 (default 12). */
  playlists?: number;
  /** Development mode: false → every Web API call answers 403 (default true). */
  allowListed?: boolean;
  /** Items per top list and time range (default 20, max 50). */
  topItems?: number;
  /** Recently played items (default 30, max 50, as Spotify keeps only the last 50). */
  recentlyPlayed?: number;
  /** Include fields that development-mode apps no longer get (popularity, followers, email…). */
  extendedQuota?: boolean;
  /** The stable `account_id` of /v1/me (May 2026); absent by default, as /v1/me then has none. */
  accountId?: string;
  /**
   * Plays over time on the fake clock, from the account's creation (listening.ts; default: none,
   * only the fixed plays before the creation).
   */
  listening?: ListeningSpec;
}

/** A play as the `plays` operation reports it (the fake's ground truth). */
export interface PlayTruth {
  playedAt: string;
  visibleAt: string;
  trackId: string;
  trackName: string;
  artists: { id: string; name: string }[];
  durationMs: number;
}

/** Generated links do not change a track's ids, name or duration. */
const NO_URLS: Urls = { spotifyApi: "", cdn: "" };

export const LIMITS = { playlists: 5000, top: 50, recent: 50 } as const;
const DEFAULTS = { playlists: 12, top: 20, recent: 30 } as const;

/** Where generated URLs point (the fake's own routes). */
export interface Urls {
  /** e.g. http://127.0.0.1:9090/spotify-api */
  spotifyApi: string;
  /** e.g. http://127.0.0.1:9090/cdn */
  cdn: string;
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

export class SpotifyAccount extends BaseAccount {
  readonly provider = "spotify" as const;
  allowListed: boolean;
  extendedQuota: boolean;
  playlistCount: number;
  topItems: number;
  recentCount: number;
  /** /v1/me's `account_id`, when set. */
  accountId: string | undefined;
  /** The listening simulation, when the spec asked for one. */
  readonly listening: Listening | undefined;
  /** Plays added by `listen`, newest first. */
  private readonly explicit: FakePlay[] = [];
  private readonly explicitAt = new Set<number>();
  private readonly trackInfo = new Map<string, Omit<PlayTruth, "playedAt" | "visibleAt">>();

  constructor(id: string, seed: number, spec: SpotifyAccountSpec, createdAtMs: number) {
    super(id, seed, spec.displayName ?? title(rngFor(seed, "user"), 0.1), createdAtMs);
    this.allowListed = spec.allowListed ?? true;
    this.extendedQuota = spec.extendedQuota ?? false;
    this.playlistCount = clamp(spec.playlists ?? DEFAULTS.playlists, LIMITS.playlists);
    this.topItems = clamp(spec.topItems ?? DEFAULTS.top, LIMITS.top);
    this.recentCount = clamp(spec.recentlyPlayed ?? DEFAULTS.recent, LIMITS.recent);
    if (spec.accountId !== undefined && (typeof spec.accountId !== "string" || spec.accountId === ""))
      throw new Error('"accountId" must be a non-empty string.');
    this.accountId = spec.accountId;
    if (spec.listening !== undefined) {
      const parsed = ListeningSpec.safeParse(spec.listening);
      if (!parsed.success) throw new Error(problem(parsed.error, '"listening"'));
      this.listening = new Listening(seed, createdAtMs, parsed.data);
    }
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

  /** Sets /v1/me's `account_id` (null removes it). */
  setAccountId(id: string | null): void {
    if (id !== null && (typeof id !== "string" || id === ""))
      throw new Error("setAccountId needs a non-empty string, or null to remove it.");
    this.accountId = id ?? undefined;
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
    if (this.accountId !== undefined) base.account_id = this.accountId;
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

  /** The fixed plays, newest first, played in the 3 days before the account was created. */
  private fixedPlays(): FakePlay[] {
    const rng = rngFor(this.seed, "recent");
    let t = this.createdAtMs - 60_000;
    const out: FakePlay[] = [];
    for (let i = 0; i < this.recentCount; i++) {
      t -= 60_000 + rng.int(90 * 60_000);
      const playlist = this.playlistCount > 0 && rng.chance(0.5) ? rng.int(this.playlistCount) : undefined;
      out.push({ playedAtMs: t, visibleAtMs: t, trackKey: `recent-${i}`, fixed: { index: i, playlist } });
    }
    return out;
  }

  /** The context a play was played from: a playlist, the track's album, or none. */
  private context(p: FakePlay, track: Record<string, unknown>, u: Urls): Record<string, unknown> | null {
    const playlistContext = (i: number) => ({
      type: "playlist",
      href: `${u.spotifyApi}/v1/playlists/${this.itemId(i)}`,
      external_urls: { spotify: `https://open.spotify.com/playlist/${this.itemId(i)}` },
      uri: `spotify:playlist:${this.itemId(i)}`,
    });
    if (p.fixed) {
      const i = p.fixed.index;
      return p.fixed.playlist === undefined
        ? { type: "album", href: `${u.spotifyApi}/v1/albums/x${i}`, external_urls: {}, uri: `spotify:album:x${i}` }
        : playlistContext(p.fixed.playlist);
    }
    const rng = rngFor(this.seed, "play-context", p.playedAtMs, p.trackKey);
    const r = rng.next();
    if (r < 0.5 && this.playlistCount > 0) return playlistContext(rng.int(Math.min(this.playlistCount, 20)));
    if (r < 0.85) {
      const album = track.album as { id: string; href: string; external_urls: unknown; uri: string };
      return { type: "album", href: album.href, external_urls: album.external_urls, uri: album.uri };
    }
    return null;
  }

  /**
   * Recently-played's window at `nowMs`: the latest 50 plays by played_at among those visible
   * then, newest first.
   */
  playWindow(nowMs: number): FakePlay[] {
    const visible = (p: FakePlay) => p.playedAtMs <= nowMs && p.visibleAtMs <= nowMs;
    const pool = [
      ...this.fixedPlays().filter(visible),
      ...this.explicit.filter(visible),
      ...(this.listening?.visibleNewest(nowMs, WINDOW_SIZE) ?? []),
    ];
    return pool.sort(newestFirst).slice(0, WINDOW_SIZE);
  }

  /** One PlayHistoryObject: the full track, played_at (ISO, ms), the context or null. */
  playItem(p: FakePlay, u: Urls): Record<string, unknown> {
    const track = this.track(p.trackKey, u);
    return { track, played_at: iso(p.playedAtMs), context: this.context(p, track, u) };
  }

  /** PlayHistoryObjects of the window at `nowMs` (default: the creation time), newest first. */
  recentlyPlayed(u: Urls, nowMs = this.createdAtMs): { playedAtMs: number; item: Record<string, unknown> }[] {
    return this.playWindow(nowMs).map((p) => ({ playedAtMs: p.playedAtMs, item: this.playItem(p, u) }));
  }

  /**
   * Adds plays (the `listen` operation: [{trackKey?, playedAt, visibleAt?}], ISO times): the same
   * trackKey always plays the same track ("0" … "199" are the simulation's catalogue); without
   * one, a catalogue track picked from the seed and the play time. Two plays cannot share a
   * millisecond. Returns what was added, oldest first.
   */
  listen(plays: unknown): PlayTruth[] {
    const parsed = ListenPlays.safeParse(plays);
    if (!parsed.success) throw new Error(problem(parsed.error, '"plays"'));
    if (this.explicit.length + parsed.data.length > MAX_EXPLICIT_PLAYS)
      throw new Error(`An account keeps at most ${MAX_EXPLICIT_PLAYS} added plays.`);
    const fixedAt = new Set(this.fixedPlays().map((p) => p.playedAtMs));
    const batchAt = new Set<number>();
    const added: FakePlay[] = [];
    for (const p of parsed.data) {
      const at = p.playedAt;
      const simulated = this.listening?.hour(this.listening.hourOf(at)).some((s) => s.playedAtMs === at) ?? false;
      if (fixedAt.has(at) || this.explicitAt.has(at) || batchAt.has(at) || simulated)
        throw new Error(`Another play already ends at ${iso(at)}: two plays cannot share a millisecond.`);
      batchAt.add(at);
      const trackKey =
        p.trackKey === undefined ? catalogueKey(rngFor(this.seed, "listen", at).next()) : keyOf(p.trackKey);
      added.push({ playedAtMs: at, visibleAtMs: p.visibleAt ?? at, trackKey });
    }
    for (const p of added) {
      this.explicit.push(p);
      this.explicitAt.add(p.playedAtMs);
    }
    this.explicit.sort(newestFirst);
    return added.sort((a, b) => newestFirst(b, a)).map((p) => this.truth(p));
  }

  /**
   * Every play made by `nowMs` (the `plays` operation: the ground truth tests compare with),
   * oldest first; `visibleOnly`: only those recently-played could have shown by then.
   */
  plays(nowMs: number, visibleOnly = false): PlayTruth[] {
    const made = (p: FakePlay) => p.playedAtMs <= nowMs && (!visibleOnly || p.visibleAtMs <= nowMs);
    const all = [
      ...this.fixedPlays().filter(made),
      ...this.explicit.filter(made),
      ...(this.listening?.madeBy(nowMs).filter(made) ?? []),
    ];
    return all.sort((a, b) => newestFirst(b, a)).map((p) => this.truth(p));
  }

  private truth(p: FakePlay): PlayTruth {
    let info = this.trackInfo.get(p.trackKey);
    if (!info) {
      const t = this.track(p.trackKey, NO_URLS) as {
        id: string;
        name: string;
        duration_ms: number;
        artists: { id: string; name: string }[];
      };
      info = {
        trackId: t.id,
        trackName: t.name,
        artists: t.artists.map((a) => ({ id: a.id, name: a.name })),
        durationMs: t.duration_ms,
      };
      this.trackInfo.set(p.trackKey, info);
    }
    return { playedAt: iso(p.playedAtMs), visibleAt: iso(p.visibleAtMs), ...info };
  }

  summary(): Record<string, unknown> {
    return {
      provider: this.provider,
      id: this.id,
      seed: this.seed,
      displayName: this.displayName,
      allowListed: this.allowListed,
      ...(this.accountId === undefined ? {} : { accountId: this.accountId }),
      playlists: this.playlistCount,
      topItems: this.topItems,
      recentlyPlayed: this.recentCount,
      listening: this.listening?.spec ?? null,
      addedPlays: this.explicit.length,
      changedItems: this.versions.size,
    };
  }
}

function image(u: Urls, accountId: string, stem: string, px: number) {
  return { url: `${u.cdn}/spotify/${enc(accountId)}/${stem}/${px}.jpg`, height: px, width: px };
}
