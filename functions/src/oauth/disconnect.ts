/**
 * Disconnect (callable): the signed-in person removes a provider.
 *
 * Tokens are deleted and the connection is marked `disconnected` in one transaction (history
 * such as last sync times and counts is kept). With `deleteData: true`, the provider's synced
 * data goes too: every snapshot document under `users/{uid}/{provider}` with its `parts`
 * subcollections, and every Storage object under `{uid}/{provider}/`.
 */
import type { Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import type { bucket } from "../admin";
import { InvalidInputError } from "../errors";
import { logs } from "../logs";
import { PROVIDERS, type Provider, firestorePaths, storagePaths } from "../paths";
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
}

export async function disconnect(deps: DisconnectDeps, uid: string, input: unknown): Promise<DisconnectResult> {
  const parsed = DisconnectInput.safeParse(input);
  if (!parsed.success) {
    throw new InvalidInputError(`provider must be one of ${PROVIDERS.join(", ")}; deleteData must be a boolean.`);
  }
  const { provider, deleteData } = parsed.data;
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
  logs.info("oauth.disconnected", { uid, provider, hadConnection, deleteData, deletedDocuments, deletedObjects });
  return { provider, hadConnection, deletedDocuments, deletedObjects };
}

/** The default bucket (firebase-admin's Bucket). */
export type BucketLike = ReturnType<typeof bucket>;

/** Page size and parallel deletes: bounded so a person with many objects cannot exhaust the function. */
export const ERASE_PAGE_SIZE = 500;
export const ERASE_CONCURRENCY = 20;

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
