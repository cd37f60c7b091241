/**
 * zod schemas of the Instagram answers the client reads (Instagram API with Instagram Login).
 * Only fields the mapping uses are declared; everything but ids is optional (fields an app lacks
 * permission for are simply absent). Envelopes are strict; media items are parsed one by one.
 */
import { z } from "zod";

const ShortLivedEntry = z.object({
  access_token: z.string().min(1),
  user_id: z.union([z.string(), z.number()]).optional(),
  permissions: z.union([z.string(), z.array(z.string())]).optional(),
});

/** Code → short-lived token: `{data: [{access_token, user_id, permissions}]}` (current) or the flat form. */
export const ShortLivedToken = z
  .union([z.object({ data: z.array(ShortLivedEntry).min(1) }), ShortLivedEntry])
  .transform((v) => ("data" in v ? v.data[0]! : v));

/** Long-lived token (exchange and refresh): 60 days. */
export const LongLivedToken = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().positive(),
});

/** Graph errors: `{error: {message, type, code, error_subcode}}`; the OAuth host: `{error_type, code, error_message}`. */
export const GraphError = z.object({
  error: z.object({
    message: z.string().optional(),
    type: z.string().optional(),
    code: z.number().optional(),
    error_subcode: z.number().optional(),
  }),
});
export const OAuthError = z.object({
  error_type: z.string(),
  code: z.number().optional(),
  error_message: z.string().optional(),
});

/** The professional account. `user_id` is the Instagram account id (`id` is app-scoped). */
export const Profile = z
  .object({
    id: z.string().optional(),
    user_id: z.union([z.string(), z.number()]).optional(),
    username: z.string().optional(),
    name: z.string().optional(),
    account_type: z.string().optional(),
    profile_picture_url: z.string().optional(),
    media_count: z.number().int().optional(),
    followers_count: z.number().int().optional(),
    follows_count: z.number().int().optional(),
  })
  .refine((p) => p.user_id !== undefined || p.id !== undefined, { message: "has neither user_id nor id" });
export type Profile = z.infer<typeof Profile>;

export const Child = z.object({
  id: z.string().min(1),
  media_type: z.string().min(1),
  media_url: z.string().optional(),
  thumbnail_url: z.string().optional(),
});
export type Child = z.infer<typeof Child>;

export const Media = z.object({
  id: z.string().min(1),
  /** IMAGE, VIDEO or CAROUSEL_ALBUM. */
  media_type: z.string().min(1),
  caption: z.string().optional(),
  media_url: z.string().optional(),
  permalink: z.string().optional(),
  thumbnail_url: z.string().optional(),
  timestamp: z.string().optional(),
  like_count: z.number().int().optional(),
  comments_count: z.number().int().optional(),
  /** Children stay unparsed here so one bad child is skipped without losing its carousel. */
  children: z.object({ data: z.array(z.unknown()) }).optional(),
});
export type Media = z.infer<typeof Media>;

/** Cursor paging: `{data, paging: {cursors: {before, after}, next}}`; no `next` on the last page. */
export const MediaPage = z.object({
  data: z.array(z.unknown()),
  paging: z
    .object({
      cursors: z.object({ before: z.string().optional(), after: z.string().optional() }).optional(),
      next: z.string().optional(),
    })
    .optional(),
});
export type MediaPage = z.infer<typeof MediaPage>;
