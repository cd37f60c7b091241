/**
 * The single-tenant deployment kept one person's OAuth tokens and account ids in environment
 * variables. This reads them from an env file (KEY=value lines) into TokenSets for the vault.
 *
 * Variables (names are defaults; `--var NAME=ENV_NAME` renames any of them):
 *
 * | variable                    | meaning                                                                  |
 * |-----------------------------|--------------------------------------------------------------------------|
 * | SPOTIFY_REFRESH_TOKEN       | Spotify refresh token (required to import Spotify)                       |
 * | SPOTIFY_ACCESS_TOKEN        | optional; without it the first sync refreshes before any other call      |
 * | SPOTIFY_TOKEN_EXPIRES_AT    | optional expiry of the access token (ISO 8601 or epoch seconds)          |
 * | SPOTIFY_USER_ID             | Spotify user id (the connection's provider account id)                   |
 * | SPOTIFY_SCOPES              | optional, space- or comma-separated granted scopes                       |
 * | INSTAGRAM_ACCESS_TOKEN      | Instagram long-lived access token (required to import Instagram)         |
 * | INSTAGRAM_TOKEN_EXPIRES_AT  | optional expiry (ISO 8601 or epoch seconds)                              |
 * | INSTAGRAM_USER_ID           | Instagram user id (the connection's provider account id)                 |
 * | INSTAGRAM_SCOPES            | optional, space- or comma-separated granted scopes                       |
 *
 * Unknown expiry: the token is recorded as expiring at import time, so the first sync refreshes
 * it (an Instagram long-lived token is then assumed issued 60 days earlier, i.e. old enough to be
 * refreshed). A provider with none of its variables is not imported; one with an id but no token
 * is an error.
 */
import type { Provider } from "../../functions/src/paths";
import type { TokenSet } from "../../functions/src/providers/types";

export const TOKEN_VARIABLES = [
  "SPOTIFY_REFRESH_TOKEN",
  "SPOTIFY_ACCESS_TOKEN",
  "SPOTIFY_TOKEN_EXPIRES_AT",
  "SPOTIFY_USER_ID",
  "SPOTIFY_SCOPES",
  "INSTAGRAM_ACCESS_TOKEN",
  "INSTAGRAM_TOKEN_EXPIRES_AT",
  "INSTAGRAM_USER_ID",
  "INSTAGRAM_SCOPES",
] as const;
export type TokenVariable = (typeof TOKEN_VARIABLES)[number];

/**
 * Stand-in access token when only a Spotify refresh token exists. It is stored already expired,
 * so the sync refreshes before using it; it is never sent anywhere.
 */
export const REFRESH_FIRST_ACCESS_TOKEN = "migrated:refresh-before-use";

const INSTAGRAM_LIFETIME_MS = 60 * 24 * 3600 * 1000;
const SPOTIFY_LIFETIME_MS = 3600 * 1000;

export interface LegacyGrant {
  provider: Provider;
  tokens: TokenSet;
  accountId: string | null;
  /** Human-readable notes for the plan (assumptions made). Never contains a token. */
  notes: string[];
}

export interface LegacyTokens {
  grants: LegacyGrant[];
  problems: string[];
}

/** Reads the grants from env-file values. Pure: `now` is the import time. */
export function legacyGrants(
  values: Record<string, string>,
  names: Record<TokenVariable, string>,
  now: Date,
): LegacyTokens {
  const get = (v: TokenVariable) => {
    const value = values[names[v]]?.trim();
    return value ? value : undefined;
  };
  const grants: LegacyGrant[] = [];
  const problems: string[] = [];

  const expiry = (v: TokenVariable): Date | undefined => {
    const text = get(v);
    if (text === undefined) return undefined;
    const d = /^\d+$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
    if (Number.isNaN(d.getTime())) {
      problems.push(`${names[v]} is not a date (ISO 8601 or epoch seconds).`);
      return undefined;
    }
    return d;
  };
  const scopes = (v: TokenVariable) => (get(v) ?? "").split(/[\s,]+/).filter(Boolean);

  // Spotify
  const spRefresh = get("SPOTIFY_REFRESH_TOKEN");
  const spAccess = get("SPOTIFY_ACCESS_TOKEN");
  const spUser = get("SPOTIFY_USER_ID");
  if (spRefresh) {
    const notes: string[] = [];
    const expiresAt = spAccess ? (expiry("SPOTIFY_TOKEN_EXPIRES_AT") ?? now) : new Date(0);
    if (!spAccess) notes.push("no access token: the first sync refreshes first");
    else if (!get("SPOTIFY_TOKEN_EXPIRES_AT")) notes.push("expiry unknown: the first sync refreshes first");
    if (!spUser) notes.push(`${names.SPOTIFY_USER_ID} missing: the account id is filled in by the first sync`);
    grants.push({
      provider: "spotify",
      tokens: {
        accessToken: spAccess ?? REFRESH_FIRST_ACCESS_TOKEN,
        refreshToken: spRefresh,
        expiresAt,
        issuedAt: new Date(Math.min(now.getTime(), expiresAt.getTime() - SPOTIFY_LIFETIME_MS)),
        scopes: scopes("SPOTIFY_SCOPES"),
      },
      accountId: spUser ?? null,
      notes,
    });
  } else if (spAccess || spUser) {
    problems.push(`${names.SPOTIFY_REFRESH_TOKEN} is missing: Spotify cannot be imported without a refresh token.`);
  }

  // Instagram
  const igAccess = get("INSTAGRAM_ACCESS_TOKEN");
  const igUser = get("INSTAGRAM_USER_ID");
  if (igAccess) {
    const notes: string[] = [];
    const known = expiry("INSTAGRAM_TOKEN_EXPIRES_AT");
    if (!known) notes.push("expiry unknown: the first sync refreshes the long-lived token");
    if (!igUser) notes.push(`${names.INSTAGRAM_USER_ID} missing: the account id is filled in by the first sync`);
    const expiresAt = known ?? now;
    grants.push({
      provider: "instagram",
      tokens: {
        accessToken: igAccess,
        expiresAt,
        issuedAt: new Date(Math.min(now.getTime(), expiresAt.getTime() - INSTAGRAM_LIFETIME_MS)),
        scopes: scopes("INSTAGRAM_SCOPES"),
      },
      accountId: igUser ?? null,
      notes,
    });
  } else if (igUser) {
    problems.push(`${names.INSTAGRAM_ACCESS_TOKEN} is missing: Instagram cannot be imported without its access token.`);
  }
  return { grants, problems };
}

/** The long-lived credential that identifies a grant: Spotify's refresh token, Instagram's token. */
export function credentialOf(provider: Provider, tokens: TokenSet): string | undefined {
  return provider === "spotify" ? tokens.refreshToken : tokens.accessToken;
}
