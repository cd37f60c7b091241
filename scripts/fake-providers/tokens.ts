/**
 * Authorization codes and tokens, with lifetimes measured on the fake clock. Codes live 10 min and
 * are single-use; each provider declares the kinds of token it issues (lifetime and prefix, its
 * FakeProvider `tokens`), e.g. access and refresh tokens, or short- and long-lived ones.
 */
import { randomBytes } from "node:crypto";
import type { ProviderId } from "./data";
import type { FakeProvider } from "./fake";

export const CODE_LIFETIME_MS = 10 * 60_000;

/** A token kind of some provider ("access", "refresh", …: its fake's `tokens.kinds`). */
export type TokenKind = string;

/** Where a provider's token rules come from (FAKES[p].tokens). */
export type TokenRules = (provider: ProviderId) => FakeProvider["tokens"];

export interface TokenRecord {
  provider: ProviderId;
  kind: TokenKind;
  /** The account ("" for an app token of the client-credentials grant). */
  accountId: string;
  /** The app it was issued to; undefined: the operator's app. */
  clientId?: string;
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

  constructor(
    private readonly now: () => number,
    private readonly rules: TokenRules,
  ) {}

  issueCode(rec: Omit<CodeRecord, "expiresAtMs" | "used">): string {
    const code = opaque(this.rules(rec.provider).codePrefix);
    this.codes.set(code, { ...rec, expiresAtMs: this.now() + CODE_LIFETIME_MS, used: false });
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

  issue(
    provider: ProviderId,
    kind: TokenKind,
    accountId: string,
    scopes: string[],
    expiresAtMs?: number,
    clientId?: string,
  ): string {
    const spec = this.rules(provider).kinds[kind];
    if (!spec) throw new Error(`The ${provider} fake issues no "${kind}" tokens.`);
    const token = opaque(spec.prefix);
    const now = this.now();
    this.tokens.set(token, {
      provider,
      kind,
      accountId,
      scopes,
      issuedAtMs: now,
      expiresAtMs: expiresAtMs ?? now + spec.lifetimeMs,
      revoked: false,
      ...(clientId === undefined ? {} : { clientId }),
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
