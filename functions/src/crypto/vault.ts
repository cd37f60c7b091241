/**
 * The token vault: AES-256-GCM with a key ring.
 *
 * - Every encryption draws a fresh 96-bit IV (`randomBytes(12)`); the 128-bit GCM tag is kept.
 * - The associated data binds a ciphertext to its owner and its purpose: (purpose, format version,
 *   uid, provider). A blob copied into another user's document, under another provider, or from a
 *   token document into an app-secret document (or back), fails authentication and decrypting it
 *   throws `TokenDecryptError`, never garbage.
 * - Key ring: the first key encrypts, every listed key decrypts; each blob records the id of the
 *   key that sealed it (`keyId`), so keys can be rotated (`npm run rotate-keys`) and an old key
 *   removed once nothing uses it.
 *
 * Nothing here logs, and no error message contains plaintext, keys or ciphertext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { type Config, type KeyRingEntry, getConfig } from "../config";
import { AppError, type ErrorAction } from "../errors";
import type { Provider } from "../paths";

export type { KeyRingEntry };

/** Format version of a sealed blob (changes only if the algorithm or the AAD layout changes). */
export const VAULT_FORMAT_VERSION = 1 as const;
const ALGORITHM = "aes-256-gcm";
const KEY_BYTES = 32;
/** 96-bit IV: the size GCM is specified for. */
export const IV_BYTES = 12;
/** Full-length 128-bit tag. */
export const TAG_BYTES = 16;

/**
 * What a ciphertext is: `oauth-token`, a person's token bundle (crypto/tokenStore.ts);
 * `app-secret`, the client secret of a person's own OAuth app (apps/store.ts).
 */
export type VaultPurpose = "oauth-token" | "app-secret";

/** Who a ciphertext belongs to and what it is (bound into the AAD); carried by TokenDecryptError. */
export interface VaultContext {
  uid: string;
  provider: Provider;
  /** Absent: `oauth-token`. */
  purpose?: VaultPurpose;
}

/** An encrypted value as stored (binary fields base64). */
export interface EncryptedBlob {
  v: typeof VAULT_FORMAT_VERSION;
  keyId: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** Why a blob could not be opened. */
export type DecryptFailure =
  /** The blob names a key id the ring does not hold (removed too early, or wrong ring). */
  | "unknown_key"
  /** Authentication failed: wrong uid/provider (moved blob), tampered bytes, or a different key under the same id. */
  | "authentication_failed"
  /** The blob is structurally wrong (version, IV or tag length, base64). */
  | "malformed";

/**
 * A stored token cannot be decrypted. The grant is unusable as stored, so the person has to
 * reconnect (`action: reauth`), except for `unknown_key`, which is an operator problem (a key
 * was removed from TOKEN_ENCRYPTION_KEYS while ciphertexts still use it): `give_up` so a
 * deployment mistake does not flip every connection to "needs re-auth".
 */
export class TokenDecryptError extends AppError {
  readonly code = "token_undecryptable";
  readonly action: ErrorAction;
  constructor(
    readonly reason: DecryptFailure,
    readonly context: VaultContext,
    readonly keyId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(describe(reason, context, keyId), options);
    this.action = reason === "unknown_key" ? "give_up" : "reauth";
  }
}

function describe(reason: DecryptFailure, ctx: VaultContext, keyId: string | undefined): string {
  const what = ctx.purpose === "app-secret" ? "app secret" : "token";
  const who = `the ${ctx.provider} ${what} of user ${ctx.uid}`;
  switch (reason) {
    case "unknown_key":
      return `Cannot decrypt ${who}: it was sealed with key "${keyId}", which is not in TOKEN_ENCRYPTION_KEYS.`;
    case "authentication_failed":
      return `Cannot decrypt ${who}: authentication failed (the ciphertext belongs to another user or provider, or was altered).`;
    default:
      return `Cannot decrypt ${who}: the stored ciphertext is malformed.`;
  }
}

/** The vault was built from an unusable key ring (config.ts normally catches this first). */
export class VaultKeyRingError extends AppError {
  readonly code = "config";
  readonly action = "give_up" as const;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function fromBase64(value: unknown, bytes?: number): Buffer | undefined {
  if (typeof value !== "string" || !BASE64.test(value)) return undefined;
  const buf = Buffer.from(value, "base64");
  if (bytes !== undefined && buf.length !== bytes) return undefined;
  return buf;
}

/**
 * Associated data: an unambiguous encoding of (purpose, version, uid, provider). JSON array
 * encoding means no uid can be crafted to collide with another (uid, provider) pair.
 */
export function associatedData(uid: string, provider: Provider, purpose: VaultPurpose = "oauth-token"): Buffer {
  return Buffer.from(JSON.stringify([`metrics-sync/${purpose}`, VAULT_FORMAT_VERSION, uid, provider]), "utf8");
}

export class Vault {
  private readonly keys: ReadonlyMap<string, Buffer>;
  /** Id of the key new ciphertexts are sealed with (the first of the ring). */
  readonly currentKeyId: string;

