/**
 * Fake YouTube accounts: a Google account with or without a YouTube channel, its liked videos,
 * subscriptions and own playlists, all generated from the account's seed.
 *
 * Videos and the channels one subscribes to come from two shared pools (a video or channel is
 * the same, with the same title and statistics, in everyone's lists, as on YouTube); an account
 * walks the pools from a seeded start with a prime stride, so its lists never repeat an item.
 * The main list (changeItems) is the account's own playlists: a changed playlist keeps its id
 * and gets a new title, item count, first video (so new thumbnail URLs) and etag.
 */
import { createHash } from "node:crypto";
import { type CommonAccountSpec, BaseAccount, type Rng, clamp, hash, iso, rngFor, title } from "../data";

/** What addAccount accepts for YouTube (`displayName` is the channel's title, or the Google account's name). */
export interface YouTubeAccountSpec extends CommonAccountSpec {
  /**
   * The Google account has a YouTube channel (default true). Without one, channels answers 200
   * with no `items`, liked videos are empty, subscriptions and playlists answer 404.
   */
  hasChannel?: boolean;
  /** Liked videos, 0..5,000 (default 20; YouTube's Liked list keeps at most 5,000). */
  likedVideos?: number;
  /** Subscriptions, 0..2,000 (default 15). */
  subscriptions?: number;
  /** The channel's own playlists, 0..1,000 (default 6). */
  playlists?: number;
  /** The channel hides its subscriber count: statistics carry no subscriberCount (default false). */
  hiddenSubscriberCount?: boolean;
}

export const LIMITS = { likedVideos: 5000, subscriptions: 2000, playlists: 1000 } as const;
const DEFAULTS = { likedVideos: 20, subscriptions: 15, playlists: 6 } as const;

/** Where generated URLs point: the fake's thumbnail routes, e.g. http://127.0.0.1:9090/cdn/youtube. */
export interface Urls {
  cdn: string;
}

/** Pool sizes (primes) and the stride an account walks them with (a prime below both). */
const VIDEO_POOL = 1_000_003;
const CHANNEL_POOL = 100_003;
const STRIDE = 7919;

const DAY_MS = 24 * 3600_000;
/** Pool videos were uploaded between these dates (fixed, so a video's date never depends on the clock). */
const POOL_FROM_MS = Date.UTC(2008, 0, 1);
const POOL_SPAN_MS = Date.UTC(2025, 0, 1) - POOL_FROM_MS;
const CATEGORIES = ["1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28"];
const COUNTRIES = ["SE", "DE", "JP", "BR", "US", "FR", "KR", "GR"];

const mod = (n: number, m: number) => ((n % m) + m) % m;
const b64 = (buf: Buffer) => buf.toString("base64url");

/** An 11-character video id (64 bits in base64url, as YouTube's). */
export function videoId(k: number): string {
  return b64(hash("yt-video", k).subarray(0, 8));
}

/** "UC" + 22 base64url characters (128 bits): a channel id. */
function channelId(...parts: (string | number)[]): string {
  return `UC${b64(hash(...parts).subarray(0, 16))}`;
}

/** Timestamps as YouTube writes them: whole seconds, "Z". */
const ytTime = (ms: number) => iso(ms).replace(/\.\d{3}Z$/, "Z");

/** ISO 8601 duration as YouTube writes it: "PT4M13S", "PT1H", "P1DT2H3M4S". */
export function isoDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const time = `${h ? `${h}H` : ""}${m ? `${m}M` : ""}${s ? `${s}S` : ""}`;
  if (!d && !time) return "P0D";
  return `P${d ? `${d}D` : ""}${time ? `T${time}` : ""}`;
}

/** YouTube rounds public subscriber counts down to three significant figures. */
export function roundSubscribers(n: number): number {
  if (n < 1000) return n;
  const unit = 10 ** (String(Math.floor(n)).length - 3);
  return Math.floor(n / unit) * unit;
}

/** Counts spread over orders of magnitude (most videos have few views, some have millions). */
const skewed = (rng: Rng, maxExp: number) => Math.floor(10 ** (rng.next() * maxExp));

/** A value's etag: a hash of its JSON (changes exactly when the value does). */
export function etagOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("base64url").slice(0, 27);
}

type Thumb = { url: string; width: number; height: number };

