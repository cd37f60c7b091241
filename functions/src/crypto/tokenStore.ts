/**
 * Encrypted OAuth tokens at rest: `users/{uid}/oauth_tokens/{provider}`.
 *
 * The document holds only the sealed token bundle and two plaintext timestamps:
 *
 *   { v: 1, keyId, iv, tag, ciphertext,   ← crypto/vault.ts (AES-256-GCM, AAD = uid + provider)
 *     expiresAt: Timestamp,               ← plaintext on purpose: operators can see expiry
 *     updatedAt: Timestamp }
 *
 * The plaintext inside the ciphertext is a JSON TokenSet (access token, refresh token, expiry,
 * issue time, scopes). Documents read back are checked with zod, then decrypted, then the
 * decrypted JSON is checked with zod again. Tokens are decrypted only by the function that uses
 * them (`load`), are never logged, and never appear in error messages.
 *
 * Writes accept a transaction or batch so a caller can store tokens atomically with other
 * documents (the OAuth callback writes tokens + connection together; the sync persists rotated
 * tokens inside its lease transaction).
 */
import {
  type DocumentData,
  type DocumentReference,
  type Firestore,
  Timestamp,
  type Transaction,
} from "firebase-admin/firestore";
import { z } from "zod";
import { db } from "../admin";
import { AppError, ReauthRequiredError } from "../errors";
import { type Provider, firestorePaths } from "../paths";
import type { TokenSet } from "../providers/types";
import { type SealedBlob, VAULT_FORMAT_VERSION, Vault, type VaultContext, vaultFromConfig } from "./vault";

/** The token document as stored in Firestore. */
export const TokenDoc = z.object({
  v: z.literal(VAULT_FORMAT_VERSION),
  keyId: z.string().min(1).max(64),
  iv: z.string().min(1),
  tag: z.string().min(1),
  ciphertext: z.string().min(1),
  expiresAt: z.instanceof(Timestamp),
  updatedAt: z.instanceof(Timestamp),
});
export type TokenDoc = z.infer<typeof TokenDoc>;

/** What is encrypted: a TokenSet with dates as epoch milliseconds. */
const TokenPayload = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1).optional(),
  expiresAt: z.number().int(),
  issuedAt: z.number().int(),
  scopes: z.array(z.string()),
});
type TokenPayload = z.infer<typeof TokenPayload>;

/** A token document exists but is not a valid sealed bundle (or its plaintext is not a TokenSet). */
export class TokenDocumentError extends AppError {
  readonly code = "token_document_invalid";
  readonly action = "reauth" as const;
  constructor(
    readonly context: VaultContext,
    detail: string,
  ) {
    super(`The stored ${context.provider} token of user ${context.uid} is invalid (${detail}).`);
  }
}

function blobOf(doc: TokenDoc): SealedBlob {
  return { v: doc.v, keyId: doc.keyId, iv: doc.iv, tag: doc.tag, ciphertext: doc.ciphertext };
}

function validDate(d: Date, what: string): number {
  const ms = d instanceof Date ? d.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`TokenSet.${what} is not a valid Date.`);
  return ms;
}

/** The document to store for `tokens` (pure: no I/O). */
export function sealTokens(vault: Vault, ctx: VaultContext, tokens: TokenSet, now: Date): TokenDoc {
  const payload: TokenPayload = {
    accessToken: tokens.accessToken,
    ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
    expiresAt: validDate(tokens.expiresAt, "expiresAt"),
    issuedAt: validDate(tokens.issuedAt, "issuedAt"),
    scopes: [...tokens.scopes],
  };
  const checked = TokenPayload.safeParse(payload);
  if (!checked.success) throw new TypeError("Refusing to store an incomplete TokenSet (empty access token?).");
  return {
    ...vault.encrypt(JSON.stringify(checked.data), ctx),
    expiresAt: Timestamp.fromMillis(payload.expiresAt),
    updatedAt: Timestamp.fromDate(now),
  };
}

/** Checks a stored document's shape; throws TokenDocumentError when it is not a token document. */
export function parseTokenDoc(ctx: VaultContext, data: unknown): TokenDoc {
  const parsed = TokenDoc.safeParse(data);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? "document")))].join(", ");
    throw new TokenDocumentError(ctx, `bad or missing field(s): ${fields}`);
  }
  return parsed.data;
}