  constructor(ring: readonly KeyRingEntry[]) {
    if (ring.length === 0) throw new VaultKeyRingError("The token key ring is empty; it needs at least one key.");
    const keys = new Map<string, Buffer>();
    for (const { id, key } of ring) {
      if (!id) throw new VaultKeyRingError("A token key has an empty id.");
      if (key.length !== KEY_BYTES) {
        throw new VaultKeyRingError(`Token key "${id}" is ${key.length} bytes; AES-256 needs exactly ${KEY_BYTES}.`);
      }
      if (keys.has(id)) throw new VaultKeyRingError(`Token key id "${id}" is listed twice.`);
      keys.set(id, Buffer.from(key));
    }
    this.keys = keys;
    this.currentKeyId = ring[0]!.id;
  }

  /** Ids of every key that can decrypt, current first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** Seals `plaintext` for (uid, provider, purpose) under the current key with a fresh IV. */
  encrypt(
    uid: string,
    provider: Provider,
    plaintext: Buffer | string,
    purpose: VaultPurpose = "oauth-token",
  ): EncryptedBlob {
    const key = this.keys.get(this.currentKeyId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(uid, provider, purpose));
    const data = typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : plaintext;
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    return {
      v: VAULT_FORMAT_VERSION,
      keyId: this.currentKeyId,
      iv: iv.toString("base64"),
      tag: cipher.getAuthTag().toString("base64"),
      ciphertext: ciphertext.toString("base64"),
    };
  }

  /** Opens a blob sealed for (uid, provider, purpose). Throws TokenDecryptError on any failure. */
  decrypt(uid: string, provider: Provider, blob: EncryptedBlob, purpose: VaultPurpose = "oauth-token"): Buffer {
    const ctx: VaultContext = { uid, provider, ...(purpose === "oauth-token" ? {} : { purpose }) };
    if (blob.v !== VAULT_FORMAT_VERSION) throw new TokenDecryptError("malformed", ctx, blob.keyId);
    const key = this.keys.get(blob.keyId);
    if (!key) throw new TokenDecryptError("unknown_key", ctx, blob.keyId);
    const iv = fromBase64(blob.iv, IV_BYTES);
    const tag = fromBase64(blob.tag, TAG_BYTES);
    const ciphertext = fromBase64(blob.ciphertext);
    if (!iv || !tag || !ciphertext) throw new TokenDecryptError("malformed", ctx, blob.keyId);
    try {
      const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(associatedData(uid, provider, purpose));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch (cause) {
      throw new TokenDecryptError("authentication_failed", ctx, blob.keyId, { cause });
    }
  }

  /** True when the blob is sealed with the current (encrypting) key. */
  isCurrent(blob: Pick<EncryptedBlob, "keyId">): boolean {
    return blob.keyId === this.currentKeyId;
  }

  /** Decrypts with whatever key sealed it and seals again under the current key (fresh IV). */
  reencrypt(
    uid: string,
    provider: Provider,
    blob: EncryptedBlob,
    purpose: VaultPurpose = "oauth-token",
  ): EncryptedBlob {
    return this.encrypt(uid, provider, this.decrypt(uid, provider, blob, purpose), purpose);
  }
}

/** A vault over a key ring (getConfig().TOKEN_ENCRYPTION_KEYS; the first key encrypts, all decrypt). */
export function createVault(keys: readonly KeyRingEntry[]): Vault {
  return new Vault(keys);
}

/** The vault of this process's config (TOKEN_ENCRYPTION_KEYS). Call inside handlers, not at module load. */
export function vaultFromConfig(config: Pick<Config, "TOKEN_ENCRYPTION_KEYS"> = getConfig()): Vault {
  return new Vault(config.TOKEN_ENCRYPTION_KEYS);
}
