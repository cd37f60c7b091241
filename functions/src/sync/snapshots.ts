/**
 * Snapshot documents: `users/{uid}/{provider}/last-response_{name}`, written only when their
 * content changed (sha-256 of the canonical JSON), and split into parts when too large for one
 * Firestore document (1 MiB) — never truncated.
 *
 * Small snapshot:  { storage: "inline", hash, bytes, updatedAt, data: <the JSON as Firestore map> }
 * Large snapshot:  { storage: "parts", hash, bytes, updatedAt, generation, parts: n }
 *                  + n part documents `…/parts/{generation}-{00000}` = { generation, index, bytes: Bytes }
 *
 * A large snapshot is written generation by generation: the new parts first, then the snapshot
 * document switches to them, then the old parts are deleted. A write that stops halfway leaves
 * the last good snapshot whole. `readSnapshot` reassembles the parts and checks the hash.
 *
 * A sync writes fenced by its lease (lease.ts): each of those steps is a transaction that reads
 * the connection first and writes nothing once the run no longer holds the lease, and a deletion
 * of parts reads the snapshot document in the same transaction and never deletes the generation
 * it points at. So two runs that overlap (the first one's lease expired, or a disconnect or
 * reconnect came between) leave one consistent snapshot: the document always points at parts
 * that exist and match its hash. An overtaken run may leave parts no document points at; the next
 * write of that snapshot deletes them.
 *
 * Known hashes (SnapshotWriteOptions.known): the connection document keeps the hash of every
 * snapshot its last successful run left (`snapshotHashes`, written with the outcome, runSync.ts),
 * so an unchanged sync compares against the document it already read and reads no snapshot
 * document. A name whose hash is not known, or differs, is read and written as above.
 */
import { createHash } from "node:crypto";
import { type DocumentReference, type Firestore, Timestamp, type Transaction } from "firebase-admin/firestore";
import { z } from "zod";
import type { Provider } from "../paths";
import { firestorePaths } from "../paths";
import { type LeaseFence, holdsLease } from "./lease";

/** Firestore's limit is 1,048,576 bytes per document; stay well below it. */
export const INLINE_LIMIT_BYTES = 900 * 1024;
/** Raw JSON bytes per part document (each part also has a few small fields). */
export const PART_BYTES = 900 * 1024;
/** Parts per write batch: keeps each commit request under Firestore's 10 MiB request limit. */
const PARTS_PER_BATCH = 8;
/** Firestore allows maps nested 20 deep; keep a margin for the `data` field itself. */
const MAX_INLINE_DEPTH = 18;

/** JSON with object keys sorted at every level, so equal content always hashes equally. */
export function canonicalJson(value: unknown): string {
  const json = JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const src = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(src).sort()) out[k] = src[k];
      return out;
    }
    return v;
  });
  // JSON.stringify(undefined) is undefined: store it as null.
  return json ?? "null";
}

export function contentHash(json: string): string {
  return createHash("sha256").update(json).digest("hex");
}

/** A snapshot's canonical JSON and its content hash. */
function encode(value: unknown): { json: string; hash: string } {
  const json = canonicalJson(value);
  return { json, hash: contentHash(json) };
}

/**
 * Firestore's storage size of a value (strings: UTF-8 bytes + 1; numbers 8; booleans and null 1;
 * maps: field names + 1 each plus values). Infinity when the value cannot be stored inline at all
 * (nested arrays, reserved or empty field names, too deep), which forces the parts format.
 */
export function firestoreSize(value: unknown, depth = 0): number {
  if (value === null || typeof value === "boolean") return 1;
  if (typeof value === "number") return 8;
  if (typeof value === "string") return Buffer.byteLength(value) + 1;
  if (depth > MAX_INLINE_DEPTH) return Infinity;
  if (Array.isArray(value)) {
    let n = 0;
    for (const v of value) {
      if (Array.isArray(v)) return Infinity;
      n += firestoreSize(v, depth + 1);
    }
    return n;
  }
  if (typeof value === "object") {
    let n = 0;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === "" || /^__.*__$/.test(k)) return Infinity;
      n += Buffer.byteLength(k) + 1 + firestoreSize(v, depth + 1);
    }
    return n;
  }
  return Infinity;
}

