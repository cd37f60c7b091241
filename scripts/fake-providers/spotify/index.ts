/**
 * Fake Spotify: accounts service and Web API (routes.ts), its accounts (account.ts), its tokens
 * (tokens.ts), and what the bench and `npm run fake-providers` need to know about it.
 */
import { type FakeProvider, baseUrlSettings } from "../fake";
import { spotifyCatalog } from "../../../functions/src/providers/spotify/catalog";
import { SpotifyAccount, type SpotifyAccountSpec } from "./account";
import { APP, ENDPOINTS, ID, PREFIXES, SCOPES } from "./ids";
import { spotifyHandlers } from "./routes";
import { TOKENS, issueTokens } from "./tokens";

export { SpotifyAccount, type SpotifyAccountSpec, type Urls } from "./account";

export const spotifyFake: FakeProvider<typeof ID, SpotifyAccount, SpotifyAccountSpec> = {
  id: ID,
  app: APP,
  ownApps: true,
  scopes: SCOPES,
  prefixes: PREFIXES,
  baseUrls: (url) => baseUrlSettings(spotifyCatalog, PREFIXES, url),
  endpoints: ENDPOINTS,
  tokens: TOKENS,
  handlers: spotifyHandlers,
  accountId: (seed, k) => `fake-user-${seed}${k > 1 ? `-${k}` : ""}`,
  newAccount: (id, seed, spec, now) => new SpotifyAccount(id, seed, spec, now),
  accountActions: ["setPlaylistCount", "setAllowListed", "setAccountId"],
  issueTokens,
  urls: (url) => [
    ["Spotify authorize", `${url}${PREFIXES.ACCOUNTS}/authorize`],
    ["Spotify token", `${url}${PREFIXES.ACCOUNTS}/api/token`],
    ["Spotify Web API", `${url}${PREFIXES.API}/v1/me`],
  ],
  demo(fake) {
    const s1 = fake.addAccount(ID, { displayName: "Demo Listener", playlists: 60 });
    const s2 = fake.addAccount(ID, { displayName: "", playlists: 0 });
    const t = fake.issueTokens(ID, s1.id);
    return [
      `${s1.id} (60 playlists)  access token: ${t.accessToken}`,
      `${s2.id} (no name, no playlists)`,
      `try: curl -H "Authorization: Bearer ${t.accessToken}" ${fake.url}${PREFIXES.API}/v1/me`,
    ];
  },
  bench: {
    // 3 playlists: the API requests per sync (what the rate budget counts) do not depend on the size below 50.
    smallAccount: { playlists: 3 },
    smallChange: { action: "changeItems", args: [1], what: "one playlist changed" },
    // Spotify limits each app over a rolling 30 s window and does not publish the number: 1,500
    // API requests (50/s) is the bench's chosen budget.
    rollingRateLimit: { windowSeconds: 30, budget: 1500 },
  },
};
