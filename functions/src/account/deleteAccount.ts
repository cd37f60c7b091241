/**
 * Removes everything a person owns, when their Firebase Auth user is deleted:
 *
 * 1. their credentials and connections first (`users/{uid}/oauth_tokens`, their own apps'
 *    sealed secrets `users/{uid}/provider_apps`, `users/{uid}/connections`), so no new sync starts
 *    for them and a running one can no longer refresh;
 * 2. their pending OAuth states (`oauth_states` where uid == uid) and their claims on provider
 *    accounts and own apps (`provider_accounts`, `provider_app_claims` where uid == uid), so the
 *    accounts can be connected again and the apps saved again;
 * 3. every document under `users/{uid}` — the profile and all subcollections, nested ones
 *    included — with Firestore's recursiveDelete over a BulkWriter;
 * 4. every Storage object under `{uid}/`, listed page by page and deleted with bounded concurrency.
 *
 * A sync already past its lease when this runs may write after step 3 or 4; it finds its
 * connection gone when it records the outcome and erases what it wrote (sync/runSync.ts).
 *
 * Idempotent: every step deletes what is there and tolerates what is already gone, so a retried
 * trigger (failurePolicy) or a second run finishes the job and reports zeros for what was done.
 */
import type { BulkWriter, CollectionReference, DocumentReference, Firestore } from "firebase-admin/firestore";
import type { bucket as adminBucket } from "../admin";
import { CONNECTIONS, OAUTH_TOKENS, PROVIDER_APPS, firestorePaths, storagePaths } from "../paths";

export type Bucket = ReturnType<typeof adminBucket>;

/**
 * Limits of one deletion. Named constants rather than settings: deleting an account must not
 * depend on every other setting being valid (getConfig checks them all), and these only trade
 * speed for load.
 */
export const ACCOUNT_DELETE_LIMITS = {
  /** Storage objects listed per page. */
  storagePageSize: 500,
  /** Storage deletes in flight at once. */
  storageConcurrency: 32,
  /** OAuth states (and provider account claims) deleted per query page. */
  statesPageSize: 500,
  /** Listing passes over `{uid}/` (a pass that finds nothing ends it). */
  storagePasses: 3,
} as const;

export interface DeleteAccountDeps {
  db: Firestore;
  bucket: Bucket;
  /** Firestore BulkWriter throttling (500/50/5 ramp-up); on in production. */
  throttling?: boolean;
}

export interface DeleteAccountResult {
  /** Documents deleted under users/{uid}, tokens and connections included. */
  firestoreDocuments: number;
  /** Of those, OAuth token documents (named so the log redactor, which hides any "token" key, lets the count through). */
  credentialDocuments: number;
  oauthStates: number;
  /** Claims on provider accounts (`provider_accounts`) released. */
  accountClaims: number;
  storageObjects: number;
  durationMs: number;
}

type Limits = { [K in keyof typeof ACCOUNT_DELETE_LIMITS]: number };

/** Deletes `ref` and everything below it, counting the documents actually deleted. */
async function recursiveDeleteCounting(
  db: Firestore,
  ref: DocumentReference | CollectionReference,
  throttling: boolean,
): Promise<number> {
  const writer: BulkWriter = db.bulkWriter({ throttling });
  let deleted = 0;
  writer.onWriteResult(() => {
    deleted += 1;
  });
  await db.recursiveDelete(ref, writer);
  await writer.close();
  return deleted;
}

/** Deletes the documents of a top-level collection whose `uid` field is `uid`, page by page. */
async function deleteOwnedBy(db: Firestore, collection: string, uid: string, pageSize: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const page = await db.collection(collection).where("uid", "==", uid).limit(pageSize).get();
    if (page.empty) return deleted;
    const batch = db.batch();
    for (const doc of page.docs) batch.delete(doc.ref);
    await batch.commit();
    deleted += page.size;
    if (page.size < pageSize) return deleted;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

async function deleteStoragePrefix(bucket: Bucket, prefix: string, limits: Limits): Promise<number> {
  let deleted = 0;
  let pageToken: string | undefined;
  do {
    const [files, nextQuery] = await bucket.getFiles({
      prefix,
      maxResults: limits.storagePageSize,
      autoPaginate: false,
      ...(pageToken ? { pageToken } : {}),
    });
    await forEachLimited(files, limits.storageConcurrency, async (file) => {
      await file.delete({ ignoreNotFound: true });
      deleted += 1;
    });
    pageToken = (nextQuery as { pageToken?: string } | null | undefined)?.pageToken;
  } while (pageToken);
  return deleted;
}

/** Deletes everything `uid` owns. See the file comment for the order and why. */
export async function deleteAccountData(
  deps: DeleteAccountDeps,
  uid: string,
  limits: Partial<Limits> = {},
): Promise<DeleteAccountResult> {
  const started = Date.now();
  const l: Limits = { ...ACCOUNT_DELETE_LIMITS, ...limits };
  const throttling = deps.throttling ?? true;
  const user = deps.db.doc(firestorePaths.user(uid));

  const credentialDocuments =
    (await recursiveDeleteCounting(deps.db, user.collection(OAUTH_TOKENS), throttling)) +
    (await recursiveDeleteCounting(deps.db, user.collection(PROVIDER_APPS), throttling));
  const connectionDocuments = await recursiveDeleteCounting(deps.db, user.collection(CONNECTIONS), throttling);
  const oauthStates = await deleteOwnedBy(deps.db, firestorePaths.oauthStates(), uid, l.statesPageSize);
  const accountClaims =
    (await deleteOwnedBy(deps.db, firestorePaths.providerAccountClaims(), uid, l.statesPageSize)) +
    (await deleteOwnedBy(deps.db, firestorePaths.providerAppClaims(), uid, l.statesPageSize));
  // recursiveDelete also issues a delete for the root document, present or not: count it only if present.
  const profileExisted = (await user.get()).exists;
  const rest = (await recursiveDeleteCounting(deps.db, user, throttling)) - (profileExisted ? 0 : 1);
  // A sync that was already running may still add objects while we list: make a few passes.
  let storageObjects = 0;
  for (let pass = 0; pass < l.storagePasses; pass++) {
    const n = await deleteStoragePrefix(deps.bucket, storagePaths.userPrefix(uid), l);
    storageObjects += n;
    if (n === 0) break;
  }

  return {
    firestoreDocuments: credentialDocuments + connectionDocuments + rest,
    credentialDocuments,
    oauthStates,
    accountClaims,
    storageObjects,
    durationMs: Date.now() - started,
  };
}
