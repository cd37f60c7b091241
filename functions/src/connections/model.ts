/**
 * The connection document `users/{uid}/connections/{provider}`: one per user × provider.
 * Created by the OAuth callback (or the migration / `npm run connect`), updated by the sync,
 * read by the fan-out (collection-group query on status + nextSyncAt) and by the owner's app.
 */
import { Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { ConnectionHistory, HistoryGap } from "../history/model";
import { PROVIDERS } from "../paths";

export const CONNECTION_STATUSES = ["connected", "needs_reauth", "error", "paused", "disconnected"] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

const timestamp = z.instanceof(Timestamp);

/**
 * What the image mirror (sync/mirror.ts) believes is in the connection's mirror folder, so a sync
 * whose items did not change makes no Cloud Storage call: `objects` maps each object's name inside
 * the folder (`{itemId}.{ext}`) to a digest of the MirrorItem version it was made from;
 * `reconciledAt` is when the folder was last listed and made to match (MIRROR_RECONCILE_HOURS).
 */
export const MirrorManifest = z.object({
  objects: z.record(z.string(), z.string()),
  reconciledAt: timestamp,
});
export type MirrorManifest = z.infer<typeof MirrorManifest>;

export const ConnectionDoc = z.object({
  uid: z.string().min(1),
  provider: z.enum(PROVIDERS),
  status: z.enum(CONNECTION_STATUSES),
  providerAccountId: z.string().nullable(),
  providerAccountName: z.string().nullable(),
  scopes: z.array(z.string()),
  connectedAt: timestamp,
  updatedAt: timestamp,
  /** The fan-out picks connections with status "connected" and nextSyncAt <= now. */
  nextSyncAt: timestamp,
  lastSyncAt: timestamp.nullable(),
  lastSuccessAt: timestamp.nullable(),
  lastManualSyncAt: timestamp.nullable(),
  lastError: z.object({ code: z.string(), message: z.string(), at: timestamp }).nullable(),
  consecutiveFailures: z.number().int().nonnegative(),
  /** Set while the provider asked us to wait (429 with a long Retry-After). */
  rateLimitedUntil: timestamp.nullable(),
  /** Human-readable reason shown when status is needs_reauth. */
  reauthReason: z.string().nullable(),
  /**
   * Held by a running sync; expires so a crashed run does not block the connection forever.
   * `taskId`: the Cloud Tasks task of the run, whose redelivery may take the lease over (sync/lease.ts).
   */
  lease: z.object({ holder: z.string(), expiresAt: timestamp, taskId: z.string().optional() }).nullable(),
  /**
   * The scheduled task the fan-out enqueued last and that has not started yet (sync/backlog.ts):
   * while it is younger than PENDING_TASK_EXPIRY_MINUTES the fan-out enqueues no other. Taking
   * the lease clears it. A malformed value reads as absent.
   */
  pendingTask: z.object({ id: z.string(), slot: timestamp, enqueuedAt: timestamp }).optional().catch(undefined),
  /** Item counts of the last successful sync (playlists, media, …). */
  counts: z.record(z.string(), z.number()),
  /**
   * When a disconnect with deleteData erased this provider's data. A sync that was running then
   * (started before this time) erases what it wrote once more when it finishes.
   */
  dataErasedAt: timestamp.nullable().optional(),
  /**
   * When the provider's data was deleted for being older than its catalog `dataPolicy.maxAgeDays`
   * since the last successful sync (sync/retention.ts).
   */
  dataExpiredAt: timestamp.nullable().optional(),
  /**
   * Set while `paused` by the profile's syncEnabled switch: the status it had before, restored when
   * sync is switched on again (account/syncSetting.ts), so a pause never erases an error backoff.
   */
  pausedFrom: z.enum(["connected", "error"]).optional(),
  /**
   * The person's own OAuth app the connection was made through (apps/store.ts): every call of
   * this connection is made as that app. Absent or null: the operator's app.
   */
  app: z
    .object({ clientId: z.string().min(1) })
    .nullable()
    .optional(),
  /**
   * The listening history of a provider with a play log (history/playLog.ts keeps it), or just
   * the last daily point's day for one without. Absent before the first. A malformed value reads
   * as absent, so it can never stop the sync.
   */
  history: ConnectionHistory.optional().catch(undefined),
  /** The last detected gap in the play log (more plays between two syncs than the provider keeps). */
  lastHistoryGap: HistoryGap.nullable().optional().catch(undefined),
  /** Gaps detected so far. */
  historyGaps: z.number().int().nonnegative().optional().catch(undefined),
  /**
   * The image mirror's manifest (MirrorManifest). Absent, null (erased, or too many objects to
   * keep) or malformed: the next sync lists the folder and rebuilds it, so it never stops a sync.
   */
  mirror: MirrorManifest.nullable().optional().catch(undefined),
  /**
   * The content hash of each snapshot document as the last successful sync left it
   * (sync/snapshots.ts `known`): an unchanged sync compares against these instead of reading the
   * documents. Null after anything else that may have changed them (a failed or overtaken run,
   * a disconnect, a reconnect, an erase); absent, null or malformed: the next sync reads them.
   */
  snapshotHashes: z.record(z.string(), z.string()).nullable().optional().catch(undefined),
  /**
   * Quiet runs since the last `sync_runs` row: scheduled runs that succeeded at the first attempt
   * and changed nothing. Each is counted here instead of writing a row of its own (unless
   * SYNC_RUNS_UNCHANGED is on); the next row records the count as `quietRunsBefore` and resets it.
   */
  quietRuns: z.number().int().nonnegative().optional().catch(undefined),
});
export type ConnectionDoc = z.infer<typeof ConnectionDoc>;

/** A freshly connected account: due for sync now, so the first sync happens right away. */
export function newConnection(args: {
  uid: string;
  provider: ConnectionDoc["provider"];
  providerAccountId: string | null;
  providerAccountName: string | null;
  scopes: string[];
  now: Date;
  app?: { clientId: string } | null;
}): ConnectionDoc {
  const now = Timestamp.fromDate(args.now);
  return {
    uid: args.uid,
    provider: args.provider,
    status: "connected",
    providerAccountId: args.providerAccountId,
    providerAccountName: args.providerAccountName,
    scopes: args.scopes,
    connectedAt: now,
    updatedAt: now,
    nextSyncAt: now,
    lastSyncAt: null,
    lastSuccessAt: null,
    lastManualSyncAt: null,
    lastError: null,
    consecutiveFailures: 0,
    rateLimitedUntil: null,
    reauthReason: null,
    lease: null,
    counts: {},
    app: args.app ?? null,
  };
}
