/**
 * The lease on a connection: a sync holds `lease = { holder, expiresAt }` on the connection
 * document while it works, taken in a transaction. A second delivery of the same task, or a
 * manual sync overlapping a scheduled one, finds the lease and exits; a lease left by a crashed
 * run expires after LEASE_SECONDS and can then be taken.
 *
 * The lease also fences a run's writes: every write of a run (snapshot parts and heads, deletion
 * of old parts, the play log, the outcome) is made in a transaction that reads the connection and
 * writes only while `lease.holder` is still the run's id (a fresh id per acquisition). A new
 * lease, a disconnect and a reconnect all change or clear it, so a run that was overtaken — its
 * lease expired and another run took it, or the person disconnected or reconnected meanwhile —
 * writes nothing more.
 */
import { FieldValue, type Firestore, Timestamp, type Transaction } from "firebase-admin/firestore";
import { ConnectionDoc } from "../connections/model";
import { type Provider, firestorePaths } from "../paths";
import { isSyncable } from "./policy";
import type { SyncReason } from "./ports";

export type LeaseResult =
  | { kind: "acquired"; connection: ConnectionDoc }
  | { kind: "missing" }
  | { kind: "invalid" }
  | { kind: "not_syncable"; status: string }
  | { kind: "leased"; until: Date }
  | { kind: "not_due"; nextSyncAt: Date }
  | { kind: "rate_limited"; until: Date };

export async function acquireLease(
  db: Firestore,
  args: {
    uid: string;
    provider: Provider;
    holder: string;
    now: Date;
    leaseSeconds: number;
    reason: SyncReason;
    /**
     * The payload's requestedAt: for a scheduled task the moment the fan-out found the connection
     * due, for a connect task the moment the callback saved it due.
     */
    requestedAt: number;
  },
): Promise<LeaseResult> {
  const ref = db.doc(firestorePaths.connection(args.uid, args.provider));
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (!snap.exists) return { kind: "missing" } as const;
    const parsed = ConnectionDoc.safeParse(snap.data());
    if (!parsed.success) return { kind: "invalid" } as const;
    const c = parsed.data;
    const now = args.now.getTime();
    if (!isSyncable(c.status)) return { kind: "not_syncable", status: c.status } as const;
    if (c.lease && c.lease.expiresAt.toMillis() > now)
      return { kind: "leased", until: c.lease.expiresAt.toDate() } as const;
    // A scheduled (or connect) task is due when the connection is still as due as it was when the
    // task was made: any sync since (this task delivered twice, a manual sync, the fan-out's task
    // for the same connection) moved nextSyncAt past requestedAt.
    // Compared with the fan-out's own clock reading, not this instance's `now`, so a run that
    // finishes seconds before the next slot does not make a duplicate of its task look due again.
    if (args.reason !== "manual" && c.nextSyncAt.toMillis() > args.requestedAt) {
      return { kind: "not_due", nextSyncAt: c.nextSyncAt.toDate() } as const;
    }
    if (args.reason === "manual" && c.rateLimitedUntil && c.rateLimitedUntil.toMillis() > now) {
      return { kind: "rate_limited", until: c.rateLimitedUntil.toDate() } as const;
    }
    const lease = { holder: args.holder, expiresAt: Timestamp.fromMillis(now + args.leaseSeconds * 1000) };
    tx.update(ref, { lease, pendingTask: FieldValue.delete() });
    return { kind: "acquired", connection: { ...c, lease } } as const;
  });
}

/** Which run's lease a write is fenced by. */
export interface LeaseFence {
  uid: string;
  provider: Provider;
  runId: string;
}

/** True when the connection document's data shows `runId` holding the lease. */
export function leaseHeldBy(data: unknown, runId: string): boolean {
  const lease = (data as { lease?: { holder?: unknown } | null } | undefined)?.lease;
  return typeof lease?.holder === "string" && lease.holder === runId;
}

/**
 * Whether the fence's run still holds its lease: read in `tx` (then the transaction's writes are
 * conditional on it), or on its own (a check before work that cannot be transactional, e.g.
 * Storage writes).
 */
export async function holdsLease(db: Firestore, fence: LeaseFence, tx?: Transaction): Promise<boolean> {
  const ref = db.doc(firestorePaths.connection(fence.uid, fence.provider));
  const snap = tx ? await tx.get(ref) : await ref.get();
  return snap.exists && leaseHeldBy(snap.data(), fence.runId);
}
