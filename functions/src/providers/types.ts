/**
 * The contract between the provider layer and the rest of the product (OAuth connect, sync).
 * Each provider folder implements ProviderModule; providers/registry.ts lists them, typed over the
 * catalog's ids (catalog.ts). Nothing outside providers/ knows a provider's URLs or JSON.
 */
import type { Config } from "../config";
import type { Play } from "../history/model";
import type { HttpDeps } from "../http/client";
import type { Provider } from "../paths";

/** Tokens as the product stores them (encrypted at rest by crypto/). Dates are absolute. */
export interface TokenSet {
  accessToken: string;
  /** Spotify: the refresh token. Instagram has none (the long-lived token refreshes itself). */
  refreshToken?: string;
  /** When the access token stops working. */
  expiresAt: Date;
  /** When the current access token was issued (Instagram refreshes only tokens ≥ 24 h old). */
  issuedAt: Date;
  scopes: string[];
}

/** Who the connected provider account is. */
export interface ProviderAccount {
  id: string;
  displayName: string | null;
  /**
   * Other ids the same account was known by (Spotify: the user id, when the stable `account_id`
   * is the id): a connection or claim under one of them is the same account.
   */
  formerIds?: string[];
}

/** An image or media file the sync mirrors to Storage. */
export interface MirrorItem {
  /** Playlist id (Spotify) or media id (Instagram); becomes the object name. */
  id: string;
  /** Where to download it (temporary provider CDN URL). */
  url: string;
  /** File extension of the stored object: "jpg" for covers; "jpg"/"mp4" for media. */
  ext: string;
  /**
   * Changes when the content changes (Spotify playlist snapshot_id + image url; Instagram media id
   * + media_url path). An object whose stored version equals this is not downloaded again.
   */
  version: string;
}

/** Everything one sync fetched from a provider, complete (all pages), ready to store. */
export interface FetchResult {
  account: ProviderAccount;
  /**
   * Snapshot documents by name; stored at `users/{uid}/{provider}/last-response_{name}`.
   * Spotify: profile, playlists, top-tracks, top-artists, recently-played.
   * Instagram: profile, media.
   */
  snapshots: Record<string, unknown>;
  /** Files to mirror to Storage (covers / media). Empty when the provider's mirror switch is off. */
  mirror: MirrorItem[];
  /** Counts for the connection document and the run log (items, pages, skipped bad items…). */
  counts: Record<string, number>;
  /** Provider HTTP requests made by this fetch (for the run log and benchmarks). */
  requests: number;
  /**
   * Plays read for the listening history (providers with a play log): `items` in any order, may
   * hold plays already logged (the read overlaps); `fullWindow`: the provider's window came back
   * full, so older plays than the oldest read may be gone (a gap, when every play read is new).
   */
  plays?: { items: Play[]; fullWindow: boolean };
}

/** The app (OAuth client) calls are made as. */
export interface ProviderApp {
  clientId: string;
  clientSecret: string;
}

/** What a provider module needs from the outside world. */
export interface ProviderContext {
  config: Config;
  now: () => Date;
  /** The app to call as; absent: the operator's app from the provider's settings. */
  app?: ProviderApp;
  /** Tests only: answer HTTP without sockets, and control sleeping/jitter. Production leaves it out. */
  http?: HttpDeps;
  /**
   * A sync's deadline (SYNC_DEADLINE_SECONDS after it started, read on `now`): every request and
   * page of the provider checks it and throws DeadlineExceededError past it (http/client.ts).
   * `name` names it in messages. Absent: no deadline (OAuth steps, scripts).
   */
  deadline?: { at: Date; name: string };
  /**
   * The listening history of the connection, for a provider with a play log: `playsAfter` is the
   * newest play logged (null before the first). The provider reads from there, with its own overlap.
   */
  history?: { playsAfter: Date | null };
}

export interface ProviderModule {
  id: Provider;
  /** How people and messages name it ("YouTube"): the catalog's name. */
  name: string;
  /** Scopes requested at connect time. */
  scopes: readonly string[];
  /** The provider's authorize URL for this state and redirect URI. */
  authorizeUrl(ctx: ProviderContext, args: { state: string; redirectUri: string }): string;
  /** Code → tokens (Instagram: code → short-lived → long-lived). Throws typed errors (errors.ts). */
  exchangeCode(ctx: ProviderContext, args: { code: string; redirectUri: string }): Promise<TokenSet>;
  /** True when `tokens` should be refreshed now (expiring within the configured margin, and allowed). */
  refreshDue(ctx: ProviderContext, tokens: TokenSet): boolean;
  /**
   * Refreshes. Spotify: a response without a refresh_token keeps the old one. Instagram:
   * ig_refresh_token. Throws ReauthRequiredError on invalid_grant / error 190.
   */
  refresh(ctx: ProviderContext, tokens: TokenSet): Promise<TokenSet>;
  /** The provider account behind an access token (connect flow). */
  identify(ctx: ProviderContext, accessToken: string): Promise<ProviderAccount>;
  /** Fetches everything a sync stores. All pages or a thrown typed error: never a partial result. */
  fetchAll(ctx: ProviderContext, accessToken: string): Promise<FetchResult>;
  /**
   * Checks a person's own app (client id and secret) with the provider before it is stored (Spotify:
   * the client-credentials grant). Throws InvalidInputError with a sentence for the person when
   * the provider refuses the pair; other typed errors when it cannot tell (unavailable). Only
   * providers whose catalog entry has `ownApps` have one.
   */
  checkApp?(ctx: ProviderContext, app: ProviderApp): Promise<void>;
  /**
   * The compact daily point of the data that has no log of its own (history of counts and
   * ranks), from the snapshots a sync fetched; stored once a day in
   * `users/{uid}/history/{provider}-{YYYY-MM}`. Null: nothing to record today.
   */
  historyPoint?(snapshots: Record<string, unknown>): Record<string, unknown> | null;
  /**
   * Revokes the grant behind `tokens` at the provider (the person disconnected). Only providers
   * whose terms ask for it (catalog `dataPolicy.deleteOnDisconnect`) have one. Throws typed errors.
   */
  revoke?(ctx: ProviderContext, tokens: TokenSet): Promise<void>;
  /**
   * For `npm run connect` (support, tests): tokens from what an operator pastes. `needs` names the
   * token the provider takes (`--refresh-token` or `--access-token`); `make` checks it with the
   * provider (a refresh, or reading the account) before anything is stored.
   */
  operatorTokens: {
    needs: "refresh-token" | "access-token";
    make(ctx: ProviderContext, input: { token: string; expiresInDays: number }): Promise<TokenSet>;
  };
}