const SnapshotHead = z.object({
  storage: z.enum(["inline", "parts"]),
  hash: z.string(),
  bytes: z.number().int().nonnegative(),
  updatedAt: z.instanceof(Timestamp),
  data: z.unknown().optional(),
  generation: z.string().optional(),
  parts: z.number().int().nonnegative().optional(),
});

const SnapshotPart = z.object({
  generation: z.string(),
  index: z.number().int().nonnegative(),
  bytes: z.instanceof(Uint8Array),
});

export interface SnapshotWriteResult {
  written: string[];
  unchanged: string[];
  /** Names stored as parts, with their part counts. */
  split: Record<string, number>;
  /** The run lost its lease (the fence): it stopped there, and the remaining snapshots were not written. */
  superseded?: boolean;
  /** The content hash of every snapshot written or found unchanged (what the documents now hold). */
  hashes: Record<string, string>;
}

/** The steps of a snapshot write, in order (SnapshotWriteOptions.beforeWrite). */
export type SnapshotWritePoint = "parts" | "head" | "delete_parts";

export interface SnapshotWriteOptions {
  /** The run whose lease every write is fenced by (absent: unfenced, e.g. fixtures and tools). */
  fence?: LeaseFence;
  /** Tests only: awaited before each write step (to interleave another run there). */
  beforeWrite?: (point: SnapshotWritePoint, name: string) => Promise<void>;
  /**
   * Hashes the stored documents are known to hold (the connection's `snapshotHashes`): a snapshot
   * whose content hashes to its known hash is unchanged without reading its document.
   */
  known?: Readonly<Record<string, string>>;
}

/** Writes each snapshot whose content changed; leaves the others untouched. */
export async function writeSnapshots(
  db: Firestore,
  uid: string,
  provider: Provider,
  snapshots: Record<string, unknown>,
  now: Date,
  opts: SnapshotWriteOptions = {},
): Promise<SnapshotWriteResult> {
  const result: SnapshotWriteResult = { written: [], unchanged: [], split: {}, hashes: {} };
  for (const [name, value] of Object.entries(snapshots)) {
    const { json, hash } = encode(value);
    const outcome =
      opts.known?.[name] === hash
        ? "unchanged"
        : await writeSnapshot(db, uid, provider, name, value, now, opts, { json, hash });
    if (outcome === "superseded") return { ...result, superseded: true };
    result.hashes[name] = hash;
    if (outcome === "unchanged") result.unchanged.push(name);
    else {
      result.written.push(name);
      if (outcome > 0) result.split[name] = outcome;
    }
  }
  return result;
}

/**
 * "unchanged", the number of parts written (0 = stored inline), or "superseded" when the fence's
 * run lost its lease before the snapshot document was written (the last good snapshot stays; a
 * loss after it only leaves old parts for the next write to delete).
 */
export async function writeSnapshot(
  db: Firestore,
  uid: string,
  provider: Provider,
  name: string,
  value: unknown,
  now: Date,
  opts: SnapshotWriteOptions = {},
  encoded: { json: string; hash: string } = encode(value),
): Promise<"unchanged" | "superseded" | number> {
  const head = db.doc(firestorePaths.snapshot(uid, provider, name));
  const { json, hash } = encoded;
  const bytes = Buffer.byteLength(json);
  const current = await head.get();
  const parsedCurrent = current.exists ? SnapshotHead.safeParse(current.data()) : undefined;
  if (parsedCurrent?.success && parsedCurrent.data.hash === hash) return "unchanged";

  const data: unknown = JSON.parse(json);
  const updatedAt = Timestamp.fromDate(now);
  const step = async (point: SnapshotWritePoint, write: (tx: Transaction) => Promise<void> | void) => {
    await opts.beforeWrite?.(point, name);
    return fenced(db, opts.fence, write);
  };
  if (firestoreSize(data) + 256 <= INLINE_LIMIT_BYTES) {
    if (!(await step("head", (tx) => void tx.set(head, { storage: "inline", hash, bytes, updatedAt, data })))) {
      return "superseded";
    }
    if (!(parsedCurrent?.success && parsedCurrent.data.storage === "inline")) {
      await deleteStaleParts(db, uid, provider, name, opts);
    }
    return 0;
  }

  const generation = hash.slice(0, 16);
  const buffer = Buffer.from(json, "utf8");
  const count = Math.ceil(buffer.length / PART_BYTES);
  for (let first = 0; first < count; first += PARTS_PER_BATCH) {
    const written = await step("parts", (tx) => {
      for (let i = first; i < Math.min(count, first + PARTS_PER_BATCH); i++) {
        const ref = db.doc(firestorePaths.snapshotGenerationPart(uid, provider, name, generation, i));
        tx.set(ref, { generation, index: i, bytes: buffer.subarray(i * PART_BYTES, (i + 1) * PART_BYTES) });
      }
    });
    if (!written) return "superseded";
  }
  const switched = await step(
    "head",
    (tx) => void tx.set(head, { storage: "parts", hash, bytes, updatedAt, generation, parts: count }),
  );
  if (!switched) return "superseded";
  await deleteStaleParts(db, uid, provider, name, opts);
  return count;
}

