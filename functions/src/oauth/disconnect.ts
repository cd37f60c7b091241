/**
 * Disconnect (callable): the signed-in person removes a provider.
 *
 * Tokens are deleted and the connection is marked `disconnected` in one transaction (history
 * such as last sync times and counts is kept). With `deleteData: true`, the provider's synced
 * data goes too: every snapshot document under `users/{uid}/{provider}` with its `parts`
 * subcollections, the provider's plays, month aggregates and daily points (`plays`, `play_stats`,
 * `history` documents whose `provider` is it), and every Storage object under `{uid}/{provider}/`.
 *
 * A provider whose terms ask for it (catalog `dataPolicy.deleteOnDisconnect`: YouTube) is always
 * disconnected with its data, and its grant is revoked at the provider first (best effort: a
 * failed revocation is logged and the disconnect goes on; the person can still revoke in their
 * provider account, which the app links to).
 */
import type { Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import type { bucket } from "../admin";
import { InvalidInputError } from "../errors";
import { logs } from "../logs";
import { PROVIDERS, type Provider, firestorePaths, storagePaths } from "../paths";
import { catalogEntry } from "../providers/catalog";
import { errorSummary } from "../sync/policy";
import type { TokenStore } from "../crypto/tokenStore";
import type { ProviderContext, ProviderModule } from "../providers/types";
import type { ConnectionStore } from "./connectionStore";

export const DisconnectInput = z.object({
  provider: z.enum(PROVIDERS),
  deleteData: z.boolean().optional().default(false),
});

export interface DisconnectResult {
  provider: Provider;
  /** False when there was no connection document (tokens are removed anyway). */
  hadConnection: boolean;
  deletedDocuments: number;
  deletedObjects: number;
  /** Whether the grant was revoked at the provider (providers whose terms ask for it; else false). */
  revoked: boolean;
}

/** Deletes a person's synced data of one provider; returns counts. */
export interface ProviderDataEraser {
  eraseDocuments(uid: string, provider: Provider): Promise<number>;
  eraseObjects(uid: string, provider: Provider): Promise<number>;
}

export interface DisconnectDeps {
  now: () => Date;
  connections: ConnectionStore;
  eraser: ProviderDataEraser;
  /** Revokes the person's grant at the provider with the stored tokens; false when there are none. */
  revoke: (uid: string, provider: Provider) => Promise<boolean>;
}

export async function disconnect(deps: DisconnectDeps, uid: string, input: unknown): Promise<DisconnectResult> {
  const parsed = DisconnectInput.safeParse(input);
  if (!parsed.success) {
    throw new InvalidInputError(`provider must be one of ${PROVIDERS.join(", ")}; deleteData must be a boolean.`);
  }
  const { provider } = parsed.data;
  const policy = catalogEntry(provider).dataPolicy;
  const deleteData = parsed.data.deleteData || policy?.deleteOnDisconnect === true;
  // Before the tokens go: revoking needs them.
  let revoked = false;
  if (policy?.deleteOnDisconnect) {
    revoked = await deps.revoke(uid, provider).catch((e: unknown) => {
      logs.warn("oauth.revoke_failed", { uid, provider, error: errorSummary(e) });
      return false;
    });
  }
  const { hadConnection } = await deps.connections.markDisconnected({
    uid,
    provider,
    now: deps.now(),
    dataErased: deleteData,
  });
  let deletedDocuments = 0;
  let deletedObjects = 0;
  if (deleteData) {
    deletedDocuments = await deps.eraser.eraseDocuments(uid, provider);
    deletedObjects = await deps.eraser.eraseObjects(uid, provider);
  }
  logs.info("oauth.disconnected", {
    uid,
    provider,
    hadConnection,
    deleteData,
    deletedDocuments,
    deletedObjects,
    revoked,
  });
  return { provider, hadConnection, deletedDocuments, deletedObjects, revoked };
}

/**
 * DisconnectDeps.revoke over the stored tokens: loads them (none: nothing to revoke) and asks the
 * provider's module to revoke the grant, as the operator's app.
 */
export function storedTokenRevoker(deps: {
  tokens: Pick<TokenStore, "load">;
  provider: (id: Provider) => ProviderModule;
  context: () => ProviderContext;
}): DisconnectDeps["revoke"] {
  return async (uid, provider) => {
    const module = deps.provider(provider);
    if (!module.revoke) return false;
    const tokens = await deps.tokens.load(uid, provider);
    if (!tokens) return false;
    await module.revoke(deps.context(), tokens);
    return true;
  };
}

/** The default bucket (firebase-admin's Bucket). */
export type BucketLike = ReturnType<typeof bucket>;

/** Page size and parallel deletes: bounded so a person with many objects cannot exhaust the function. */
export const ERASE_PAGE_SIZE = 500;
export const ERASE_CONCURRENCY = 20;

/** Deletes the documents of a collection whose `provider` is `provider`, a page at a time; returns how many. */
async function deleteWhereProvider(db: Firestore, collection: string, provider: Provider): Promise<number> {
  const query = db.collection(collection).where("provider", "==", provider).select().limit(ERASE_PAGE_SIZE);
  let count = 0;
  for (;;) {
    const page = await query.get();
    if (page.empty) return count;
    const batch = db.batch();
    for (const d of page.docs) batch.delete(d.ref);
    await batch.commit();
    count += page.size;
  }
}

export class FirestoreStorageEraser implements ProviderDataEraser {
  constructor(
    private readonly db: Firestore,
    private readonly bucket: BucketLike,
  ) {}

  async eraseDocuments(uid: string, provider: Provider): Promise<number> {
    let count = 0;
    const writer = this.db.bulkWriter();
    writer.onWriteResult(() => {
      count++;
    });
    // recursiveDelete also removes the `parts` subcollections of large snapshots.
    await this.db.recursiveDelete(this.db.collection(firestorePaths.snapshots(uid, provider)), writer);
    // The provider's listening history: its plays, month aggregates and daily points.
    for (const path of [firestorePaths.plays(uid), firestorePaths.playStats(uid), firestorePaths.history(uid)]) {
      count += await deleteWhereProvider(this.db, path, provider);
    }
    return count;
  }

  async eraseObjects(uid: string, provider: Provider): Promise<number> {
    const prefix = storagePaths.providerPrefix(uid, provider);
    let count = 0;
    let pageToken: string | undefined;
    do {
      const [files, next] = await this.bucket.getFiles({
        prefix,
        maxResults: ERASE_PAGE_SIZE,
        autoPaginate: false,
        ...(pageToken ? { pageToken } : {}),
      });
      for (let i = 0; i < files.length; i += ERASE_CONCURRENCY) {
        await Promise.all(files.slice(i, i + ERASE_CONCURRENCY).map((f) => f.delete({ ignoreNotFound: true })));
      }
      count += files.length;
      pageToken = next?.pageToken;
    } while (pageToken);
    return count;
  }
}
