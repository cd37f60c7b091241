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
 * To store tokens atomically with other documents (the OAuth callback writes tokens + connection
 * together; the sync persists rotated tokens inside its lease transaction), use `toDoc` and put
 * the result in your own batch/transaction, or pass the transaction/batch to `save`/`delete`;
 * `fromDoc` opens a snapshot's data read in your own transaction (or pass it to `load`).
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
import { type EncryptedBlob, VAULT_FORMAT_VERSION, type Vault, type VaultContext, vaultFromConfig } from "./vault";

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

function blobOf(doc: TokenDoc): EncryptedBlob {
  return { v: doc.v, keyId: doc.keyId, iv: doc.iv, tag: doc.tag, ciphertext: doc.ciphertext };
}

function validDate(d: Date, what: string): number {
  const ms = d instanceof Date ? d.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new TypeError(`TokenSet.${what} is not a valid Date.`);
  return ms;
}

/** The document to store for `tokens` (pure: no I/O). */
export function sealTokens(vault: Vault, uid: string, provider: Provider, tokens: TokenSet, now: Date): TokenDoc {
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
    ...vault.encrypt(uid, provider, JSON.stringify(checked.data)),
    expiresAt: Timestamp.fromMillis(payload.expiresAt),
    updatedAt: Timestamp.fromDate(now),
  };
}

/** Checks a stored document's shape; throws TokenDocumentError when it is not a token document. */
export function parseTokenDoc(uid: string, provider: Provider, data: unknown): TokenDoc {
  const parsed = TokenDoc.safeParse(data);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? "document")))].join(", ");
    throw new TokenDocumentError({ uid, provider }, `bad or missing field(s): ${fields}`);
  }
  return parsed.data;
}

/** Validates, decrypts and validates again (pure: no I/O). Throws TokenDocumentError / TokenDecryptError. */
export function openTokens(vault: Vault, uid: string, provider: Provider, data: unknown): TokenSet {
  const doc = parseTokenDoc(uid, provider, data);
  const plaintext = vault.decrypt(uid, provider, blobOf(doc));
  let json: unknown;
  try {
    json = JSON.parse(plaintext.toString("utf8"));
  } catch {
    throw new TokenDocumentError({ uid, provider }, "decrypted payload is not JSON");
  }
  const payload = TokenPayload.safeParse(json);
  if (!payload.success) throw new TokenDocumentError({ uid, provider }, "decrypted payload is not a token set");
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
export function resealTokenDoc(
  vault: Vault,
  uid: string,
  provider: Provider,
  data: unknown,
  now: Date,
): TokenDoc | undefined {
  const doc = parseTokenDoc(uid, provider, data);
  if (vault.isCurrent(doc)) {
    // Still prove it opens, so an "already current" count never hides an unreadable document.
    vault.decrypt(uid, provider, blobOf(doc));
    return undefined;
  }
  return {
    ...vault.reencrypt(uid, provider, blobOf(doc)),
    expiresAt: doc.expiresAt,
    updatedAt: Timestamp.fromDate(now),
  };
}

/** Anything that can write a document: a Transaction or a WriteBatch. */
export interface DocWriter {
  set(ref: DocumentReference, data: DocumentData): unknown;
  delete(ref: DocumentReference): unknown;
}

/** Read/write access to people's encrypted tokens (docs/contracts.md). */
export interface TokenStore {
  /** Encrypted document data for `tokens`, for the caller's own batch/transaction. */
  toDoc(uid: string, provider: Provider, tokens: TokenSet): TokenDoc;
  /** Validates + decrypts document data. Throws TokenDocumentError / TokenDecryptError. */
  fromDoc(uid: string, provider: Provider, data: unknown): TokenSet;
  /** The decrypted tokens, or null when none are stored. With `tx`, reads through the transaction. */
  load(uid: string, provider: Provider, tx?: Transaction): Promise<TokenSet | null>;
  /** Like load, but a missing document throws ReauthRequiredError (the person must reconnect). */
  loadRequired(uid: string, provider: Provider, tx?: Transaction): Promise<TokenSet>;
  /** Encrypts and stores at users/{uid}/oauth_tokens/{provider}, replacing what was there. With `writer`, only queues it. */
  save(uid: string, provider: Provider, tokens: TokenSet, writer?: DocWriter): Promise<void>;
  /** Removes the tokens (no error when there are none). With `writer`, only queues the delete. */
  delete(uid: string, provider: Provider, writer?: DocWriter): Promise<void>;
  /**
   * Stores `next` only if the stored tokens are still `previous` (same access token), in a
   * transaction; false when they are gone (disconnect, account deletion) or were replaced meanwhile
   * (a reconnect): a refresh of the old grant must neither resurrect nor overwrite them.
   */
  replace(uid: string, provider: Provider, previous: TokenSet, next: TokenSet): Promise<boolean>;
}

export interface TokenStoreOptions {
  /** Clock for `updatedAt` (tests pass a fixed one). */
  now?: () => Date;
}

/** The Firestore-backed token store. */
export function createTokenStore(firestore: Firestore, vault: Vault, opts: TokenStoreOptions = {}): TokenStore {
  const now = opts.now ?? (() => new Date());
  const ref = (uid: string, provider: Provider): DocumentReference =>
    firestore.doc(firestorePaths.oauthToken(uid, provider));
  const store: TokenStore = {
    toDoc: (uid, provider, tokens) => sealTokens(vault, uid, provider, tokens, now()),
    fromDoc: (uid, provider, data) => openTokens(vault, uid, provider, data),
    async load(uid, provider, tx) {
      const r = ref(uid, provider);
      const snap = tx ? await tx.get(r) : await r.get();
      return snap.exists ? openTokens(vault, uid, provider, snap.data()) : null;
    },
    async loadRequired(uid, provider, tx) {
      const tokens = await store.load(uid, provider, tx);
      if (!tokens)
        throw new ReauthRequiredError(`No ${provider} tokens are stored for user ${uid}; reconnect ${provider}.`);
      return tokens;
    },
    async save(uid, provider, tokens, writer) {
      const r = ref(uid, provider);
      const doc = sealTokens(vault, uid, provider, tokens, now());
      if (writer) writer.set(r, doc);
      else await r.set(doc);
    },
    async delete(uid, provider, writer) {
      const r = ref(uid, provider);
      if (writer) writer.delete(r);
      else await r.delete();
    },
    async replace(uid, provider, previous, next) {
      const r = ref(uid, provider);
      return firestore.runTransaction(async (tx) => {
        const stored = await store.load(uid, provider, tx);
        if (!stored || stored.accessToken !== previous.accessToken) return false;
        tx.set(r, sealTokens(vault, uid, provider, next, now()));
        return true;
      });
    },
  };
  return store;
}

/** The token store of this process: the admin Firestore and the vault of TOKEN_ENCRYPTION_KEYS. Call in handlers. */
export function tokenStoreFromConfig(): TokenStore {
  return createTokenStore(db(), vaultFromConfig());
}
