/**
 * Fake YouTube: Google's consent page and OAuth endpoints and the YouTube Data API v3
 * (routes.ts), its accounts (account.ts), its tokens and grants (tokens.ts), and what the bench
 * and `npm run fake-providers` need to know about it.
 */
import { youtubeCatalog } from "../../../functions/src/providers/youtube/catalog";
import { numericId } from "../data";
import { type FakeProvider, baseUrlSettings } from "../fake";
import { YouTubeAccount, type YouTubeAccountSpec } from "./account";
import { APP, DATA_PATH, ENDPOINTS, ID, PREFIXES, SCOPES } from "./ids";
import { youtubeHandlers } from "./routes";
import { TOKENS, issueTokens } from "./tokens";

export { YouTubeAccount, type YouTubeAccountSpec, type Urls as YouTubeUrls } from "./account";
export { pageToken, readPageToken } from "./routes";

export const youtubeFake: FakeProvider<typeof ID, YouTubeAccount, YouTubeAccountSpec> = {
  id: ID,
  app: APP,
  scopes: SCOPES,
  prefixes: PREFIXES,
  baseUrls: (url) => baseUrlSettings(youtubeCatalog, PREFIXES, url),
  endpoints: ENDPOINTS,
  tokens: TOKENS,
  handlers: youtubeHandlers,
  // A Google account id (`sub`): 21 digits starting with 1. It exists with or without a channel.
  accountId: (seed, k) => `1${numericId(20, "google-account", seed, k)}`,
  newAccount: (id, seed, spec, now) => new YouTubeAccount(id, seed, spec, now),
  accountActions: [
    "setHasChannel",
    "setHiddenSubscriberCount",
    "setLikedVideoCount",
    "setSubscriptionCount",
    "setPlaylistCount",
    "likeVideos",
  ],
  issueTokens,
  urls: (url) => [
    ["YouTube consent (Google)", `${url}${PREFIXES.AUTHORIZE}/o/oauth2/v2/auth`],
    ["Google token", `${url}${PREFIXES.OAUTH}/token`],
    ["YouTube Data API", `${url}${DATA_PATH}/channels?part=snippet,statistics&mine=true`],
  ],
  demo(fake) {
    const y1 = fake.addAccount(ID, {
      displayName: "Demo Creator",
      likedVideos: 60,
      subscriptions: 30,
      playlists: 8,
    });
    const y2 = fake.addAccount(ID, { displayName: "No Channel Yet", hasChannel: false });
    const t = fake.issueTokens(ID, y1.id);
    return [
      `${y1.id} (a channel; 60 liked videos, 30 subscriptions, 8 playlists)  access token: ${t.accessToken}`,
      `${y2.id} (a Google account without a channel)`,
      `try: curl -H "Authorization: Bearer ${t.accessToken}" "${fake.url}${DATA_PATH}/channels?part=snippet,statistics&mine=true"`,
    ];
  },
  bench: {
    // Few items: a YouTube sync's cost is its Data API requests (one page each below 50 items);
    // it downloads no files. No rolling rate limit: Google's limit is the daily quota.
    smallAccount: { likedVideos: 3, subscriptions: 3, playlists: 3 },
    smallChange: { action: "changeItems", args: [1], what: "one playlist changed" },
  },
};