function videoThumbnails(u: Urls, id: string, rng: Rng): Record<string, Thumb> {
  const t = (file: string, width: number, height: number) => ({ url: `${u.cdn}/vi/${id}/${file}.jpg`, width, height });
  const out: Record<string, Thumb> = {
    default: t("default", 120, 90),
    medium: t("mqdefault", 320, 180),
    high: t("hqdefault", 480, 360),
  };
  // Older and low-resolution uploads have no standard or maxres thumbnail.
  if (rng.chance(0.7)) out.standard = t("sddefault", 640, 480);
  if (out.standard && rng.chance(0.6)) out.maxres = t("maxresdefault", 1280, 720);
  return out;
}

function channelThumbnails(u: Urls, id: string): Record<string, Thumb> {
  const t = (px: number) => ({ url: `${u.cdn}/ch/${id}/s${px}.jpg`, width: px, height: px });
  return { default: t(88), medium: t(240), high: t(800) };
}

/** The picture YouTube shows for an empty playlist. */
function noThumbnail(u: Urls): Record<string, Thumb> {
  const url = `${u.cdn}/img/no_thumbnail.jpg`;
  return {
    default: { url, width: 120, height: 90 },
    medium: { url, width: 320, height: 180 },
    high: { url, width: 480, height: 360 },
  };
}

/** A channel of the shared pool (what one subscribes to, who uploaded a video). */
function poolChannel(c: number): { id: string; title: string; description: string; publishedAtMs: number } {
  const rng = rngFor("yt-channel", c);
  return {
    id: channelId("yt-channel", c),
    title: title(rng, 0),
    description: rng.chance(0.3) ? "" : title(rng, 0),
    publishedAtMs: POOL_FROM_MS + rng.int(POOL_SPAN_MS),
  };
}

/** One YouTube resource as the routes see it: every part the fake generates, keyed by part name. */
export interface Resource {
  kind: string;
  id: string;
  parts: Record<string, Record<string, unknown>>;
}

export class YouTubeAccount extends BaseAccount {
  readonly provider = "youtube" as const;
  hasChannel: boolean;
  hiddenSubscriberCount: boolean;
  likedCount: number;
  subscriptionCount: number;
  playlistCount: number;
  /** The channel's id (it exists, unused, while the account has no channel, so it stays stable). */
  readonly channelId: string;
  private readonly likesStart: number;
  private readonly subscriptionsStart: number;
  /** Videos liked while running (likeVideos): they come first, the older likes move down. */
  private likesAdded = 0;

  constructor(id: string, seed: number, spec: YouTubeAccountSpec, createdAtMs: number) {
    super(id, seed, spec.displayName ?? title(rngFor(seed, "yt-user"), 0), createdAtMs);
    this.hasChannel = spec.hasChannel ?? true;
    this.hiddenSubscriberCount = spec.hiddenSubscriberCount ?? false;
    this.likedCount = clamp(spec.likedVideos ?? DEFAULTS.likedVideos, LIMITS.likedVideos);
    this.subscriptionCount = clamp(spec.subscriptions ?? DEFAULTS.subscriptions, LIMITS.subscriptions);
    this.playlistCount = clamp(spec.playlists ?? DEFAULTS.playlists, LIMITS.playlists);
    this.channelId = channelId(seed, id, "channel");
    this.likesStart = rngFor(seed, "yt-likes").int(VIDEO_POOL);
    this.subscriptionsStart = rngFor(seed, "yt-subscriptions").int(CHANNEL_POOL);
  }

  get itemCount(): number {
    return this.playlistCount;
  }

  setHasChannel(on: boolean): void {
    this.hasChannel = on;
  }

  setHiddenSubscriberCount(on: boolean): void {
    this.hiddenSubscriberCount = on;
  }

  setLikedVideoCount(n: number): void {
    this.likedCount = clamp(n, LIMITS.likedVideos);
  }

  setSubscriptionCount(n: number): void {
    this.subscriptionCount = clamp(n, LIMITS.subscriptions);
  }

  setPlaylistCount(n: number): void {
    this.playlistCount = clamp(n, LIMITS.playlists);
  }

