/**
 * zod schemas of the Google answers the YouTube module reads: tokeninfo (the token answer is the
 * shared TokenAnswer of providers/descriptor.ts), the OAuth and API error envelopes, and the Data API v3 resources (channels, videos, subscriptions,
 * playlists). Google's client library types its answers but checks nothing at run time, so every
 * answer is parsed here. Only fields the mapping uses are declared (zod drops the rest); counts
 * come as decimal strings (`"viewCount": "123"`). Envelopes are strict, items are parsed one by
 * one so a bad item is skipped, not fatal.
 */
import { z } from "zod";

/** The OAuth endpoints' errors: `{error: "invalid_grant", error_description}`. */
export const OAuthError = z.object({ error: z.string(), error_description: z.string().optional() });

/** Google API errors: `{error: {code, message, errors: [{reason, domain}], status}}`. */
export const ApiError = z.object({
  error: z.object({
    code: z.number().int().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    errors: z.array(z.object({ reason: z.string().optional(), domain: z.string().optional() })).optional(),
  }),
});

/** tokeninfo for an access token: who it belongs to (`sub`, with the openid scope) and for which client. */
export const TokenInfo = z.object({
  aud: z.string().min(1),
  sub: z.string().min(1),
  scope: z.string().optional(),
});

/** A count Google sends as a decimal string (sometimes a number). */
const Count = z.union([z.string().regex(/^\d{1,20}$/), z.number().int().nonnegative()]);

const Thumbnail = z.object({ url: z.string().min(1), width: z.number().nullish(), height: z.number().nullish() });
export const Thumbnails = z.record(z.string(), Thumbnail);
export type Thumbnails = z.infer<typeof Thumbnails>;

const PageInfo = z.object({
  totalResults: z.number().int().nonnegative().optional(),
  resultsPerPage: z.number().int().nonnegative().optional(),
});

/** One page of any list method: items stay unknown until parsed one by one. */
export const ListPage = z.object({
  nextPageToken: z.string().min(1).optional(),
  pageInfo: PageInfo.optional(),
  items: z.array(z.unknown()).optional(),
});
export type ListPage = z.infer<typeof ListPage>;

export const Channel = z.object({
  id: z.string().min(1),
  snippet: z
    .object({
      title: z.string(),
      description: z.string().nullish(),
      customUrl: z.string().nullish(),
      publishedAt: z.string().nullish(),
      country: z.string().nullish(),
      thumbnails: Thumbnails.nullish(),
    })
    .nullish(),
  statistics: z
    .object({
      viewCount: Count.nullish(),
      subscriberCount: Count.nullish(),
      hiddenSubscriberCount: z.boolean().nullish(),
      videoCount: Count.nullish(),
    })
    .nullish(),
});
export type Channel = z.infer<typeof Channel>;

export const Video = z.object({
  id: z.string().min(1),
  snippet: z.object({
    title: z.string(),
    channelId: z.string().nullish(),
    channelTitle: z.string().nullish(),
    publishedAt: z.string().nullish(),
    thumbnails: Thumbnails.nullish(),
  }),
  contentDetails: z.object({ duration: z.string().nullish() }).nullish(),
  statistics: z.object({ viewCount: Count.nullish(), likeCount: Count.nullish() }).nullish(),
});
export type Video = z.infer<typeof Video>;

export const Subscription = z.object({
  id: z.string().min(1),
  snippet: z.object({
    title: z.string(),
    description: z.string().nullish(),
    publishedAt: z.string().nullish(),
    resourceId: z.object({ channelId: z.string().min(1) }),
    thumbnails: Thumbnails.nullish(),
  }),
});
export type Subscription = z.infer<typeof Subscription>;

export const Playlist = z.object({
  id: z.string().min(1),
  snippet: z.object({
    title: z.string(),
    description: z.string().nullish(),
    publishedAt: z.string().nullish(),
    thumbnails: Thumbnails.nullish(),
  }),
  contentDetails: z.object({ itemCount: z.number().int().nonnegative().nullish() }).nullish(),
  status: z.object({ privacyStatus: z.string().nullish() }).nullish(),
});
export type Playlist = z.infer<typeof Playlist>;
