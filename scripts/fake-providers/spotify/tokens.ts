/**
 * Spotify's tokens on the fake clock: access tokens live 1 h, refresh tokens 6 months (refreshing
 * does not extend them; a rotated token inherits the old one's expiry). Codes start "AQ".
 */
import type { FakeProvider, IssueOptions, IssuedTokens } from "../fake";
import type { FakeState } from "../state";
import { ID, SCOPES } from "./ids";

export const LIFETIMES = {
  accessMs: 3600_000,
  refreshMs: 183 * 24 * 3600_000,
} as const;

export const TOKENS: FakeProvider["tokens"] = {
  codePrefix: "AQ",
  kinds: {
    access: { lifetimeMs: LIFETIMES.accessMs, prefix: "BQ" },
    refresh: { lifetimeMs: LIFETIMES.refreshMs, prefix: "AQD" },
  },
};

/** An access token (1 h) and a refresh token, as the code exchange issues them. */
export function issueTokens(state: FakeState, accountId: string, o: IssueOptions): IssuedTokens {
  const scopes = o.scopes ?? [...SCOPES];
  return {
    accessToken: state.tokens.issue(ID, "access", accountId, scopes),
    refreshToken: state.tokens.issue(ID, "refresh", accountId, scopes),
    expiresIn: LIFETIMES.accessMs / 1000,
    scopes,
  };
}
