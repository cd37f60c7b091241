/**
 * Counters for what a sync costs, measured where the calls happen (not estimated):
 *
 * - Firestore: every RPC of the admin SDK goes through the Firestore class's `request` (unary:
 *   commit, batchWrite, listDocuments, …) or `requestStream` (batchGetDocuments, runQuery, …).
 *   Wrapping those two counts billed operations the way Firestore bills them: one write per
 *   written document in a committed commit/batchWrite, one delete per deleted document, one read
 *   per document returned by a get or a query (and one read for a query that returns nothing),
 *   one read per document listed by listDocuments (at least one).
 * - Storage: a counting BlobStore around the sync's port (list = one Class A operation per page
 *   of 1,000, save = one Class A operation + its bytes, delete = free).
 * - Memory: process.resourceUsage().maxRSS (the kernel's peak) plus heap samples.
 */
import type { Readable } from "node:stream";
import type { db } from "../../functions/src/admin";
import type { BlobStore } from "../../functions/src/sync/ports";

export interface FirestoreCounts {
  reads: number;
  writes: number;
  deletes: number;
  /** RPCs (queries, gets, commits, listings), for context. */
  rpcs: number;
}

export const firestoreCounts: FirestoreCounts = { reads: 0, writes: 0, deletes: 0, rpcs: 0 };

export function snapshotFirestore(): FirestoreCounts {
  return { ...firestoreCounts };
}

/** `after − before`, counter by counter (Firestore, Storage and provider-request counts alike). */
export function diffCounts<T extends { [K in keyof T]: number }>(before: T, after: T): T {
  const out = { ...after };
  for (const k of Object.keys(after) as (keyof T)[]) out[k] = (after[k] - before[k]) as T[keyof T];
  return out;
}

export function diffFirestore(before: FirestoreCounts, after: FirestoreCounts = firestoreCounts): FirestoreCounts {
  return diffCounts(before, after);
}

interface Write {
  delete?: unknown;
  update?: { name?: unknown };
}

/**
 * Commits (commit / batchWrite RPCs that wrote something) and written or deleted documents by
 * the id of the collection they are in ("plays", "play_stats", "connections", …).
 */
export const commitCounts: { commits: number; writesByCollection: Record<string, number> } = {
  commits: 0,
  writesByCollection: {},
};

export function snapshotCommits(): { commits: number; writesByCollection: Record<string, number> } {
  return { commits: commitCounts.commits, writesByCollection: { ...commitCounts.writesByCollection } };
}

/** Documents read by a get (found or missing) by the id of their collection, as writesByCollection. */
export const readsByCollection: Record<string, number> = {};

/** `after − before` of the reads by collection (only the collections that changed). */
export function diffReadsByCollection(
  before: Record<string, number>,
  after: Record<string, number> = readsByCollection,
): Record<string, number> {
  const by: Record<string, number> = {};
  for (const [k, n] of Object.entries(after)) {
    const d = n - (before[k] ?? 0);
    if (d !== 0) by[k] = d;
  }
  return by;
}

/** `after − before` of snapshotCommits(). */
export function diffCommits(
  before: ReturnType<typeof snapshotCommits>,
  after: ReturnType<typeof snapshotCommits> = snapshotCommits(),
): ReturnType<typeof snapshotCommits> {
  const by: Record<string, number> = {};
  for (const [k, n] of Object.entries(after.writesByCollection)) {
    const d = n - (before.writesByCollection[k] ?? 0);
    if (d !== 0) by[k] = d;
  }
  return { commits: after.commits - before.commits, writesByCollection: by };
}

/** "projects/p/databases/(default)/documents/users/u/plays/x" → "plays". */
function collectionOf(name: string): string {
  const parts = name.split("/documents/")[1]?.split("/") ?? [];
  return parts.length >= 2 ? parts[parts.length - 2]! : "?";
}

type RequestFn = (method: string, request: { writes?: Write[] }, tag: string, retry?: unknown) => Promise<unknown>;
type StreamFn = (method: string, bidi: boolean, request: unknown, tag: string) => Promise<Readable>;

let installed = false;

