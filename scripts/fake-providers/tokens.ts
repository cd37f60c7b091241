/**
 * Authorization codes and tokens, with lifetimes measured on the fake clock:
 * codes 10 min and single-use; Spotify access tokens 1 h, refresh tokens 6 months (refreshing does
 * not extend them; a rotated token inherits the old one's expiry); Instagram short-lived 1 h,
 * long-lived 60 days.
 */
import { randomBytes } from "node:crypto";
import type { ProviderId } from "./data";

export const LIFETIMES = {
  codeMs: 10 * 60_000,
  spotifyAccessMs: 3600_000,
  spotifyRefreshMs: 183 * 24 * 3600_000,
  instagramShortMs: 3600_000,
  instagramLongMs: 60 * 24 * 3600_000,
  /** Instagram refreshes only tokens at least this old. */
  instagramMinRefreshAgeMs: 24 * 3600_000,
} as const;

export type TokenKind = "access" | "refresh" | "ig-short" | "ig-long";

export interface TokenRecord {
  provider: ProviderId;
  kind: TokenKind;
  accountId: string;
  scopes: string[];
  issuedAtMs: number;
  expiresAtMs: number;
  revoked: boolean;
}

export interface CodeRecord {
  provider: ProviderId;
  accountId: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  expiresAtMs: number;
  used: boolean;
}

function opaque(prefix: string): string {
  return `${prefix}${randomBytes(24).toString("base64url")}`;
}

export class TokenStore {
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly codes = new Map<string, CodeRecord>();

  constructor(private readonly now: () => number) {}

  issueCode(rec: Omit<CodeRecord, "expiresAtMs" | "used">): string {
    const code = opaque(rec.provider === "spotify" ? "AQ" : "AQB");
    this.codes.set(code, { ...rec, expiresAtMs: this.now() + LIFETIMES.codeMs, used: false });
    return code;
  }

  peekCode(code: string): CodeRecord | undefined {
    return this.codes.get(code);
  }

  /** Single use: the second redemption (or an expired code) fails. */
  redeemCode(code: string): CodeRecord | undefined {
    const rec = this.codes.get(code);
    if (!rec || rec.used || rec.expiresAtMs <= this.now()) return undefined;
    rec.used = true;
    return rec;
  }

  issue(provider: ProviderId, kind: TokenKind, accountId: string, scopes: string[], expiresAtMs?: number): string {
    const lifetime =
      kind === "access"
        ? LIFETIMES.spotifyAccessMs
        : kind === "refresh"
          ? LIFETIMES.spotifyRefreshMs
          : kind === "ig-short"
            ? LIFETIMES.instagramShortMs
            : LIFETIMES.instagramLongMs;
    const token = opaque(kind === "access" ? "BQ" : kind === "refresh" ? "AQD" : "IGAA");
    const now = this.now();
    this.tokens.set(token, {
      provider,
      kind,
      accountId,
      scopes,
      issuedAtMs: now,
      expiresAtMs: expiresAtMs ?? now + lifetime,
      revoked: false,
    });
    return token;
  }

  get(token: string | undefined): TokenRecord | undefined {
    return token ? this.tokens.get(token) : undefined;
  }

  /** Why a token does not work, or undefined when it does. */
  problem(rec: TokenRecord | undefined, kinds: TokenKind[]): "missing" | "revoked" | "expired" | undefined {
    if (!rec || !kinds.includes(rec.kind)) return "missing";
    if (rec.revoked) return "revoked";
    if (rec.expiresAtMs <= this.now()) return "expired";
    return undefined;
  }

  revoke(token: string): void {
    const rec = this.tokens.get(token);
    if (rec) rec.revoked = true;
  }

  revokeAccount(provider: ProviderId, accountId: string): number {
    let n = 0;
    for (const rec of this.tokens.values()) {
      if (rec.provider === provider && rec.accountId === accountId && !rec.revoked) {
        rec.revoked = true;
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.tokens.clear();
    this.codes.clear();
  }
}
