/**
 * Google's tokens on the fake clock: access tokens live 3,599 s (what Google's token endpoint
 * says), refresh tokens until revoked (Google's do not expire for a published app). Codes start
 * "4/0A", access tokens "ya29.", refresh tokens "1//0", like Google's.
 *
 * Tokens belong to a grant (one consent, or one issueTokens call): revoking any token of it
 * (POST /revoke) ends the grant — its refresh token and every access token it issued — as
 * Google's revocation does. The shared token store knows no grants, so this file keeps them,
 * one book per fake server's state.
 */
import type { FakeProvider, IssueOptions, IssuedTokens } from "../fake";
import type { FakeState } from "../state";
import { ID, SCOPES } from "./ids";

export const LIFETIMES = {
  accessMs: 3599_000,
  /** "Until revoked": longer than any test or bench run. */
  refreshMs: 100 * 365 * 24 * 3600_000,
} as const;

export const TOKENS: FakeProvider["tokens"] = {
  codePrefix: "4/0A",
  kinds: {
    access: { lifetimeMs: LIFETIMES.accessMs, prefix: "ya29.a0" },
    refresh: { lifetimeMs: LIFETIMES.refreshMs, prefix: "1//0" },
  },
};

export interface Grant {
  accountId: string;
  scopes: string[];
  /** access_type=offline was asked: tokeninfo says "offline" (else "online"). */
  offline: boolean;
  refreshToken?: string;
  tokens: string[];
}

/** What the consent recorded about a code, for the token endpoint. */
export interface CodeTerms {
  offline: boolean;
  /** A refresh token comes with the code's tokens (access_type=offline and prompt=consent). */
  refresh: boolean;
}

export class GrantBook {
  private readonly byToken = new Map<string, Grant>();
  private readonly codes = new Map<string, CodeTerms>();

  noteCode(code: string, terms: CodeTerms): void {
    this.codes.set(code, terms);
  }

  /** The terms of a code (once: a code is single-use). */
  takeCode(code: string): CodeTerms | undefined {
    const terms = this.codes.get(code);
    this.codes.delete(code);
    return terms;
  }

  of(token: string | undefined): Grant | undefined {
    return token === undefined ? undefined : this.byToken.get(token);
  }

  add(grant: Grant, token: string): void {
    grant.tokens.push(token);
    this.byToken.set(token, grant);
  }
}

const books = new WeakMap<FakeState, GrantBook>();

/** The grants of one fake server. */
export function grantsOf(state: FakeState): GrantBook {
  let book = books.get(state);
  if (!book) books.set(state, (book = new GrantBook()));
  return book;
}

/** A new grant with its first access token, and a refresh token when `refresh`. */
export function openGrant(
  state: FakeState,
  accountId: string,
  scopes: string[],
  terms: CodeTerms,
): { grant: Grant; accessToken: string } {
  const book = grantsOf(state);
  const grant: Grant = { accountId, scopes, offline: terms.offline, tokens: [] };
  if (terms.refresh) {
    grant.refreshToken = state.tokens.issue(ID, "refresh", accountId, scopes);
    book.add(grant, grant.refreshToken);
  }
  const accessToken = state.tokens.issue(ID, "access", accountId, scopes);
  book.add(grant, accessToken);
  return { grant, accessToken };
}

/** A new access token of the grant (a refresh: Google keeps the refresh token, never rotates it). */
export function grantAccess(state: FakeState, grant: Grant): string {
  const accessToken = state.tokens.issue(ID, "access", grant.accountId, grant.scopes);
  grantsOf(state).add(grant, accessToken);
  return accessToken;
}

/**
 * POST /revoke: ends the grant of a working token (any of its tokens). False for a token that is
 * unknown, already revoked or expired.
 */
export function revokeGrant(state: FakeState, token: string): boolean {
  const rec = state.tokens.get(token);
  if (!rec || rec.provider !== ID || state.tokens.problem(rec, ["access", "refresh"])) return false;
  const grant = grantsOf(state).of(token);
  for (const t of grant?.tokens ?? [token]) state.tokens.revoke(t);
  return true;
}

/** An access token (3,599 s) and a refresh token, as a consent with access_type=offline and prompt=consent gives. */
export function issueTokens(state: FakeState, accountId: string, o: IssueOptions): IssuedTokens {
  const scopes = o.scopes ?? [...SCOPES];
  const { grant, accessToken } = openGrant(state, accountId, scopes, { offline: true, refresh: true });
  return { accessToken, refreshToken: grant.refreshToken, expiresIn: LIFETIMES.accessMs / 1000, scopes };
}
