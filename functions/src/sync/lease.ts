/**
 * The lease on a connection: a sync holds `lease = { holder, expiresAt, taskId? }` on the
 * connection document while it works, taken in a transaction. Another task (a manual sync
 * overlapping a scheduled one, the next slot's task) finds the lease and exits; a lease left by a
 * crashed run expires after LEASE_SECONDS and can then be taken.
 *
 * Takeover by a redelivery: the lease records the Cloud Tasks task id of the run that took it. A
 * delivery of the SAME task id may take a live lease over. Cloud Tasks redelivers a task only
 * after the earlier attempt failed or passed its dispatch deadline (the function timeout), so the
 * attempt that holds the lease is dead (its worker was killed, or it timed out): without the
 * takeover its retry would exit as `leased` and the sync would be lost until the lease expires
 * (LEASE_SECONDS is longer than the timeout plus the retry delay by design). Should the earlier
 * attempt still be alive somehow (a duplicate delivery), the new holder id fences its writes, so
 * only one run's writes land. A run without a task id (npm run sync, tests) never takes over.
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
  /**
   * `tookOverFrom`: the run whose live lease this redelivery of its task took over. `inherited`:
   * a lease was still recorded (taken over, or expired): the run before did not record its outcome.
   */
  | { kind: "acquired"; connection: ConnectionDoc; tookOverFrom?: string; inherited: boolean }
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
    /** The Cloud Tasks task id of this delivery: a live lease taken by the same task is taken over. */
    taskId?: string;
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
    // A task that exits here for good while the connection records it as its pending task clears
    // the record: otherwise the fan-out would skip the connection as pending (a paused connection
    // resumed, a sync since) until PENDING_TASK_EXPIRY_MINUTES. Another task's record is left.
    const exit = <R extends LeaseResult>(result: R): R => {
      if (args.taskId !== undefined && c.pendingTask?.id === args.taskId) {
        tx.update(ref, { pendingTask: FieldValue.delete() });
      }
      return result;
    };
    if (!isSyncable(c.status)) return exit({ kind: "not_syncable", status: c.status } as const);
    const live = c.lease !== null && c.lease.expiresAt.toMillis() > now;
    const redelivery = live && args.taskId !== undefined && c.lease?.taskId === args.taskId;
    if (live && !redelivery) return exit({ kind: "leased", until: c.lease!.expiresAt.toDate() } as const);
    // A scheduled (or connect) task is due when the connection is still as due as it was when the
    // task was made: any sync since (this task delivered twice, a manual sync, the fan-out's task
    // for the same connection) moved nextSyncAt past requestedAt.
    // Compared with the fan-out's own clock reading, not this instance's `now`, so a run that
    // finishes seconds before the next slot does not make a duplicate of its task look due again.
    if (args.reason !== "manual" && c.nextSyncAt.toMillis() > args.requestedAt) {
      return exit({ kind: "not_due", nextSyncAt: c.nextSyncAt.toDate() } as const);
    }
    if (args.reason === "manual" && c.rateLimitedUntil && c.rateLimitedUntil.toMillis() > now) {
      return exit({ kind: "rate_limited", until: c.rateLimitedUntil.toDate() } as const);
    }
    const lease = {
      holder: args.holder,
      expiresAt: Timestamp.fromMillis(now + args.leaseSeconds * 1000),
      ...(args.taskId !== undefined ? { taskId: args.taskId } : {}),
    };
    tx.update(ref, { lease, pendingTask: FieldValue.delete() });
    return {
      kind: "acquired",
      connection: { ...c, lease },
      inherited: c.lease !== null,
      ...(redelivery ? { tookOverFrom: c.lease!.holder } : {}),
    } as const;
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
