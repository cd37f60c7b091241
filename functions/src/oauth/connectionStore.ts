/**
 * The writes of connecting and disconnecting: encrypted tokens (`users/{uid}/oauth_tokens/{p}`)
 * and the connection (`users/{uid}/connections/{p}`), always together in one transaction, so
 * there is never a connection without tokens or tokens without a connection.
 *
 * One provider account, one person: the same transaction claims the provider account
 * (`provider_accounts/{p}-{sha256(account id)}` = { uid }). Connecting an account that another
 * person of the app has connected (their connection still names it and is not disconnected) is
 * refused with AccountInUseError, so one Spotify or Instagram account's data never flows into two
 * people's dashboards. A claim whose holder disconnected, connected another account or is gone is
 * stale and taken over; disconnecting and deleting an account release their claims.
 */
import { createHash } from "node:crypto";
import type { DocumentData, Firestore, Transaction } from "firebase-admin/firestore";
import { Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { ConnectionDoc, newConnection } from "../connections/model";
import { AppError } from "../errors";
import { type Provider, firestorePaths } from "../paths";
import type { ProviderAccount, TokenSet } from "../providers/types";

/** The token vault, as far as this module needs it: the encrypted document for a token set. */
export interface TokenSealer {
  toDoc(uid: string, provider: Provider, tokens: TokenSet): DocumentData;
}

/** How the connection document changes on connect: replaced whole, or updated in place. */
export type ConnectionWrite =
  { mode: "set"; doc: ConnectionDoc } | { mode: "update"; fields: Partial<ConnectionDoc> & Record<string, unknown> };

/**
 * The connection write for a successful connect (pure). A first connect, or a reconnect to a
 * different provider account, starts a fresh document. A reconnect of the same account keeps its
 * history (last sync times, counts) and clears its error state. Either way it is due for sync now,
 * and the lease is cleared, so a sync still running on the old grant writes nothing more.
 */
export function connectionWrite(
  existing: unknown,
  args: {
    uid: string;
    provider: Provider;
    account: ProviderAccount;
    scopes: string[];
    now: Date;
    app?: { clientId: string } | null;
  },
): ConnectionWrite {
  const fresh = newConnection({
    uid: args.uid,
    provider: args.provider,
    providerAccountId: args.account.id,
    providerAccountName: args.account.displayName,
    scopes: args.scopes,
    now: args.now,
    app: args.app ?? null,
  });
  const prev = existing === undefined ? undefined : ConnectionDoc.safeParse(existing);
  const ids = accountIds(args.account);
  if (!prev?.success || prev.data.providerAccountId === null || !ids.includes(prev.data.providerAccountId))
    return { mode: "set", doc: fresh };
  return {
    mode: "update",
    fields: {
      app: fresh.app,
      status: "connected",
      providerAccountId: fresh.providerAccountId,
      providerAccountName: fresh.providerAccountName,
      scopes: fresh.scopes,
      connectedAt: fresh.connectedAt,
      updatedAt: fresh.updatedAt,
      nextSyncAt: fresh.nextSyncAt,
      lastError: null,
      consecutiveFailures: 0,
      reauthReason: null,
      // A sync still running on the old grant loses its lease: its writes are fenced by it (sync/lease.ts).
      lease: null,
      // …and may have written snapshots before: the next sync reads them (snapshots.ts `known`).
      snapshotHashes: null,
    },
  };
}

/**
 * The fields changed by a disconnect: history (last sync, counts, account) is kept. With
 * `dataErased`, the time the provider's data is erased, for a sync still running (runSync.ts).
 */
export function disconnectFields(now: Date, opts: { dataErased?: boolean } = {}): Partial<ConnectionDoc> {
  const at = Timestamp.fromDate(now);
  return {
    status: "disconnected",
    updatedAt: at,
    reauthReason: null,
    lease: null,
    // A sync cut off here may have written snapshots its outcome never recorded: the next reads them.
    snapshotHashes: null,
    // The erased objects leave the image mirror's manifest with them: a reconnect's first sync lists the folder.
    ...(opts.dataErased ? { dataErasedAt: at, mirror: null } : {}),
  };
}

/** What the callback hands the store once a code is exchanged and the account identified. */
export interface SaveConnectedArgs {
  uid: string;
  provider: Provider;
  tokens: TokenSet;
  account: ProviderAccount;
  scopes: string[];
  now: Date;
  /** The person's own app the grant was made through; absent or null: the operator's app. */
  app?: { clientId: string } | null;
}

/** Every id the provider account is known by: its id first, then ids it had before (ProviderAccount.formerIds). */
export function accountIds(account: ProviderAccount): string[] {
  return [account.id, ...(account.formerIds ?? []).filter((id) => id !== account.id)];
}

/** What a disconnect hands the store; `dataErased` when it will erase the provider's data too. */
export interface MarkDisconnectedArgs {
  uid: string;
  provider: Provider;
  now: Date;
  dataErased?: boolean;
}

export interface ConnectionStore {
  /** Stores tokens and marks the connection connected, atomically. */
  saveConnected(args: SaveConnectedArgs): Promise<{ mode: ConnectionWrite["mode"] }>;
  /** Deletes tokens and marks an existing connection disconnected, atomically. */
  markDisconnected(args: MarkDisconnectedArgs): Promise<{ hadConnection: boolean }>;
}

/** The provider account is connected under another person of the app. */
export class AccountInUseError extends AppError {
  readonly code = "account_in_use";
  readonly action = "give_up";
}

/** The claim document's id part for a provider account id (hex SHA-256: ids never appear in paths). */
export function accountKey(accountId: string): string {
  return createHash("sha256").update(accountId, "utf8").digest("hex");
}

const Claim = z.object({ uid: z.string().min(1) });

/**
 * Whether a claim by `holder` on (provider, accountId) still stands: the holder's connection
 * names that account and is not disconnected. Reads in the caller's transaction.
 */
async function claimStands(
  db: Firestore,
  tx: Transaction,
  holder: string,
  provider: Provider,
  accountId: string,
): Promise<boolean> {
  const snap = await tx.get(db.doc(firestorePaths.connection(holder, provider)));
  if (!snap.exists) return false;
  const c = ConnectionDoc.safeParse(snap.data());
  return c.success && c.data.status !== "disconnected" && c.data.providerAccountId === accountId;
}

export class FirestoreConnectionStore implements ConnectionStore {
  constructor(
    private readonly db: Firestore,
    private readonly tokens: TokenSealer,
  ) {}

  async saveConnected(args: SaveConnectedArgs): Promise<{ mode: ConnectionWrite["mode"] }> {
    const ref = this.db.doc(firestorePaths.connection(args.uid, args.provider));
    const claimRef = this.db.doc(firestorePaths.providerAccountClaim(args.provider, accountKey(args.account.id)));
    // The account's former ids (Spotify's user id, before its stable account_id) may hold a claim too.
    const formerRefs = accountIds(args.account)
      .slice(1)
      .map((id) => ({ id, ref: this.db.doc(firestorePaths.providerAccountClaim(args.provider, accountKey(id))) }));
    return this.db.runTransaction(async (tx: Transaction) => {
      const [snap, claimSnap, ...formerSnaps] = await Promise.all([
        tx.get(ref),
        tx.get(claimRef),
        ...formerRefs.map((f) => tx.get(f.ref)),
      ]);
      const claims = [
        { id: args.account.id, claim: Claim.safeParse(claimSnap.data()) },
        ...formerRefs.map((f, i) => ({ id: f.id, claim: Claim.safeParse(formerSnaps[i]!.data()) })),
      ];
      for (const { id, claim } of claims) {
        if (
          claim.success &&
          claim.data.uid !== args.uid &&
          (await claimStands(this.db, tx, claim.data.uid, args.provider, id))
        ) {
          throw new AccountInUseError(
            `This ${args.provider} account is already connected to another account of this app.`,
          );
        }
      }
      const write = connectionWrite(snap.exists ? snap.data() : undefined, args);
      // A reconnect to a different provider account frees the claim on the old one (its read
      // comes before every write of the transaction, as Firestore requires).
      const previous = snap.exists ? ConnectionDoc.safeParse(snap.data()) : undefined;
      const oldAccount = previous?.success ? previous.data.providerAccountId : null;
      if (oldAccount && oldAccount !== args.account.id) {
        await releaseClaim(this.db, tx, args.uid, args.provider, oldAccount);
      }
      tx.set(claimRef, { uid: args.uid, provider: args.provider, claimedAt: Timestamp.fromDate(args.now) });
      tx.set(
        this.db.doc(firestorePaths.oauthToken(args.uid, args.provider)),
        this.tokens.toDoc(args.uid, args.provider, args.tokens),
      );
      if (write.mode === "set") tx.set(ref, write.doc);
      else tx.update(ref, write.fields);
      return { mode: write.mode };
    });
  }

  async markDisconnected(args: MarkDisconnectedArgs): Promise<{ hadConnection: boolean }> {
    const ref = this.db.doc(firestorePaths.connection(args.uid, args.provider));
    return this.db.runTransaction(async (tx: Transaction) => {
      const snap = await tx.get(ref);
      const current = snap.exists ? ConnectionDoc.safeParse(snap.data()) : undefined;
      await disconnectInTransaction(this.db, tx, {
        ...args,
        accountId: current?.success ? current.data.providerAccountId : null,
        connectionExists: snap.exists,
      });
      return { hadConnection: snap.exists };
    });
  }
}

/**
 * The writes of a disconnect, in the caller's transaction (after its other reads: the claim is
 * read here): the claim on `accountId` released, the tokens deleted, the connection (when it
 * exists) marked disconnected. Used by markDisconnected and by apps/store.ts (replacing or
 * removing a person's own app).
 */
export async function disconnectInTransaction(
  db: Firestore,
  tx: Transaction,
  args: MarkDisconnectedArgs & { accountId: string | null; connectionExists: boolean },
): Promise<void> {
  if (args.accountId) await releaseClaim(db, tx, args.uid, args.provider, args.accountId);
  tx.delete(db.doc(firestorePaths.oauthToken(args.uid, args.provider)));
  if (args.connectionExists)
    tx.update(
      db.doc(firestorePaths.connection(args.uid, args.provider)),
      disconnectFields(args.now, { dataErased: args.dataErased }),
    );
}

/**
 * Deletes `uid`'s claim on (provider, accountId), if it holds it. It reads, then writes: call it
 * after the transaction's other reads and before its other writes.
 */
export async function releaseClaim(
  db: Firestore,
  tx: Transaction,
  uid: string,
  provider: Provider,
  accountId: string,
): Promise<void> {
  const ref = db.doc(firestorePaths.providerAccountClaim(provider, accountKey(accountId)));
  const claim = Claim.safeParse((await tx.get(ref)).data());
  if (claim.success && claim.data.uid === uid) tx.delete(ref);
}
