/**
 * The profile setting `settings.syncEnabled` pauses and resumes every connection of a person.
 *
 * Turning it off moves `connected` and `error` connections to `paused` and records the status
 * they had in `pausedFrom` (the fan-out and manual sync skip paused connections, so nothing is
 * synced and no quota is spent). Turning it on restores that status: a plain `connected`
 * connection is due now; one that was waiting keeps its wait, due at the later of now and its
 * stored `nextSyncAt` — an `error` connection stays `error` in its backoff, and one rate-limited
 * (`rateLimitedUntil` still ahead) waits until then. So switching off and on never shortens a
 * wait. Connections in `needs_reauth` or `disconnected` are left alone: they need the person, not
 * a switch.
 */
import { FieldValue, type Firestore, Timestamp } from "firebase-admin/firestore";
import type { ConnectionStatus } from "../connections/model";
import { firestorePaths } from "../paths";

export type SyncSettingChange = { paused: number; resumed: number } | "unchanged";

/** Statuses a switch-off pauses, and so the ones a switch-on restores. */
const PAUSABLE = ["connected", "error"] as const satisfies readonly ConnectionStatus[];
type Pausable = (typeof PAUSABLE)[number];

function syncEnabledOf(profile: unknown): boolean | undefined {
  const settings = (profile as { settings?: { syncEnabled?: unknown } } | undefined)?.settings;
  return typeof settings?.syncEnabled === "boolean" ? settings.syncEnabled : undefined;
}

const millisOf = (v: unknown): number | null => (v instanceof Timestamp ? v.toMillis() : null);

/**
 * What a paused connection becomes when sync is switched on again: the status it was paused from
 * (`connected` for documents paused before `pausedFrom` existed), due now unless it was waiting.
 */
export function resumedFields(
  paused: { pausedFrom?: unknown; nextSyncAt?: unknown; rateLimitedUntil?: unknown },
  now: Date,
): { status: Pausable; nextSyncAt: Date } {
  const status: Pausable = (PAUSABLE as readonly unknown[]).includes(paused.pausedFrom)
    ? (paused.pausedFrom as Pausable)
    : "connected";
  const stored = millisOf(paused.nextSyncAt);
  const rateLimitedUntil = millisOf(paused.rateLimitedUntil);
  const waiting = status === "error" || (rateLimitedUntil !== null && rateLimitedUntil > now.getTime());
  const due = waiting && stored !== null ? Math.max(now.getTime(), stored) : now.getTime();
  return { status, nextSyncAt: new Date(due) };
}

export async function applySyncSetting(
  db: Firestore,
  uid: string,
  before: unknown,
  after: unknown,
  now: Date,
): Promise<SyncSettingChange> {
  const was = syncEnabledOf(before);
  const is = syncEnabledOf(after);
  if (is === undefined || was === is) return "unchanged";
  const from: readonly string[] = is ? ["paused"] : PAUSABLE;
  const snaps = await db.collection(firestorePaths.connections(uid)).where("status", "in", from).get();
  let changed = 0;
  for (const doc of snaps.docs) {
    // One transaction per connection: a sync finishing meanwhile must not be overwritten blindly.
    const done = await db.runTransaction(async (tx) => {
      const fresh = await tx.get(doc.ref);
      const status = fresh.get("status") as string | undefined;
      if (!fresh.exists || !status || !from.includes(status)) return false;
      const at = Timestamp.fromDate(now);
      if (is) {
        const resumed = resumedFields(fresh.data() ?? {}, now);
        tx.update(doc.ref, {
          status: resumed.status,
          nextSyncAt: Timestamp.fromDate(resumed.nextSyncAt),
          pausedFrom: FieldValue.delete(),
          updatedAt: at,
        });
      } else {
        tx.update(doc.ref, { status: "paused", pausedFrom: status, updatedAt: at });
      }
      return true;
    });
    if (done) changed++;
  }
  return is ? { paused: 0, resumed: changed } : { paused: changed, resumed: 0 };
}
