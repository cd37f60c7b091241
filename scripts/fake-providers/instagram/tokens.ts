/**
 * Instagram's tokens on the fake clock: the code exchange gives a short-lived token (1 h), which
 * exchanges for a long-lived one (60 days); long-lived tokens refresh only when at least 24 h old.
 * Codes start "AQB".
 */
import type { FakeProvider, IssueOptions, IssuedTokens } from "../fake";
import type { FakeState } from "../state";
import { ID, SCOPES } from "./ids";

export const LIFETIMES = {
  shortMs: 3600_000,
  longMs: 60 * 24 * 3600_000,
  /** Instagram refreshes only tokens at least this old. */
  minRefreshAgeMs: 24 * 3600_000,
} as const;

export const TOKENS: FakeProvider["tokens"] = {
  codePrefix: "AQB",
  kinds: {
    "ig-short": { lifetimeMs: LIFETIMES.shortMs, prefix: "IGAA" },
    "ig-long": { lifetimeMs: LIFETIMES.longMs, prefix: "IGAA" },
  },
};

/** A long-lived token (60 days), or with `shortLived` a short-lived one (1 h); no refresh token. */
export function issueTokens(state: FakeState, accountId: string, o: IssueOptions): IssuedTokens {
  const scopes = o.scopes ?? [...SCOPES];
  const kind = o.shortLived ? "ig-short" : "ig-long";
  return {
    accessToken: state.tokens.issue(ID, kind, accountId, scopes),
    expiresIn: (o.shortLived ? LIFETIMES.shortMs : LIFETIMES.longMs) / 1000,
    scopes,
  };
}
