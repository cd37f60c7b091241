/**
 * Manual sync ("sync now"): a signed-in person asks to sync one of their own connections. At most
 * once per MANUAL_SYNC_COOLDOWN_SECONDS per connection, enforced here in a transaction on the
 * connection document (lastManualSyncAt), so two quick clicks or two tabs cannot both pass. It
 * enqueues the same task as the fan-out (reason "manual"); the handler's lease stops it from
 * overlapping a running sync. A connection in `error` whose backoff (nextSyncAt) has not expired
 * is refused too: Sync now must not undo the backoff that keeps a failing account from being
 * retried every few minutes.
 */
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import type { Config } from "../config";
import { ConnectionDoc } from "../connections/model";
import { AppError, InvalidInputError } from "../errors";
import { logs } from "../logs";
import { PROVIDERS, type Provider, firestorePaths } from "../paths";
import { providerName } from "../providers/catalog";
import { isSyncable } from "./policy";
import { type Clock, type TaskQueue, laneOf, syncTaskId } from "./ports";
import { providerPausedUntil } from "./providerPause";

export const ManualSyncRequest = z.object({ provider: z.enum(PROVIDERS) }).strict();

export type RefusalReason = "not_connected" | "needs_reauth" | "not_syncable" | "cooldown" | "rate_limited" | "backoff";

/** The request is refused; `retryAt` says when it will be allowed (cooldown, rate limit, backoff). */
export class ManualSyncRefusedError extends AppError {
  readonly code = "manual_sync_refused";
  readonly action = "give_up";
  constructor(
    message: string,
    readonly reason: RefusalReason,
    readonly retryAt?: Date,
  ) {
    super(message);
  }
}

export interface ManualSyncDeps {
  db: Firestore;
  queue: TaskQueue;
  clock: Clock;
  config: Pick<Config, "MANUAL_SYNC_COOLDOWN_SECONDS" | "MAX_PAUSE_HOURS">;
}

export interface ManualSyncResult {
  provider: Provider;
  taskId: string;
  enqueued: boolean;
  /** When the next manual sync of this connection will be allowed. */
  nextAllowedAt: Date;
}

export async function requestManualSync(deps: ManualSyncDeps, uid: string, input: unknown): Promise<ManualSyncResult> {
  const parsed = ManualSyncRequest.safeParse(input);
  if (!parsed.success)
    throw new InvalidInputError(`Expected { provider: ${PROVIDERS.map((p) => `"${p}"`).join(" | ")} }.`);
  const { provider } = parsed.data;
  const name = providerName(provider);
  const ref = deps.db.doc(firestorePaths.connection(uid, provider));
  const now = deps.clock.now();
  const cooldownMs = deps.config.MANUAL_SYNC_COOLDOWN_SECONDS * 1000;

  const previous = await deps.db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const c = snap.exists ? ConnectionDoc.safeParse(snap.data()) : undefined;
    if (!c?.success) throw new ManualSyncRefusedError(`You have no ${name} connection.`, "not_connected");
    const conn = c.data;
    if (conn.status === "needs_reauth") {
      throw new ManualSyncRefusedError(
        `Reconnect ${name} first${conn.reauthReason ? `: ${conn.reauthReason}` : "."}`,
        "needs_reauth",
      );
    }
    if (!isSyncable(conn.status)) {
      throw new ManualSyncRefusedError(`Your ${name} connection is ${conn.status}.`, "not_syncable");
    }
    if (conn.lastManualSyncAt && conn.lastManualSyncAt.toMillis() + cooldownMs > now.getTime()) {
      const at = new Date(conn.lastManualSyncAt.toMillis() + cooldownMs);
      throw new ManualSyncRefusedError(
        `You synced ${name} manually a moment ago; you can sync again at ${at.toISOString()}.`,
        "cooldown",
        at,
      );
    }
    if (conn.rateLimitedUntil && conn.rateLimitedUntil.toMillis() > now.getTime()) {
      const at = conn.rateLimitedUntil.toDate();
      throw new ManualSyncRefusedError(
        `${name} asked us to wait; you can sync again at ${at.toISOString()}.`,
        "rate_limited",
        at,
      );
    }
    if (conn.status === "error" && conn.nextSyncAt.toMillis() > now.getTime()) {
      const at = conn.nextSyncAt.toDate();
      throw new ManualSyncRefusedError(
        `Syncing ${name} failed several times in a row, so it waits before trying again; you can sync again at ${at.toISOString()}.`,
        "backoff",
        at,
      );
    }
    // The pause of the app this connection calls as: the operator's, or the person's own.
    const own = conn.app?.clientId;
    const providerPause = await providerPausedUntil(
      deps.db,
      own !== undefined ? { provider, clientId: own } : provider,
      now,
      deps.config,
    );
    if (providerPause) {
      throw new ManualSyncRefusedError(
        `${name} asked ${own !== undefined ? "your own app" : "this app"} to wait; you can sync again at ${providerPause.toISOString()}.`,
        "rate_limited",
        providerPause,
      );
    }
    tx.update(ref, { lastManualSyncAt: Timestamp.fromDate(now) });
    return { lastManualSyncAt: conn.lastManualSyncAt, lane: laneOf(conn) };
  });

  const taskId = syncTaskId(uid, provider, `manual-${now.getTime()}`);
  try {
    const r = await deps.queue.enqueue(
      provider,
      { uid, provider, reason: "manual", requestedAt: now.getTime() },
      { id: taskId, lane: previous.lane },
    );
    logs.info("sync.manual.enqueued", { uid, provider, duplicate: r === "duplicate" });
    return { provider, taskId, enqueued: r === "enqueued", nextAllowedAt: new Date(now.getTime() + cooldownMs) };
  } catch (e) {
    // Give the cooldown back: the person did not get a sync.
    await deps.db
      .runTransaction(async (tx) => {
        const snap = await tx.get(ref);
        const at = snap.get("lastManualSyncAt") as Timestamp | null | undefined;
        if (at && at.toMillis() === now.getTime()) tx.update(ref, { lastManualSyncAt: previous.lastManualSyncAt });
      })
      .catch(() => undefined);
    throw e;
  }
}
