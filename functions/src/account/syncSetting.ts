/**
 * The profile setting `settings.syncEnabled` pauses and resumes every connection of a person.
 *
 * Turning it off moves `connected` and `error` connections to `paused` (the fan-out and manual
 * sync skip paused connections, so nothing is synced and no quota is spent). Turning it on moves
 * `paused` connections back to `connected`, due now. Connections in `needs_reauth` or
 * `disconnected` are left alone: they need the person, not a switch.
 */
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { firestorePaths } from "../paths";

export type SyncSettingChange = { paused: number; resumed: number } | "unchanged";

function syncEnabledOf(profile: unknown): boolean | undefined {
  const settings = (profile as { settings?: { syncEnabled?: unknown } } | undefined)?.settings;
  return typeof settings?.syncEnabled === "boolean" ? settings.syncEnabled : undefined;
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
  const from = is ? ["paused"] : ["connected", "error"];
  const snaps = await db.collection(firestorePaths.connections(uid)).where("status", "in", from).get();
  let changed = 0;
  for (const doc of snaps.docs) {
    // One transaction per connection: a sync finishing meanwhile must not be overwritten blindly.
    const done = await db.runTransaction(async (tx) => {
      const fresh = await tx.get(doc.ref);
      const status = fresh.get("status") as string | undefined;
      if (!fresh.exists || !status || !from.includes(status)) return false;
      const at = Timestamp.fromDate(now);
      tx.update(
        doc.ref,
        is ? { status: "connected", nextSyncAt: at, updatedAt: at } : { status: "paused", updatedAt: at },
      );
      return true;
    });
    if (done) changed++;
  }
  return is ? { paused: 0, resumed: changed } : { paused: changed, resumed: 0 };
}
