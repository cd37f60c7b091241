/**
 * Reads YouTube's snapshot documents (channel, liked videos, subscriptions, playlists; shapes in
 * functions/src/providers/youtube/mapping.ts) into what its panels show. Pure (unit-tested through
 * web/src/readers.ts).
 *
 * Links are https: only (`httpsUrl`). Thumbnails stay YouTube's public URLs, shown by an <img>
 * directly (never copied to Storage: YouTube's policies); `imageUrl` keeps https: URLs and, for the
 * local fake provider server, http: on the loopback address. The CSP's img-src says which hosts load.
 */
import { type Obj, httpsUrl, isObj, isoDate, itemsOf, num, str } from "../../fields";

const WATCH = "https://www.youtube.com/watch?v=";
const CHANNEL = "https://www.youtube.com/channel/";
const PLAYLIST = "https://www.youtube.com/playlist?list=";

/** `v` as an image source: an absolute https: URL, or http: on a loopback host (the local fake); else null. */
export function imageUrl(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  try {
    const u = new URL(s);
    if (u.protocol === "https:") return u.href;
    const loopback = u.hostname === "127.0.0.1" || u.hostname === "localhost" || u.hostname === "[::1]";
    return u.protocol === "http:" && loopback ? u.href : null;
  } catch {
    return null;
  }
}

/** A count: a non-negative number (Firestore keeps the sync's integers), else null. */
const count = (v: unknown): number | null => {
  const n = num(v);
  return n !== null && n >= 0 ? n : null;
};

/** The snapshot's link, or the one built from the id (the sync writes both; an odd link is not used). */
const link = (v: unknown, base: string, id: string): string => httpsUrl(v) ?? `${base}${encodeURIComponent(id)}`;

export interface YoutubeChannel {
  id: string;
  title: string;
  /** The channel's handle ("@name"), when it has one. */
  handle: string | null;
  url: string;
  thumbnailUrl: string | null;
  /** Null when the channel hides its subscriber count (or YouTube did not say). */
  subscribers: number | null;
  views: number | null;
  videos: number | null;
}

export interface YoutubeChannelState {
  channel: YoutubeChannel | null;
  /** The sync's sentence when the Google account has no channel; null otherwise. */
  message: string | null;
}

/** The channel snapshot: `{ channel: {...} | null, message }`. */
export function readYoutubeChannel(doc: unknown): YoutubeChannelState {
  if (!isObj(doc)) return { channel: null, message: null };
  const message = str(doc.message);
  const c = isObj(doc.channel) ? doc.channel : null;
  const id = c ? str(c.id) : null;
  if (!c || !id) return { channel: null, message };
  const stats: Obj = isObj(c.statistics) ? c.statistics : {};
  return {
    channel: {
      id,
      title: str(c.title) ?? "(untitled channel)",
      handle: str(c.customUrl),
      url: link(c.url, CHANNEL, id),
      thumbnailUrl: imageUrl(c.thumbnailUrl),
      subscribers: count(stats.subscribers),
      views: count(stats.views),
      videos: count(stats.videos),
    },
    message,
  };
}

export interface LikedVideo {
  id: string;
  title: string;
  url: string;
  channelTitle: string | null;
  durationSeconds: number | null;
  views: number | null;
  thumbnailUrl: string | null;
  publishedAt: Date | null;
}

/** The liked-videos snapshot: `{ total, items: [{ id, title, channelTitle, durationSeconds, views, thumbnailUrl, url }] }`. */
export function readLikedVideos(doc: unknown): LikedVideo[] {
  return itemsOf(doc).flatMap((v) => {
    const id = str(v.id);
    if (!id) return [];
    return [
      {
        id,
        title: str(v.title) ?? "(untitled video)",
        url: link(v.url, WATCH, id),
        channelTitle: str(v.channelTitle),
        durationSeconds: count(v.durationSeconds),
        views: count(v.views),
        thumbnailUrl: imageUrl(v.thumbnailUrl),
        publishedAt: isoDate(v.publishedAt),
      },
    ];
  });
}

export interface YoutubeSubscription {
  id: string;
  channelId: string;
  title: string;
  url: string;
  thumbnailUrl: string | null;
  subscribedAt: Date | null;
}

/** The subscriptions snapshot: `{ total, items: [{ id, channelId, title, thumbnailUrl, subscribedAt, url }] }`. */
export function readSubscriptions(doc: unknown): YoutubeSubscription[] {
  return itemsOf(doc).flatMap((s) => {
    const channelId = str(s.channelId);
    if (!channelId) return [];
    return [
      {
        id: str(s.id) ?? channelId,
        channelId,
        title: str(s.title) ?? "(untitled channel)",
        url: link(s.url, CHANNEL, channelId),
        thumbnailUrl: imageUrl(s.thumbnailUrl),
        subscribedAt: isoDate(s.subscribedAt),
      },
    ];
  });
}

export type PrivacyStatus = "public" | "unlisted" | "private";

export interface YoutubePlaylist {
  id: string;
  title: string;
  url: string;
  itemCount: number | null;
  /** YouTube's privacy status; null when absent or not one YouTube has. */
  privacy: PrivacyStatus | null;
  thumbnailUrl: string | null;
}

const PRIVACY: readonly string[] = ["public", "unlisted", "private"] satisfies PrivacyStatus[];

/** The playlists snapshot: `{ total, items: [{ id, title, itemCount, privacyStatus, thumbnailUrl, url }] }`. */
export function readYoutubePlaylists(doc: unknown): YoutubePlaylist[] {
  return itemsOf(doc).flatMap((p) => {
    const id = str(p.id);
    if (!id) return [];
    const privacy = str(p.privacyStatus);
    return [
      {
        id,
        title: str(p.title) ?? "(untitled playlist)",
        url: link(p.url, PLAYLIST, id),
        itemCount: count(p.itemCount),
        privacy: privacy && PRIVACY.includes(privacy) ? (privacy as PrivacyStatus) : null,
        thumbnailUrl: imageUrl(p.thumbnailUrl),
      },
    ];
  });
}

/** What Google reported as a listing's total (`total`), or null. */
export function youtubeTotal(doc: unknown): number | null {
  return isObj(doc) ? count(doc.total) : null;
}

/** A duration as a clock: 253 → "4:13", 3723 → "1:02:03"; null for none (live streams have 0). */
export function formatDuration(seconds: number | null): string | null {
  if (seconds === null || !Number.isFinite(seconds) || seconds <= 0) return null;
  const s = Math.floor(seconds % 60);
  const m = Math.floor(seconds / 60) % 60;
  const h = Math.floor(seconds / 3600);
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}
