/**
 * People's own OAuth apps: `users/{uid}/provider_apps/{provider}`, server only.
 *
 *   { clientId,                           ← plaintext: it is in every authorize URL anyway
 *     v: 1, keyId, iv, tag, ciphertext,   ← the client secret, sealed by crypto/vault.ts with
 *                                           AAD = ("app-secret", uid, provider)
 *     savedAt: Timestamp, updatedAt: Timestamp }
 *
 * The secret is decrypted only by the function that makes a call as the app (`load`: connect,
 * refresh, sync) and is never returned to the person, logged, or put in an error message. Key
 * rotation re-seals these documents too (crypto/rotate.ts, `resealAppDoc`).
 *
 * One app, one person: saving claims the client id (`provider_app_claims/{provider}-{sha256(id)}`
 * = { uid }) in the same transaction, and a client id another person has saved is refused with
 * AppInUseError — a person's development-mode app serves only that person's own data. Removing the
 * app, replacing it, or deleting the account releases the claim.
 *
 * Saving a different app, or removing the app, disconnects the provider when it is connected
 * through the old app (tokens deleted, connection `disconnected`, data kept), in the same
 * transaction as the app write: a grant is only ever used with the app that issued it. Saving the
 * same client id with a new secret (the person rotated it) keeps the connection.
 */
import { type DocumentData, type Firestore, Timestamp, type Transaction } from "firebase-admin/firestore";
import { z } from "zod";
import { ConnectionDoc } from "../connections/model";
import { accountKey, disconnectInTransaction } from "../oauth/connectionStore";
import { type Provider, firestorePaths } from "../paths";
import type { ProviderApp } from "../providers/types";
import { db } from "../admin";
import { type EncryptedBlob, VAULT_FORMAT_VERSION, type Vault, vaultFromConfig } from "../crypto/vault";
import { TokenDocumentError } from "../crypto/tokenStore";
import { AppError } from "../errors";

/** The client id is saved by another person of the app (one own app serves one person). */
export class AppInUseError extends AppError {
  readonly code = "app_in_use";
  readonly action = "give_up";
}

const Claim = z.object({ uid: z.string().min(1) });

/** The document as stored. */
export const AppDoc = z.object({
  clientId: z.string().min(1).max(256),
  v: z.literal(VAULT_FORMAT_VERSION),
  keyId: z.string().min(1).max(64),
  iv: z.string().min(1),
  tag: z.string().min(1),
  ciphertext: z.string().min(1),
  savedAt: z.instanceof(Timestamp),
  updatedAt: z.instanceof(Timestamp),
});
export type AppDoc = z.infer<typeof AppDoc>;

/** A person's own app, decrypted. */
export interface OwnApp extends ProviderApp {
  savedAt: Date;
}

/** What the person may see of their app: never the secret. */
export interface OwnAppInfo {
  clientId: string;
  savedAt: Date;
}

const PURPOSE = "app-secret" as const;

function blobOf(doc: AppDoc): EncryptedBlob {
  return { v: doc.v, keyId: doc.keyId, iv: doc.iv, tag: doc.tag, ciphertext: doc.ciphertext };
}

function parseAppDoc(uid: string, provider: Provider, data: unknown): AppDoc {
  const parsed = AppDoc.safeParse(data);
  if (!parsed.success) {
    throw new TokenDocumentError({ uid, provider, purpose: PURPOSE }, "not an app document");
  }
  return parsed.data;
}

/** The document for an app (pure). */
export function sealApp(
  vault: Vault,
  uid: string,
  provider: Provider,
  app: ProviderApp,
  savedAt: Date,
  now: Date,
): AppDoc {
  return {
    clientId: app.clientId,
    ...vault.encrypt(uid, provider, app.clientSecret, PURPOSE),
    savedAt: Timestamp.fromDate(savedAt),
    updatedAt: Timestamp.fromDate(now),
  };
}

/** Validates and decrypts (pure). Throws TokenDocumentError / TokenDecryptError. */
export function openApp(vault: Vault, uid: string, provider: Provider, data: unknown): OwnApp {
  const doc = parseAppDoc(uid, provider, data);
  const clientSecret = vault.decrypt(uid, provider, blobOf(doc), PURPOSE).toString("utf8");
  return { clientId: doc.clientId, clientSecret, savedAt: doc.savedAt.toDate() };
}

/** Re-seals under the vault's current key (key rotation); undefined when already current (after proving it opens). */
export function resealAppDoc(
  vault: Vault,
  uid: string,
  provider: Provider,
  data: unknown,
  now: Date,
): DocumentData | undefined {
  const doc = parseAppDoc(uid, provider, data);
  if (vault.isCurrent(doc)) {
    vault.decrypt(uid, provider, blobOf(doc), PURPOSE);
    return undefined;
  }
  return { ...vault.reencrypt(uid, provider, blobOf(doc), PURPOSE), updatedAt: Timestamp.fromDate(now) };
}

export interface OwnAppStore {
  /** The decrypted app, or null when the person has none. */
  load(uid: string, provider: Provider): Promise<OwnApp | null>;
  /** The app without its secret (nothing decrypted), or null. */
  info(uid: string, provider: Provider): Promise<OwnAppInfo | null>;
  /** Stores the app; disconnects the provider when it was connected through another app. */
  save(uid: string, provider: Provider, app: ProviderApp, now: Date): Promise<{ disconnected: boolean; savedAt: Date }>;
  /** Removes the app; disconnects the provider when it was connected through it. */
  remove(uid: string, provider: Provider, now: Date): Promise<{ removed: boolean; disconnected: boolean }>;
}

