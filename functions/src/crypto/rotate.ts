/**
 * Key rotation: re-encrypts every sealed document — token documents
 * (`users/{uid}/oauth_tokens/{provider}`) and the client secrets of people's own apps
 * (`users/{uid}/provider_apps/{provider}`) — that is not sealed with the vault's current key. Run
 * by `npm run rotate-keys` (scripts/rotate-keys.ts). Token documents first, then app documents.
 *
 * Resumable by being idempotent on key id, with no checkpoint document: each run pages through
 * the whole `oauth_tokens` collection group (ordered by document path, a cursor per page, a
 * bounded page size) and rewrites only documents whose `keyId` is not the current one. A run
 * that stops halfway is simply run again; what it already moved is counted "already current".
 * Token documents are few (people × providers) and reading one costs one read, so a checkpoint
 * would save little and could go stale; `startAfter` (the last path a progress line printed)
 * still lets an operator skip what a long run already scanned.
 *
 * Each rewrite is conditional on the document's update time (a precondition), so a token the
 * sync refreshed between our read and our write is never overwritten with older tokens: the
 * document is read again and handled afresh.
 */
import {
  type DocumentData,
  FieldPath,
  type Firestore,
  type QueryDocumentSnapshot,
  type Timestamp,
} from "firebase-admin/firestore";
import { resealAppDoc } from "../apps/store";
import { type Provider, OAUTH_TOKENS, PROVIDER_APPS, USERS, isProvider } from "../paths";
import { resealTokenDoc } from "./tokenStore";
import type { Vault } from "./vault";

/** A collection group of sealed documents `users/{uid}/{group}/{provider}` and how to re-seal one. */
interface SealedGroup {
  group: string;
  reseal: (vault: Vault, uid: string, provider: Provider, data: unknown, now: Date) => DocumentData | undefined;
}

/** Every collection group the vault seals, in the order a rotation visits them. */
export const SEALED_GROUPS: readonly SealedGroup[] = [
  { group: OAUTH_TOKENS, reseal: resealTokenDoc },
  { group: PROVIDER_APPS, reseal: resealAppDoc },
];

export const ROTATE_DEFAULTS = {
  /** Token documents read per page. */
  pageSize: 200,
  /** Documents re-encrypted at once within a page. */
  concurrency: 16,
  /** Re-reads of a document that changed under us before giving up on it for this run. */
  maxAttemptsPerDoc: 5,
} as const;

export interface RotateProgress {
  page: number;
  scanned: number;
  reencrypted: number;
  alreadyCurrent: number;
  unreadable: number;
  /** Path of the last document of the page: pass it as `startAfter` to resume after it. */
  lastPath: string;
}

export interface UnreadableDoc {
  path: string;
  /** Error code and message (no secrets: paths, key ids and reasons only). */
  code: string;
  message: string;
}

export interface RotateResult {
  scanned: number;
  reencrypted: number;
  alreadyCurrent: number;
  unreadable: UnreadableDoc[];
  /** Documents deleted between listing and rewriting (nothing to do). */
  vanished: number;
  /** The key every readable document is now sealed with. */
  currentKeyId: string;
  dryRun: boolean;
}

export interface RotateOptions {
  pageSize?: number;
  concurrency?: number;
  startAfter?: string;
  /** Count what would change without writing. */
  dryRun?: boolean;
  now?: () => Date;
  onProgress?: (p: RotateProgress) => void;
}

function ownerOf(path: string, group: string): { uid: string; provider: Provider } | undefined {
  const parts = path.split("/");
  if (parts.length !== 4 || parts[0] !== USERS || parts[2] !== group) return undefined;
  const [, uid, , provider] = parts;
  if (!uid || !isProvider(provider)) return undefined;
  return { uid, provider };
}

const FAILED_PRECONDITION = 9;
const NOT_FOUND = 5;

type Outcome = "reencrypted" | "current" | "vanished" | { unreadable: UnreadableDoc };

async function rotateOne(
  db: Firestore,
  vault: Vault,
  sealed: SealedGroup,
  first: QueryDocumentSnapshot,
  opts: Required<Pick<RotateOptions, "dryRun" | "now">>,
): Promise<Outcome> {
  const path = first.ref.path;
  const owner = ownerOf(path, sealed.group);
  if (!owner)
    return {
      unreadable: { path, code: "not_a_token_path", message: `not users/{uid}/${sealed.group}/{provider}` },
    };
  let snap: { exists: boolean; data(): unknown; updateTime?: Timestamp } = first;
  for (let attempt = 1; ; attempt++) {
    if (!snap.exists) return "vanished";
    let next;
    try {
      next = sealed.reseal(vault, owner.uid, owner.provider, snap.data(), opts.now());
    } catch (e) {
      const err = e as { code?: unknown; message?: unknown };
      return { unreadable: { path, code: String(err.code ?? "error"), message: String(err.message ?? e) } };
    }
    if (!next) return "current";
    if (opts.dryRun) return "reencrypted";
    try {
      await first.ref.update({ ...next }, { lastUpdateTime: snap.updateTime! });
      return "reencrypted";
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === NOT_FOUND) return "vanished";
      if (code !== FAILED_PRECONDITION || attempt >= ROTATE_DEFAULTS.maxAttemptsPerDoc) throw e;
      snap = await first.ref.get(); // changed under us (a sync refreshed it): start over with the new version
    }
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** Re-encrypts every token document not under `vault.currentKeyId`. See the file comment. */
export async function rotateTokenKeys(db: Firestore, vault: Vault, options: RotateOptions = {}): Promise<RotateResult> {
  const pageSize = options.pageSize ?? ROTATE_DEFAULTS.pageSize;
  const concurrency = options.concurrency ?? ROTATE_DEFAULTS.concurrency;
  const opts = { dryRun: options.dryRun ?? false, now: options.now ?? (() => new Date()) };
  const result: RotateResult = {
    scanned: 0,
    reencrypted: 0,
    alreadyCurrent: 0,
    unreadable: [],
    vanished: 0,
    currentKeyId: vault.currentKeyId,
    dryRun: opts.dryRun,
  };
  // startAfter names a document path: groups before its group are done, its group resumes after it.
  const resumeIndex =
    options.startAfter === undefined
      ? -1
      : SEALED_GROUPS.findIndex((g) => options.startAfter!.split("/")[2] === g.group);
  let page = 0;
  for (const [index, sealed] of SEALED_GROUPS.entries()) {
    if (index < resumeIndex) continue;
    let cursor: string | QueryDocumentSnapshot | undefined = index === resumeIndex ? options.startAfter : undefined;
    for (;;) {
      page++;
      let query = db.collectionGroup(sealed.group).orderBy(FieldPath.documentId()).limit(pageSize);
      if (cursor !== undefined) query = query.startAfter(cursor);
      const snap = await query.get();
      if (snap.empty) break;
      await forEachLimited(snap.docs, concurrency, async (doc) => {
        const outcome = await rotateOne(db, vault, sealed, doc, opts);
        result.scanned += 1;
        if (outcome === "reencrypted") result.reencrypted += 1;
        else if (outcome === "current") result.alreadyCurrent += 1;
        else if (outcome === "vanished") result.vanished += 1;
        else result.unreadable.push(outcome.unreadable);
      });
      const last = snap.docs[snap.docs.length - 1]!;
      options.onProgress?.({
        page,
        scanned: result.scanned,
        reencrypted: result.reencrypted,
        alreadyCurrent: result.alreadyCurrent,
        unreadable: result.unreadable.length,
        lastPath: last.ref.path,
      });
      if (snap.size < pageSize) break;
      cursor = last;
    }
  }
  return result;
}
