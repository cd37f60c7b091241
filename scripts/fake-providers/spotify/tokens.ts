/**
 * Spotify's tokens on the fake clock: access tokens live 1 h, refresh tokens 6 months (refreshing
 * does not extend them; a rotated token inherits the old one's expiry), app tokens of the
 * client-credentials grant (no user) 1 h. Codes start "AQ". A token records the app it was issued
 * to when that is an own app (apps.ts).
 */
import type { FakeProvider, IssueOptions, IssuedTokens } from "../fake";
import type { FakeState } from "../state";
import { APP, ID, SCOPES } from "./ids";

export const LIFETIMES = {
  accessMs: 3600_000,
  refreshMs: 183 * 24 * 3600_000,
} as const;

export const TOKENS: FakeProvider["tokens"] = {
  codePrefix: "AQ",
  kinds: {
    access: { lifetimeMs: LIFETIMES.accessMs, prefix: "BQ" },
    refresh: { lifetimeMs: LIFETIMES.refreshMs, prefix: "AQD" },
    app: { lifetimeMs: LIFETIMES.accessMs, prefix: "BQ" },
  },
};

/** The client id a token records: undefined for the operator's app. */
export const ownClientId = (clientId: string | undefined) => (clientId === APP.clientId ? undefined : clientId);

/** An access token (1 h) and a refresh token, as the code exchange issues them (to `o.clientId`'s app). */
export function issueTokens(state: FakeState, accountId: string, o: IssueOptions): IssuedTokens {
  const scopes = o.scopes ?? [...SCOPES];
  const app = ownClientId(o.clientId);
  return {
    accessToken: state.tokens.issue(ID, "access", accountId, scopes, undefined, app),
    refreshToken: state.tokens.issue(ID, "refresh", accountId, scopes, undefined, app),
    expiresIn: LIFETIMES.accessMs / 1000,
    scopes,
  };
}
