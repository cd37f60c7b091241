/**
 * YouTube answers → the compact snapshot documents stored under `users/{uid}/youtube/last-response_*`
 * (shapes in the README, "Stored snapshot shapes"). Counts become numbers, durations seconds,
 * thumbnails one public URL (never copied: YouTube's policies, README "YouTube"). Every field is
 * present (null when Google did not send it): Firestore rejects `undefined`.
 */
import type { Channel, Playlist, Subscription, Thumbnails, Video } from "./schemas";

export interface ChannelEntry {
  id: string;
  title: string;
  description: string | null;
  customUrl: string | null;
  publishedAt: string | null;
  thumbnailUrl: string | null;
  country: string | null;
  url: string;
  statistics: { subscribers: number | null; views: number | null; videos: number | null };
}
export interface ChannelSnapshot {
  channel: ChannelEntry | null;
  /** A sentence for the person when the account has no channel; null otherwise. */
  message: string | null;
}

export interface VideoEntry {
  id: string;
  title: string;
  channelId: string | null;
  channelTitle: string | null;
  publishedAt: string | null;
  durationSeconds: number | null;
  thumbnailUrl: string | null;
  views: number | null;
  likes: number | null;
  url: string;
}
export interface SubscriptionEntry {
  id: string;
  channelId: string;
  title: string;
  description: string | null;
  thumbnailUrl: string | null;
  subscribedAt: string | null;
  url: string;
}
export interface PlaylistEntry {
  id: string;
  title: string;
  description: string | null;
  itemCount: number | null;
  privacyStatus: string | null;
  publishedAt: string | null;
  thumbnailUrl: string | null;
  url: string;
}
/** A listing snapshot: what Google reported as the total, and the items read. */
export interface ListSnapshot<E> {
  total: number | null;
  items: E[];
}

export const NO_CHANNEL_MESSAGE =
  "This Google account has no YouTube channel, so there are no channel statistics, liked videos, " +
  "subscriptions or playlists to show. Create a channel on youtube.com and the next sync brings them.";

const WATCH = "https://www.youtube.com/watch?v=";
const CHANNEL = "https://www.youtube.com/channel/";
const PLAYLIST = "https://www.youtube.com/playlist?list=";

/** A decimal count as a number (null when absent or beyond what a double holds exactly). */
export function count(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

/** Seconds of an ISO 8601 duration as YouTube writes them (`PT4M13S`, `P1DT2H`); null when unreadable. */
export function durationSeconds(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso);
  if (!m || iso === "P" || iso.endsWith("T")) return null;
  const [w, d, h, min, s] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x))) as number[];
  return (((w! * 7 + d!) * 24 + h!) * 60 + min!) * 60 + s!;
}

/** The URL of a medium-sized thumbnail (medium, then high, default, any). */
export function thumbnailUrl(thumbnails: Thumbnails | null | undefined): string | null {
  if (!thumbnails) return null;
  const pick = thumbnails.medium ?? thumbnails.high ?? thumbnails.default ?? Object.values(thumbnails)[0];
  return pick?.url ?? null;
}

export function mapChannel(c: Channel): ChannelEntry {
  const s = c.statistics;
  return {
    id: c.id,
    title: c.snippet?.title ?? "",
    description: c.snippet?.description || null,
    customUrl: c.snippet?.customUrl ?? null,
    publishedAt: c.snippet?.publishedAt ?? null,
    thumbnailUrl: thumbnailUrl(c.snippet?.thumbnails),
    country: c.snippet?.country ?? null,
    url: `${CHANNEL}${encodeURIComponent(c.id)}`,
    statistics: {
      // A hidden count is not zero: YouTube does not say it.
      subscribers: s?.hiddenSubscriberCount ? null : count(s?.subscriberCount),
      views: count(s?.viewCount),
      videos: count(s?.videoCount),
    },
  };
}

export function mapVideo(v: Video): VideoEntry {
  return {
    id: v.id,
    title: v.snippet.title,
    channelId: v.snippet.channelId ?? null,
    channelTitle: v.snippet.channelTitle ?? null,
    publishedAt: v.snippet.publishedAt ?? null,
    durationSeconds: durationSeconds(v.contentDetails?.duration),
    thumbnailUrl: thumbnailUrl(v.snippet.thumbnails),
    views: count(v.statistics?.viewCount),
    likes: count(v.statistics?.likeCount),
    url: `${WATCH}${encodeURIComponent(v.id)}`,
  };
}

export function mapSubscription(s: Subscription): SubscriptionEntry {
  const channelId = s.snippet.resourceId.channelId;
  return {
    id: s.id,
    channelId,
    title: s.snippet.title,
    description: s.snippet.description || null,
    thumbnailUrl: thumbnailUrl(s.snippet.thumbnails),
    subscribedAt: s.snippet.publishedAt ?? null,
    url: `${CHANNEL}${encodeURIComponent(channelId)}`,
  };
}

export function mapPlaylist(p: Playlist): PlaylistEntry {
  return {
    id: p.id,
    title: p.snippet.title,
    description: p.snippet.description || null,
    itemCount: p.contentDetails?.itemCount ?? null,
    privacyStatus: p.status?.privacyStatus ?? null,
    publishedAt: p.snippet.publishedAt ?? null,
    thumbnailUrl: thumbnailUrl(p.snippet.thumbnails),
    url: `${PLAYLIST}${encodeURIComponent(p.id)}`,
  };
}