export class FirestoreOwnAppStore implements OwnAppStore {
  constructor(
    private readonly db: Firestore,
    private readonly vault: Vault,
  ) {}

  private ref(uid: string, provider: Provider) {
    return this.db.doc(firestorePaths.providerApp(uid, provider));
  }

  async load(uid: string, provider: Provider): Promise<OwnApp | null> {
    const snap = await this.ref(uid, provider).get();
    return snap.exists ? openApp(this.vault, uid, provider, snap.data()) : null;
  }

  async info(uid: string, provider: Provider): Promise<OwnAppInfo | null> {
    const snap = await this.ref(uid, provider).get();
    if (!snap.exists) return null;
    const doc = parseAppDoc(uid, provider, snap.data());
    return { clientId: doc.clientId, savedAt: doc.savedAt.toDate() };
  }

  async save(
    uid: string,
    provider: Provider,
    app: ProviderApp,
    now: Date,
  ): Promise<{ disconnected: boolean; savedAt: Date }> {
    const ref = this.ref(uid, provider);
    const claimRef = this.claimRef(provider, app.clientId);
    return this.db.runTransaction(async (tx) => {
      const [current, connection, claimSnap] = await Promise.all([
        tx.get(ref),
        this.connectionOnOwnApp(tx, uid, provider),
        tx.get(claimRef),
      ]);
      const claim = Claim.safeParse(claimSnap.data());
      if (
        claim.success &&
        claim.data.uid !== uid &&
        (await this.claimStands(tx, claim.data.uid, provider, app.clientId))
      )
        throw new AppInUseError("This client id is saved by another person of this app.");
      const previous = current.exists ? AppDoc.safeParse(current.data()) : undefined;
      const sameApp = previous?.success === true && previous.data.clientId === app.clientId;
      const oldClaim = previous?.success && !sameApp ? this.claimRef(provider, previous.data.clientId) : undefined;
      const oldClaimSnap = oldClaim ? await tx.get(oldClaim) : undefined;
      const disconnect = connection !== null && connection.clientId !== app.clientId;
      if (disconnect)
        await disconnectInTransaction(this.db, tx, {
          uid,
          provider,
          now,
          accountId: connection.accountId,
          connectionExists: true,
        });
      if (oldClaim && Claim.safeParse(oldClaimSnap?.data()).data?.uid === uid) tx.delete(oldClaim);
      const savedAt = sameApp ? previous.data.savedAt.toDate() : now;
      tx.set(claimRef, { uid, provider, claimedAt: Timestamp.fromDate(now) });
      tx.set(ref, sealApp(this.vault, uid, provider, app, savedAt, now));
      return { disconnected: disconnect, savedAt };
    });
  }

  async remove(uid: string, provider: Provider, now: Date): Promise<{ removed: boolean; disconnected: boolean }> {
    const ref = this.ref(uid, provider);
    return this.db.runTransaction(async (tx) => {
      const [current, connection] = await Promise.all([tx.get(ref), this.connectionOnOwnApp(tx, uid, provider)]);
      const previous = current.exists ? AppDoc.safeParse(current.data()) : undefined;
      const claimRef = previous?.success ? this.claimRef(provider, previous.data.clientId) : undefined;
      const claimSnap = claimRef ? await tx.get(claimRef) : undefined;
      if (connection !== null)
        await disconnectInTransaction(this.db, tx, {
          uid,
          provider,
          now,
          accountId: connection.accountId,
          connectionExists: true,
        });
      if (claimRef && Claim.safeParse(claimSnap?.data()).data?.uid === uid) tx.delete(claimRef);
      if (current.exists) tx.delete(ref);
      return { removed: current.exists, disconnected: connection !== null };
    });
  }

  private claimRef(provider: Provider, clientId: string) {
    return this.db.doc(firestorePaths.providerAppClaim(provider, accountKey(clientId)));
  }

  /** Whether `holder` still has this client id saved (a claim left by a removed app is stale). */
  private async claimStands(tx: Transaction, holder: string, provider: Provider, clientId: string): Promise<boolean> {
    const snap = await tx.get(this.ref(holder, provider));
    const doc = snap.exists ? AppDoc.safeParse(snap.data()) : undefined;
    return doc?.success === true && doc.data.clientId === clientId;
  }

  /** The live connection made through an own app (its client id and account), or null. */
  private async connectionOnOwnApp(
    tx: Transaction,
    uid: string,
    provider: Provider,
  ): Promise<{ clientId: string; accountId: string | null } | null> {
    const snap = await tx.get(this.db.doc(firestorePaths.connection(uid, provider)));
    const c = snap.exists ? ConnectionDoc.safeParse(snap.data()) : undefined;
    if (!c?.success || c.data.status === "disconnected" || !c.data.app) return null;
    return { clientId: c.data.app.clientId, accountId: c.data.providerAccountId };
  }
}

/** The own-app store of this process: the admin Firestore and the vault of TOKEN_ENCRYPTION_KEYS. Call in handlers. */
export function ownAppStoreFromConfig(): FirestoreOwnAppStore {
  return new FirestoreOwnAppStore(db(), vaultFromConfig());
}
