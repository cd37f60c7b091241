/**
 * The migration's checkpoint, in Firestore (so any machine can resume, and so it is written in the
 * same atomic batch as the data it describes):
 *
 * - `ops/migrate-{uid}`: the sources, the last apply (phase, counts), the last verify (passed?,
 *   its run id, a key of the sources it checked), the delete-source progress.
 * - `ops/migrate-{uid}/written/{page}`: for every document batch --apply commits, a page in the
 *   same batch mapping each source path key → content hash written. A later run tells "the source
 *   changed since we copied it" (target still holds what we wrote → update) from "someone else
 *   wrote the target" (conflict). Objects carry the same facts in their own custom metadata.
 * - `ops/migrate-{uid}/verified/{page}`: what a verify found equal (path key → hash);
 *   --delete-source deletes only sources whose current hash is recorded there.
 */
import { type Firestore, Timestamp, type WriteBatch } from "./deps";
import { migrationPaths } from "../../functions/src/paths";

export type LedgerKind = "written" | "verified";

export interface CheckpointDoc {
  uid: string;
  project: string;
  sourcesKey: string;
  sources: unknown;
  apply?: { runId: string; phase: string; startedAt: Timestamp; finishedAt?: Timestamp | null; counts?: unknown };
  verify?: { runId: string; at: Timestamp; passed: boolean; sourcesKey: string; counts?: unknown };
  deleteSource?: { runId: string; startedAt: Timestamp; finishedAt?: Timestamp | null; counts?: unknown };
  updatedAt: Timestamp;
}

export class Checkpoint {
  constructor(
    private readonly db: Firestore,
    readonly uid: string,
  ) {}

  private ref() {
    return this.db.doc(migrationPaths.checkpoint(this.uid));
  }

  async read(): Promise<CheckpointDoc | undefined> {
    const snap = await this.ref().get();
    return snap.exists ? (snap.data() as CheckpointDoc) : undefined;
  }

  async update(patch: Partial<CheckpointDoc>): Promise<void> {
    await this.ref().set({ ...patch, uid: this.uid, updatedAt: Timestamp.now() }, { merge: true });
  }

  /** Queues one ledger page into `batch`. */
  addPage(batch: WriteBatch, kind: LedgerKind, pageId: string, runId: string, entries: Record<string, string>): void {
    batch.set(this.db.doc(migrationPaths.ledgerPage(this.uid, kind, pageId)), { runId, at: Timestamp.now(), entries });
  }

  /** Every hash recorded per key (all runs, or one run). */
  async ledger(kind: LedgerKind, runId?: string): Promise<Map<string, Set<string>>> {
    const col = this.db.collection(migrationPaths.ledger(this.uid, kind));
    const snaps = await (runId ? col.where("runId", "==", runId) : col).get();
    const out = new Map<string, Set<string>>();
    for (const doc of snaps.docs) {
      const entries = (doc.get("entries") ?? {}) as Record<string, string>;
      for (const [k, h] of Object.entries(entries)) {
        let set = out.get(k);
        if (!set) out.set(k, (set = new Set()));
        set.add(h);
      }
    }
    return out;
  }
}

/** A run id that sorts by time. */
export function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:.]/g, "")}-${Math.random().toString(36).slice(2, 8)}`;
}
