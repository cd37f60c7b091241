/**
 * The writes of connecting and disconnecting: encrypted tokens (`users/{uid}/oauth_tokens/{p}`)
 * and the connection (`users/{uid}/connections/{p}`), always together in one transaction, so
 * there is never a connection without tokens or tokens without a connection.
 */
import type { DocumentData, Firestore, Transaction } from "firebase-admin/firestore";
import { Timestamp } from "firebase-admin/firestore";
import { ConnectionDoc, newConnection } from "../connections/model";
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
 * history (last sync times, counts) and clears its error state. Either way it is due for sync now.
 */
export function connectionWrite(
  existing: unknown,
  args: { uid: string; provider: Provider; account: ProviderAccount; scopes: string[]; now: Date },
): ConnectionWrite {
  const fresh = newConnection({
    uid: args.uid,
    provider: args.provider,
    providerAccountId: args.account.id,
    providerAccountName: args.account.displayName,
    scopes: args.scopes,
    now: args.now,
  });
  const prev = existing === undefined ? undefined : ConnectionDoc.safeParse(existing);
  if (!prev?.success || prev.data.providerAccountId !== args.account.id) return { mode: "set", doc: fresh };
  return {
    mode: "update",
    fields: {
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
    ...(opts.dataErased ? { dataErasedAt: at } : {}),
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

export class FirestoreConnectionStore implements ConnectionStore {
  constructor(
    private readonly db: Firestore,
    private readonly tokens: TokenSealer,
  ) {}

  async saveConnected(args: SaveConnectedArgs): Promise<{ mode: ConnectionWrite["mode"] }> {
    const ref = this.db.doc(firestorePaths.connection(args.uid, args.provider));
    return this.db.runTransaction(async (tx: Transaction) => {
      const snap = await tx.get(ref);
      const write = connectionWrite(snap.exists ? snap.data() : undefined, args);
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
      tx.delete(this.db.doc(firestorePaths.oauthToken(args.uid, args.provider)));
      if (snap.exists) tx.update(ref, disconnectFields(args.now, { dataErased: args.dataErased }));
      return { hadConnection: snap.exists };
    });
  }
}