  /**
   * Likes `n` more videos now: they lead the list (most recent like first), the earlier likes
   * move down, and past 5,000 the oldest fall off. Returns the new videos' ids.
   */
  likeVideos(n: number): string[] {
    const count = clamp(n, LIMITS.likedVideos);
    this.likesAdded += count;
    this.likedCount = Math.min(LIMITS.likedVideos, this.likedCount + count);
    return Array.from({ length: Math.min(count, this.likedCount) }, (_, i) => this.likedVideoId(i));
  }

  itemId(i: number): string {
    return `PL${b64(hash(this.seed, this.id, "playlist", i)).slice(0, 32)}`;
  }

  /** The id of liked video `i` (0 = the most recent like). */
  likedVideoId(i: number): string {
    return videoId(this.likedPoolIndex(i));
  }

  private likedPoolIndex(i: number): number {
    return mod(this.likesStart + STRIDE * (i - this.likesAdded), VIDEO_POOL);
  }

  private subscriptionPoolIndex(i: number): number {
    return mod(this.subscriptionsStart + STRIDE * i, CHANNEL_POOL);
  }

  /** GET channels?mine=true: the account's channel (undefined without one). */
  channel(u: Urls): Resource | undefined {
    if (!this.hasChannel) return undefined;
    const rng = rngFor(this.seed, "yt-channel-own");
    const description = rng.chance(0.3) ? "" : title(rng, 0);
    const publishedAtMs = this.createdAtMs - (30 + rng.int(12 * 365)) * DAY_MS - rng.int(DAY_MS);
    const handle = `@${this.displayName.toLowerCase().replace(/[^a-z0-9]+/g, "") || "channel"}${this.seed}`;
    const snippet: Record<string, unknown> = {
      title: this.displayName,
      description,
      // Channels' dates come with microseconds, unlike videos'.
      publishedAt: iso(publishedAtMs).replace(/Z$/, `${String(rng.int(1000)).padStart(3, "0")}Z`),
      thumbnails: channelThumbnails(u, this.channelId),
      localized: { title: this.displayName, description },
    };
    // Most channels have a handle; old ones may still have none.
    if (rng.chance(0.9)) snippet.customUrl = handle;
    if (rng.chance(0.6)) snippet.country = rng.pick(COUNTRIES);
    const subscribers = roundSubscribers(skewed(rng, 6));
    const statistics: Record<string, unknown> = {
      viewCount: String(skewed(rng, 8)),
      subscriberCount: String(subscribers),
      hiddenSubscriberCount: this.hiddenSubscriberCount,
      videoCount: String(rng.int(400)),
    };
    // A hidden count is left out, not sent as "0".
    if (this.hiddenSubscriberCount) delete statistics.subscriberCount;
    return {
      kind: "youtube#channel",
      id: this.channelId,
      parts: {
        snippet,
        contentDetails: { relatedPlaylists: { likes: "LL", uploads: `UU${this.channelId.slice(2)}` } },
        statistics,
        status: {
          privacyStatus: "public",
          isLinked: true,
          longUploadsStatus: "longUploadsUnspecified",
          madeForKids: false,
        },
      },
    };
  }

  /** Liked video `i` (0 = the most recent like): a video of the shared pool. */
  likedVideo(i: number, u: Urls): Resource {
    const k = this.likedPoolIndex(i);
    const id = videoId(k);
    const rng = rngFor("yt-video", k);
    const channel = poolChannel(rng.int(CHANNEL_POOL));
    const videoTitle = title(rng, 0);
    const description = rng.chance(0.25) ? "" : title(rng, 0);
    const roll = rng.next();
    // Mostly a few minutes; some shorts, some long videos, a few streams of more than a day.
    const seconds =
      roll < 0.08
        ? 5 + rng.int(55)
        : roll < 0.78
          ? 60 + rng.int(14 * 60)
          : roll < 0.98
            ? 900 + rng.int(75 * 60)
            : 3 * 3600 + rng.int(27 * 3600);
    const views = skewed(rng, 8);
    const statistics: Record<string, unknown> = {
      viewCount: String(views),
      likeCount: String(Math.floor(views * 0.03 * rng.next())),
      favoriteCount: "0",
      commentCount: String(Math.floor(views * 0.002 * rng.next())),
    };
    // Creators can hide like counts and turn comments off: the counts are then absent.
    if (rng.chance(0.05)) delete statistics.likeCount;
    if (rng.chance(0.08)) delete statistics.commentCount;
    return {
      kind: "youtube#video",
      id,
      parts: {
        snippet: {
          publishedAt: ytTime(POOL_FROM_MS + rng.int(POOL_SPAN_MS)),
          channelId: channel.id,
          title: videoTitle,
          description,
          thumbnails: videoThumbnails(u, id, rng),
          channelTitle: channel.title,
          categoryId: rng.pick(CATEGORIES),
          liveBroadcastContent: "none",
          localized: { title: videoTitle, description },
        },
        contentDetails: {
          duration: isoDuration(seconds),
          dimension: "2d",
          definition: rng.chance(0.85) ? "hd" : "sd",
          caption: rng.chance(0.2) ? "true" : "false",
          licensedContent: rng.chance(0.5),
          contentRating: {},
          projection: "rectangular",
        },
        statistics,
      },
    };
  }

