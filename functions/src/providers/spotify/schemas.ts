/**
 * zod schemas of the Spotify answers the client reads (from docs/reference/spotify-web-api.openapi.yml).
 * Only fields the mapping uses are declared (zod drops the rest). Anything a development-mode app
 * may lose (popularity, followers, genres, country, product, email, …) is optional; envelopes
 * (paging fields) are strict, items are parsed one by one so a bad item is skipped, not fatal.
 */
import { z } from "zod";

/** Error answers: the accounts service says `{error: "invalid_grant", error_description}`, the API `{error: {status, message}}`. */
export const AccountsError = z.object({ error: z.string(), error_description: z.string().optional() });

/** A Web API error body; `reason` (also seen at the top level) says QUOTA_EXCEEDED for quota exhaustion (Jul 2026). */
export const ApiErrorBody = z.object({
  error: z
    .object({ status: z.number().optional(), message: z.string().optional(), reason: z.string().optional() })
    .optional(),
  reason: z.string().optional(),
});

/** The client-credentials grant's answer (an app token: no user, no refresh token). */
export const AppTokenAnswer = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().positive(),
});

export const Image = z.object({
  url: z.string().min(1),
  height: z.number().nullish(),
  width: z.number().nullish(),
});
export type Image = z.infer<typeof Image>;

const ExternalUrls = z.object({ spotify: z.string().optional() });

export const User = z.object({
  id: z.string().min(1),
  /** The stable account id (May 2026); when present it is the connection's account id. */
  account_id: z.string().min(1).max(256).optional(),
  display_name: z.string().nullish(),
  uri: z.string().nullish(),
  external_urls: ExternalUrls.nullish(),
  images: z.array(Image).nullish(),
  followers: z.object({ total: z.number().int().nullish() }).nullish(),
});
export type User = z.infer<typeof User>;

const Count = z.object({ total: z.number().int().nonnegative() });

export const Playlist = z.object({
  id: z.string().min(1),
  name: z.string(),
  description: z.string().nullish(),
  public: z.boolean().nullish(),
  collaborative: z.boolean().nullish(),
  owner: z.object({ id: z.string(), display_name: z.string().nullish() }).nullish(),
  images: z.array(Image).nullish(),
  snapshot_id: z.string().nullish(),
  /** The track count: `items` in current answers, `tracks` (deprecated) in older ones. */
  items: Count.nullish(),
  tracks: Count.nullish(),
  uri: z.string().nullish(),
  external_urls: ExternalUrls.nullish(),
});
export type Playlist = z.infer<typeof Playlist>;

const SimplifiedArtist = z.object({ id: z.string().nullish(), name: z.string() });

const Album = z.object({
  id: z.string().nullish(),
  name: z.string(),
  album_type: z.string().nullish(),
  release_date: z.string().nullish(),
  images: z.array(Image).nullish(),
});

export const Track = z.object({
  /** Null for local files. */
  id: z.string().nullish(),
  name: z.string(),
  uri: z.string().nullish(),
  duration_ms: z.number().int().nullish(),
  explicit: z.boolean().nullish(),
  popularity: z.number().nullish(),
  is_local: z.boolean().nullish(),
  artists: z.array(SimplifiedArtist).nullish(),
  album: Album.nullish(),
  external_urls: ExternalUrls.nullish(),
});
export type Track = z.infer<typeof Track>;

export const Artist = z.object({
  id: z.string().min(1),
  name: z.string(),
  uri: z.string().nullish(),
  genres: z.array(z.string()).nullish(),
  popularity: z.number().nullish(),
  followers: z.object({ total: z.number().int().nullish() }).nullish(),
  images: z.array(Image).nullish(),
  external_urls: ExternalUrls.nullish(),
});
export type Artist = z.infer<typeof Artist>;

export const PlayHistory = z.object({
  played_at: z.string().min(1),
  track: Track,
  context: z.object({ type: z.string().nullish(), uri: z.string().nullish() }).nullish(),
});
export type PlayHistory = z.infer<typeof PlayHistory>;

/** Offset paging (`/me/playlists`, `/me/top/*`): `next` is null on the last page. */
export const OffsetPage = z.object({
  items: z.array(z.unknown()),
  next: z.string().nullable(),
  total: z.number().int().nonnegative(),
  limit: z.number().int().optional(),
  offset: z.number().int().optional(),
});

export type OffsetPage = z.infer<typeof OffsetPage>;

/** Cursor paging (`/me/player/recently-played`). */
export const CursorPage = z.object({
  items: z.array(z.unknown()),
  next: z.string().nullish(),
  cursors: z.object({ after: z.string().nullish(), before: z.string().nullish() }).nullish(),
  limit: z.number().int().optional(),
});
export type CursorPage = z.infer<typeof CursorPage>;
