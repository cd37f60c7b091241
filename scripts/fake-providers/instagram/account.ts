/**
 * Fake Instagram accounts (professional accounts, Instagram API with Instagram Login): profile and
 * media (images, videos with thumbnails, carousels with children, captions sometimes absent), all
 * generated from the account's seed. A changed media item gets a new caption and media_url path.
 */
import { type CommonAccountSpec, BaseAccount, base62Id, clamp, enc, numericId, rngFor, title } from "../data";

/** What addAccount accepts for Instagram. */
export interface InstagramAccountSpec extends CommonAccountSpec {
  /** Media, 0..2,000 (default 15). */
  media?: number;
  /** Include CAROUSEL_ALBUM posts (default true). */
  carousels?: boolean;
}

export const LIMITS = { media: 2000 } as const;
const DEFAULTS = { media: 15 } as const;

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

  constructor(id: string, seed: number, spec: InstagramAccountSpec, createdAtMs: number) {
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
      follows_count: rngFor(this.seed, "follows").int(2_000),
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