export function instrumentFirestore(instance: ReturnType<typeof db>): void {
  if (installed) return;
  installed = true;
  const proto = Object.getPrototypeOf(instance) as { request: RequestFn; requestStream: StreamFn };
  const request = proto.request;
  proto.request = async function (this: unknown, method, req, tag, retry) {
    const result = await request.call(this, method, req, tag, retry);
    firestoreCounts.rpcs++;
    if (method === "commit" || method === "batchWrite") {
      if ((req.writes ?? []).length > 0) commitCounts.commits++;
      for (const w of req.writes ?? []) {
        if (w.delete) firestoreCounts.deletes++;
        else firestoreCounts.writes++;
        const name = typeof w.delete === "string" ? w.delete : w.update?.name;
        const collection = typeof name === "string" ? collectionOf(name) : "?";
        commitCounts.writesByCollection[collection] = (commitCounts.writesByCollection[collection] ?? 0) + 1;
      }
    } else if (method === "listDocuments") {
      firestoreCounts.reads += Math.max(1, Array.isArray(result) ? result.length : 0);
    }
    return result;
  };
  const requestStream = proto.requestStream;
  proto.requestStream = async function (this: unknown, method, bidi, req, tag) {
    const stream = await requestStream.call(this, method, bidi, req, tag);
    firestoreCounts.rpcs++;
    if (method !== "batchGetDocuments" && method !== "runQuery") return stream;
    let docs = 0;
    const emit = stream.emit;
    // Count responses as they pass, without changing the stream's mode (it starts paused).
    stream.emit = function (this: Readable, event: string | symbol, ...args: unknown[]) {
      if (event === "data") {
        const r = args[0] as { found?: { name?: unknown }; missing?: unknown; document?: unknown };
        if (r.found || r.missing || r.document) {
          docs++;
          firestoreCounts.reads++;
          const name = typeof r.missing === "string" ? r.missing : r.found?.name;
          if (typeof name === "string") {
            const collection = collectionOf(name);
            readsByCollection[collection] = (readsByCollection[collection] ?? 0) + 1;
          }
        }
      } else if (event === "end" && docs === 0 && method === "runQuery") {
        firestoreCounts.reads++; // a query that returns nothing is billed one read
      }
      return emit.call(this, event, ...args);
    } as Readable["emit"];
    return stream;
  };
}

export interface StorageCounts {
  classA: number;
  saves: number;
  bytesWritten: number;
  deletes: number;
  lists: number;
}

export function newStorageCounts(): StorageCounts {
  return { classA: 0, saves: 0, bytesWritten: 0, deletes: 0, lists: 0 };
}

/** The sync's BlobStore port with counters around it. */
export function countingBlobStore(inner: BlobStore, counts: StorageCounts): BlobStore {
  return {
    async list(prefix) {
      const out = await inner.list(prefix);
      counts.lists++;
      counts.classA += Math.max(1, Math.ceil(out.length / 1000)); // bucketBlobStore pages by 1,000
      return out;
    },
    async save(path, bytes, opts) {
      await inner.save(path, bytes, opts);
      counts.saves++;
      counts.classA++;
      counts.bytesWritten += bytes.length;
    },
    async delete(path) {
      await inner.delete(path);
      counts.deletes++;
    },
  };
}

/** Samples heap and RSS every `everyMs` while running; peakRss also takes the kernel's maxRSS. */
export function memorySampler(everyMs = 20): { stop(): { peakRssMb: number; peakHeapMb: number; samples: number } } {
  let peakHeap = 0;
  let peakRss = 0;
  let samples = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
    samples++;
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const maxRss = process.resourceUsage().maxRSS * 1024;
      return { peakRssMb: mb(Math.max(peakRss, maxRss)), peakHeapMb: mb(peakHeap), samples };
    },
  };
}

/**
 * The heap that is really held (not garbage waiting for V8): a full GC (`gc`, from node's
 * --expose-gc) every `everyMs` (0 = never) and once at stop, with heapUsed read right after each.
 * Without `gc` it reports nulls.
 */
export function retainedHeapSampler(
  gc: (() => void) | undefined,
  everyMs: number,
): { stop(): { retainedHeapMb: number | null; heapAfterGcMb: number | null; forcedGcs: number } } {
  let peak = 0;
  let forced = 0;
  const collect = () => {
    gc!();
    forced++;
    return process.memoryUsage().heapUsed;
  };
  const timer = gc && everyMs > 0 ? setInterval(() => (peak = Math.max(peak, collect())), everyMs) : undefined;
  return {
    stop() {
      if (timer) clearInterval(timer);
      if (!gc) return { retainedHeapMb: null, heapAfterGcMb: null, forcedGcs: 0 };
      const end = collect();
      return { retainedHeapMb: timer ? mb(Math.max(peak, end)) : null, heapAfterGcMb: mb(end), forcedGcs: forced };
    },
  };
}

export const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