/** Validates, decrypts and validates again (pure: no I/O). Throws TokenDocumentError / TokenDecryptError. */
export function openTokens(vault: Vault, ctx: VaultContext, data: unknown): TokenSet {
  const doc = parseTokenDoc(ctx, data);
  const plaintext = vault.decrypt(blobOf(doc), ctx);
  let json: unknown;
  try {
    json = JSON.parse(plaintext.toString("utf8"));
  } catch {
    throw new TokenDocumentError(ctx, "decrypted payload is not JSON");
  }
  const payload = TokenPayload.safeParse(json);
  if (!payload.success) throw new TokenDocumentError(ctx, "decrypted payload is not a token set");
  const p = payload.data;
  return {
    accessToken: p.accessToken,
    ...(p.refreshToken ? { refreshToken: p.refreshToken } : {}),
    expiresAt: new Date(p.expiresAt),
    issuedAt: new Date(p.issuedAt),
    scopes: p.scopes,
  };
}

/**
 * Re-seals a document under the vault's current key (key rotation). Returns undefined when it is
 * already current. Keeps `expiresAt`; sets `updatedAt` to `now`. Throws like openTokens.
 */
export function resealTokenDoc(vault: Vault, ctx: VaultContext, data: unknown, now: Date): TokenDoc | undefined {
  const doc = parseTokenDoc(ctx, data);
  if (vault.isCurrent(doc)) {
    // Still prove it opens, so an "already current" count never hides an unreadable document.
    vault.decrypt(blobOf(doc), ctx);
    return undefined;
  }
  return { ...vault.reencrypt(blobOf(doc), ctx), expiresAt: doc.expiresAt, updatedAt: Timestamp.fromDate(now) };
}

/** Anything that can write a document: a Transaction or a WriteBatch. */
export interface DocWriter {
  set(ref: DocumentReference, data: DocumentData): unknown;
  delete(ref: DocumentReference): unknown;
}

/** Read/write access to one person's encrypted tokens. */
export interface TokenStore {
  /** The decrypted tokens, or null when none are stored. Inside a transaction, reads through it. */
  load(uid: string, provider: Provider, tx?: Transaction): Promise<TokenSet | null>;
  /** Like load, but a missing document throws ReauthRequiredError (the person must reconnect). */
  loadRequired(uid: string, provider: Provider, tx?: Transaction): Promise<TokenSet>;
  /** Encrypts and stores (replacing what was there). With `writer`, only queues the write on it. */
  save(uid: string, provider: Provider, tokens: TokenSet, writer?: DocWriter): Promise<void>;
  /** Removes the tokens (no error when there are none). With `writer`, only queues the delete. */
  delete(uid: string, provider: Provider, writer?: DocWriter): Promise<void>;
}

export interface FirestoreTokenStoreDeps {
  db: Firestore;
  vault: Vault;
  now?: () => Date;
}

export class FirestoreTokenStore implements TokenStore {
  private readonly now: () => Date;

  constructor(private readonly deps: FirestoreTokenStoreDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  ref(uid: string, provider: Provider): DocumentReference {
    return this.deps.db.doc(firestorePaths.oauthToken(uid, provider));
  }

  async load(uid: string, provider: Provider, tx?: Transaction): Promise<TokenSet | null> {
    const ref = this.ref(uid, provider);
    const snap = tx ? await tx.get(ref) : await ref.get();
    if (!snap.exists) return null;
    return openTokens(this.deps.vault, { uid, provider }, snap.data());
  }

  async loadRequired(uid: string, provider: Provider, tx?: Transaction): Promise<TokenSet> {
    const tokens = await this.load(uid, provider, tx);
    if (!tokens)
      throw new ReauthRequiredError(`No ${provider} tokens are stored for user ${uid}; reconnect ${provider}.`);
    return tokens;
  }

  async save(uid: string, provider: Provider, tokens: TokenSet, writer?: DocWriter): Promise<void> {
    const ref = this.ref(uid, provider);
    const doc = sealTokens(this.deps.vault, { uid, provider }, tokens, this.now());
    if (writer) writer.set(ref, doc);
    else await ref.set(doc);
  }

  async delete(uid: string, provider: Provider, writer?: DocWriter): Promise<void> {
    const ref = this.ref(uid, provider);
    if (writer) writer.delete(ref);
    else await ref.delete();
  }
}

/** The token store of this process: the admin Firestore and the vault of TOKEN_ENCRYPTION_KEYS. Call in handlers. */
export function tokenStoreFromConfig(): FirestoreTokenStore {
  return new FirestoreTokenStore({ db: db(), vault: vaultFromConfig() });
}
