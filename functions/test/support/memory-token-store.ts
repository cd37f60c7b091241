/**
 * An in-memory TokenStore for unit tests. It really seals and opens (crypto/tokenStore's pure
 * functions), so tests exercise the same encryption path; it just keeps documents in a Map.
 * Transactions/writers are ignored (writes apply immediately).
 */
import { randomBytes } from "node:crypto";
import { ReauthRequiredError } from "../../src/errors";
import { type TokenDoc, type TokenStore, openTokens, sealTokens } from "../../src/crypto/tokenStore";
import { type Vault, createVault } from "../../src/crypto/vault";
import { type Provider, firestorePaths } from "../../src/paths";
import type { TokenSet } from "../../src/providers/types";

export class MemoryTokenStore implements TokenStore {
  /** Stored documents by Firestore path (`users/{uid}/oauth_tokens/{provider}`). */
  readonly docs = new Map<string, TokenDoc>();

  constructor(
    readonly vault: Vault = createVault([{ id: "test", key: randomBytes(32) }]),
    private readonly now: () => Date = () => new Date(),
  ) {}

  toDoc(uid: string, provider: Provider, tokens: TokenSet): TokenDoc {
    return sealTokens(this.vault, uid, provider, tokens, this.now());
  }

  fromDoc(uid: string, provider: Provider, data: unknown): TokenSet {
    return openTokens(this.vault, uid, provider, data);
  }

  async load(uid: string, provider: Provider): Promise<TokenSet | null> {
    const doc = this.docs.get(firestorePaths.oauthToken(uid, provider));
    return doc ? this.fromDoc(uid, provider, doc) : null;
  }

  async loadRequired(uid: string, provider: Provider): Promise<TokenSet> {
    const tokens = await this.load(uid, provider);
    if (!tokens)
      throw new ReauthRequiredError(`No ${provider} tokens are stored for user ${uid}; reconnect ${provider}.`);
    return tokens;
  }

  async save(uid: string, provider: Provider, tokens: TokenSet): Promise<void> {
    this.docs.set(firestorePaths.oauthToken(uid, provider), this.toDoc(uid, provider, tokens));
  }

  async delete(uid: string, provider: Provider): Promise<void> {
    this.docs.delete(firestorePaths.oauthToken(uid, provider));
  }

  async replace(uid: string, provider: Provider, previous: TokenSet, next: TokenSet): Promise<boolean> {
    const stored = await this.load(uid, provider);
    if (!stored || stored.accessToken !== previous.accessToken) return false;
    await this.save(uid, provider, next);
    return true;
  }
}