  /** Subscription `i`, in the order YouTube calls "relevance" (the fake's natural order). */
  subscription(i: number, u: Urls): Resource {
    const channel = poolChannel(this.subscriptionPoolIndex(i));
    const rng = rngFor(this.seed, "yt-subscription", i);
    const subscribedAtMs = this.createdAtMs - (i + 1) * 3 * DAY_MS - rng.int(DAY_MS);
    return {
      kind: "youtube#subscription",
      id: b64(hash(this.id, "subscription", channel.id)),
      parts: {
        snippet: {
          publishedAt: ytTime(subscribedAtMs),
          title: channel.title,
          description: channel.description,
          resourceId: { kind: "youtube#channel", channelId: channel.id },
          channelId: this.channelId,
          thumbnails: channelThumbnails(u, channel.id),
        },
        contentDetails: { totalItemCount: rng.int(2000), newItemCount: 0, activityType: "all" },
      },
    };
  }

  /** The subscription indexes in `order` ("alphabetical": by channel title; otherwise natural). */
  subscriptionOrder(order: "alphabetical" | "relevance" | "unread"): number[] {
    const indexes = Array.from({ length: this.subscriptionCount }, (_, i) => i);
    if (order !== "alphabetical") return indexes;
    const keys = indexes.map((i) => {
      const c = poolChannel(this.subscriptionPoolIndex(i));
      return { i, title: c.title, id: c.id };
    });
    keys.sort((a, b) => a.title.localeCompare(b.title, "en") || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return keys.map((k) => k.i);
  }

  /** Own playlist `i`: a changed one (changeItems) gets a new title, item count and first video. */
  playlist(i: number, u: Urls): Resource {
    const id = this.itemId(i);
    const v = this.version(i);
    const rng = rngFor(this.seed, "yt-playlist", i);
    const vrng = rngFor(this.seed, "yt-playlist", i, "v", v);
    const name = v === 0 ? title(rng, 0) : `${title(vrng, 0)} (v${v})`;
    const description = rng.chance(0.5) ? "" : title(rng, 0);
    const itemCount = v === 0 ? (rng.chance(0.1) ? 0 : 1 + rng.int(200)) : 1 + vrng.int(200);
    const privacy = rng.next();
    const firstVideo = (v === 0 ? rng : vrng).int(VIDEO_POOL);
    return {
      kind: "youtube#playlist",
      id,
      parts: {
        snippet: {
          publishedAt: ytTime(this.createdAtMs - (i + 1) * 5 * DAY_MS - rng.int(DAY_MS)),
          channelId: this.channelId,
          title: name,
          description,
          thumbnails:
            itemCount === 0 ? noThumbnail(u) : videoThumbnails(u, videoId(firstVideo), rngFor("yt-video", firstVideo)),
          channelTitle: this.displayName,
          localized: { title: name, description },
        },
        contentDetails: { itemCount },
        status: { privacyStatus: privacy < 0.6 ? "public" : privacy < 0.8 ? "unlisted" : "private" },
      },
    };
  }

  summary(): Record<string, unknown> {
    return {
      provider: this.provider,
      id: this.id,
      seed: this.seed,
      displayName: this.displayName,
      hasChannel: this.hasChannel,
      channelId: this.hasChannel ? this.channelId : null,
      hiddenSubscriberCount: this.hiddenSubscriberCount,
      likedVideos: this.likedCount,
      subscriptions: this.subscriptionCount,
      playlists: this.playlistCount,
      changedItems: this.versions.size,
    };
  }
}
