/**
 * Legacy documents: enumerate every document below the legacy collections (with all nested
 * subcollections), map each to its target under users/{uid}/{provider}/…, read both sides in
 * chunks and classify each pair.
 */
import type { DocumentData, DocumentReference, DocumentSnapshot, Firestore } from "./deps";
import type { Provider } from "../../functions/src/paths";
import { migrationPaths } from "../../functions/src/paths";
import { canonical, hashCanonical as hashOf, pathKey } from "./canonical";
import type { SourceCollection } from "./options";
import { chunks, workQueue } from "./pool";

export interface SourceDoc {
  ref: DocumentReference;
  /** The legacy collection it lives in (the summary row). */
  collection: string;
  provider: Provider;
  /** Path below the legacy collection: doc id, then subcollection/doc pairs. */
  rel: string[];
  /** Key of the source path in the checkpoint ledgers. */
  key: string;
}

/** Lists every document reference below the collections (including ones that exist only as parents). */
export async function listSourceDocs(
  db: Firestore,
  collections: SourceCollection[],
  concurrency: number,
): Promise<SourceDoc[]> {
  const out: SourceDoc[] = [];
  type Work =
    { kind: "collection"; path: string; src: SourceCollection; rel: string[] } | { kind: "doc"; doc: SourceDoc };
  await workQueue<Work>(
    collections.map((src) => ({ kind: "collection", path: src.name, src, rel: [] })),
    concurrency,
    async (work, push) => {
      if (work.kind === "collection") {
        for (const ref of await db.collection(work.path).listDocuments()) {
          const doc: SourceDoc = {
            ref,
            collection: work.src.name,
            provider: work.src.provider,
            rel: [...work.rel, ref.id],
            key: pathKey(ref.path),
          };
          out.push(doc);
          push({ kind: "doc", doc });
        }
      } else {
        for (const sub of await work.doc.ref.listCollections()) {
          push({
            kind: "collection",
            path: sub.path,
            src: { name: work.doc.collection, provider: work.doc.provider },
            rel: [...work.doc.rel, sub.id],
          });
        }
      }
    },
  );
  const order = new Map(collections.map((c, i) => [c.name, i]));
  return out.sort((a, b) => order.get(a.collection)! - order.get(b.collection)! || cmp(a.ref.path, b.ref.path));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export type DocAction = "create" | "unchanged" | "update" | "conflict" | "overwrite" | "collision";

export interface DocItem {
  source: SourceDoc;
  target: DocumentReference;
  /** Absent source (a parent that exists only through its subcollections): nothing to copy. */
  data?: DocumentData;
  sourceSnap: DocumentSnapshot;
  targetSnap?: DocumentSnapshot;
  hash: string;
  targetHash?: string;
  /** Approximate size (canonical form). */
  bytes: number;
  action: DocAction;
}

export interface DocScanOptions {
  uid: string | undefined;
  overwrite: boolean;
  /** Hashes --apply wrote before, per source key. */
  written: Map<string, Set<string>>;
  batchSize: number;
}

/** Reads the sources (and targets) chunk by chunk and classifies them. */
export interface DocChunk {
  /** References read (including parents that exist only through subcollections). */
  scanned: number;
  items: DocItem[];
}

export async function* scanDocs(db: Firestore, sources: SourceDoc[], o: DocScanOptions): AsyncGenerator<DocChunk> {
  // Two legacy documents may map to one target (ig/x and instagram/x): the first keeps it.
  const claimed = new Set<string>();
  const targets = sources.map((s) => {
    const path = migrationPaths.targetDoc(o.uid ?? "new-user", s.provider, s.rel);
    const collision = claimed.has(path);
    claimed.add(path);
    return { ref: db.doc(path), collision };
  });
  const indexed = sources.map((s, i) => ({ s, t: targets[i]! }));
  for (const chunk of chunks(indexed, o.batchSize)) {
    const sourceSnaps = await db.getAll(...chunk.map((c) => c.s.ref));
    const targetSnaps = o.uid ? await db.getAll(...chunk.map((c) => c.t.ref)) : [];
    const items: DocItem[] = [];
    chunk.forEach((c, i) => {
      const sourceSnap = sourceSnaps[i]!;
      if (!sourceSnap.exists) return;
      const data = sourceSnap.data()!;
      const text = canonical(data);
      const targetSnap = targetSnaps[i];
      const item: DocItem = {
        source: c.s,
        target: c.t.ref,
        data,
        sourceSnap,
        targetSnap,
        hash: hashOf(text),
        bytes: Buffer.byteLength(text),
        action: "create",
      };
      if (c.t.collision) item.action = "collision";
      else if (targetSnap?.exists) {
        item.targetHash = hashOf(canonical(targetSnap.data()));
        if (item.targetHash === item.hash) item.action = "unchanged";
        else if (o.written.get(c.s.key)?.has(item.targetHash)) item.action = "update";
        else item.action = o.overwrite ? "overwrite" : "conflict";
      }
      items.push(item);
    });
    yield { scanned: chunk.length, items };
  }
}