/**
 * Runs `write` in a transaction that first reads the connection: it writes only while the fence's
 * run holds the lease (no fence: always). Says whether it wrote.
 */
async function fenced(
  db: Firestore,
  fence: LeaseFence | undefined,
  write: (tx: Transaction) => Promise<void> | void,
): Promise<boolean> {
  return db.runTransaction(async (tx) => {
    if (fence && !(await holdsLease(db, fence, tx))) return false;
    await write(tx);
    return true;
  });
}

/**
 * Deletes the snapshot's parts of every generation but the one its document points at, read in
 * the same transaction as the deletes (fenced too): listed before, so a part written after the
 * listing is left for the next write.
 */
async function deleteStaleParts(
  db: Firestore,
  uid: string,
  provider: Provider,
  name: string,
  opts: SnapshotWriteOptions,
): Promise<void> {
  await opts.beforeWrite?.("delete_parts", name);
  const head = db.doc(firestorePaths.snapshot(uid, provider, name));
  const refs = await db.collection(firestorePaths.snapshotParts(uid, provider, name)).listDocuments();
  for (let i = 0; i < refs.length; i += 400) {
    const chunk: DocumentReference[] = refs.slice(i, i + 400);
    const done = await fenced(db, opts.fence, async (tx) => {
      const current = SnapshotHead.safeParse((await tx.get(head)).data());
      const keep = current.success && current.data.storage === "parts" ? current.data.generation : undefined;
      for (const r of chunk) if (keep === undefined || !r.id.startsWith(`${keep}-`)) tx.delete(r);
    });
    if (!done) return;
  }
}

/** Thrown when a stored snapshot cannot be read back whole (missing parts, hash mismatch). */
export class SnapshotReadError extends Error {}

/**
 * Reads a snapshot back whole (reassembling parts), or null when there is none. Retries a few
 * times when a concurrent sync replaced the parts between the two reads.
 */
export async function readSnapshot(db: Firestore, uid: string, provider: Provider, name: string): Promise<unknown> {
  const headRef = db.doc(firestorePaths.snapshot(uid, provider, name));
  let lastProblem = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const snap = await headRef.get();
    if (!snap.exists) return null;
    const head = SnapshotHead.safeParse(snap.data());
    if (!head.success) throw new SnapshotReadError(`${headRef.path} is not a snapshot document.`);
    if (head.data.storage === "inline") return head.data.data ?? null;
    const { generation, parts } = head.data;
    if (!generation || parts === undefined) throw new SnapshotReadError(`${headRef.path} has no parts list.`);
    const refs = Array.from({ length: parts }, (_, i) =>
      db.doc(firestorePaths.snapshotGenerationPart(uid, provider, name, generation, i)),
    );
    const docs = refs.length > 0 ? await db.getAll(...refs) : [];
    const chunks: Buffer[] = [];
    let ok = true;
    for (const d of docs) {
      const part = SnapshotPart.safeParse(d.data());
      if (!d.exists || !part.success || part.data.generation !== generation) {
        ok = false;
        lastProblem = `part ${d.id} is missing or belongs to another generation`;
        break;
      }
      chunks.push(Buffer.from(part.data.bytes));
    }
    if (!ok) continue;
    const json = Buffer.concat(chunks).toString("utf8");
    if (contentHash(json) !== head.data.hash) {
      lastProblem = "the reassembled parts do not match the snapshot's hash";
      continue;
    }
    return JSON.parse(json) as unknown;
  }
  throw new SnapshotReadError(`${headRef.path} could not be read whole: ${lastProblem}.`);
}
