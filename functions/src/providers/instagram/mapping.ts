/**
 * Instagram answers → the snapshot documents stored under `users/{uid}/instagram/last-response_*`,
 * and the media files to mirror.
 *
 * Media decision: every mirrored file is a JPEG image, `{uid}/instagram/{mediaId}.jpg`:
 * - IMAGE → its `media_url`;
 * - VIDEO → its `thumbnail_url` (the still the dashboard shows; the video itself plays from
 *   `permalink` on Instagram — videos are large and a mirror of them would dwarf everything else);
 * - CAROUSEL_ALBUM → nothing for the album itself; each child gets its own item by the same rules
 *   (the album's cover is its first child).
 * A media item without the URL its type needs gets `file_ext: null` and no mirror item.
 * CDN URLs expire (signed), so snapshots keep no URLs: the dashboard shows the mirrored file. The
 * mirror version is the media id + the URL's path (the signature in the query changes every fetch).
 */
import { safePath } from "../../http/client";
import type { ItemParser } from "../descriptor";
import type { MirrorItem } from "../types";
import { Child, type Media, type Profile } from "./schemas";

export interface ProfileSnapshot {
  id: string;
  username: string | null;
  name: string | null;
  account_type: string | null;
  media_count: number | null;
  followers_count: number | null;
  follows_count: number | null;
  profile_picture_url: string | null;
}

export interface ChildEntry {
  id: string;
  media_type: string;
  /** Extension of the mirrored file `{uid}/instagram/{id}.{file_ext}`, or null when none is mirrored. */
  file_ext: "jpg" | null;
}
export interface MediaEntry extends ChildEntry {
  caption: string | null;
  permalink: string | null;
  timestamp: string | null;
  like_count: number | null;
  comments_count: number | null;
  /** Carousel children in order; empty for IMAGE and VIDEO. */
  children: ChildEntry[];
}
export interface MediaSnapshot {
  items: MediaEntry[];
}

export function accountId(p: Profile): string {
  return String(p.user_id ?? p.id);
}

export function mapProfile(p: Profile): ProfileSnapshot {
  return {
    id: accountId(p),
    username: p.username ?? null,
    name: p.name ?? null,
    account_type: p.account_type ?? null,
    media_count: p.media_count ?? null,
    followers_count: p.followers_count ?? null,
    follows_count: p.follows_count ?? null,
    profile_picture_url: p.profile_picture_url ?? null,
  };
}

/** The URL mirrored for one media object (see the header), or undefined. */
export function imageUrlOf(m: { media_type: string; media_url?: string; thumbnail_url?: string }): string | undefined {
  if (m.media_type === "IMAGE") return m.media_url;
  if (m.media_type === "VIDEO") return m.thumbnail_url;
  return undefined;
}

function entry(m: Child | Media, mirror: MirrorItem[]): ChildEntry {
  const url = imageUrlOf(m);
  if (url) mirror.push({ id: m.id, url, ext: "jpg", version: `${m.id}|${safePath(url)}` });
  return { id: m.id, media_type: m.media_type, file_ext: url ? "jpg" : null };
}

/** Maps validated media (children validated here, bad ones skipped and counted by `parser`). */
export function mapMedia(
  media: readonly Media[],
  parser: ItemParser,
): { snapshot: MediaSnapshot; mirror: MirrorItem[]; children: number } {
  const mirror: MirrorItem[] = [];
  let children = 0;
  const items = media.map((m): MediaEntry => {
    const kids =
      m.media_type === "CAROUSEL_ALBUM" ? parser.parse("carousel children", Child, m.children?.data ?? []) : [];
    children += kids.length;
    const self =
      m.media_type === "CAROUSEL_ALBUM" ? { id: m.id, media_type: m.media_type, file_ext: null } : entry(m, mirror);
    return {
      ...self,
      caption: m.caption ?? null,
      permalink: m.permalink ?? null,
      timestamp: m.timestamp ?? null,
      like_count: m.like_count ?? null,
      comments_count: m.comments_count ?? null,
      children: kids.map((k) => entry(k, mirror)),
    };
  });
  return { snapshot: { items }, mirror, children };
}

/** Media whose like and comment counts a daily point keeps (the newest ones). */
export const POINT_MEDIA = 200;

/**
 * The daily point: the profile's counts and, for the POINT_MEDIA newest media, [likes, comments]
 * by media id. Null when the snapshots hold no profile.
 */
export function historyPoint(snapshots: Record<string, unknown>): Record<string, unknown> | null {
  const profile = snapshots.profile as Partial<ProfileSnapshot> | undefined;
  if (!profile) return null;
  const media = (snapshots.media as Partial<MediaSnapshot> | undefined)?.items ?? [];
  const newest = [...media]
    .sort((a, b) => (Date.parse(b.timestamp ?? "") || 0) - (Date.parse(a.timestamp ?? "") || 0))
    .slice(0, POINT_MEDIA);
  return {
    followers: profile.followers_count ?? null,
    follows: profile.follows_count ?? null,
    media: profile.media_count ?? null,
    posts: Object.fromEntries(newest.map((m) => [m.id, [m.like_count ?? null, m.comments_count ?? null]])),
  };
}
