/**
 * Fake Instagram: authorize page, code exchange and Graph API (routes.ts), its accounts
 * (account.ts), its tokens (tokens.ts), and what the bench and `npm run fake-providers` need to
 * know about it.
 */
import { instagramCatalog } from "../../../functions/src/providers/instagram/catalog";
import { numericId } from "../data";
import { type FakeProvider, baseUrlSettings } from "../fake";
import { InstagramAccount, type InstagramAccountSpec } from "./account";
import { APP, ENDPOINTS, ID, PREFIXES, SCOPES } from "./ids";
import { instagramHandlers } from "./routes";
import { TOKENS, issueTokens } from "./tokens";

export { InstagramAccount, type InstagramAccountSpec, type MediaItem, type MediaType } from "./account";
export { CDN_URL_LIFETIME_MS, parseFields } from "./routes";

export const instagramFake: FakeProvider<typeof ID, InstagramAccount, InstagramAccountSpec> = {
  id: ID,
  app: APP,
  scopes: SCOPES,
  prefixes: PREFIXES,
  baseUrls: (url) => baseUrlSettings(instagramCatalog, PREFIXES, url),
  endpoints: ENDPOINTS,
  tokens: TOKENS,
  handlers: instagramHandlers,
  accountId: (seed, k) => numericId(17, "ig-account", seed, k),
  newAccount: (id, seed, spec, now) => new InstagramAccount(id, seed, spec, now),
  accountActions: ["setMediaCount"],
  issueTokens,
  urls: (url) => [
    ["Instagram authorize", `${url}${PREFIXES.AUTHORIZE}/oauth/authorize`],
    ["Instagram token", `${url}${PREFIXES.OAUTH}/oauth/access_token`],
    ["Instagram Graph", `${url}${PREFIXES.GRAPH}/me`],
  ],
  demo(fake) {
    const i1 = fake.addAccount(ID, { displayName: "demo.creator", media: 40 });
    const t = fake.issueTokens(ID, i1.id);
    return [`${i1.id} (40 media)  long-lived token: ${t.accessToken}`];
  },
  bench: {
    // 3 single-image posts: no carousels, so each post is one JPEG for the fake to render.
    smallAccount: { media: 3, carousels: false },
    smallChange: { action: "changeItems", args: [1], what: "one post changed" },
  },
};
