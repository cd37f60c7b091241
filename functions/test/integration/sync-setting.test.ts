/**
 * settings.syncEnabled on the profile pauses and resumes a person's connections, through the
 * profileUpdated Firestore trigger running in the Functions emulator.
 */
import { randomUUID } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { db } from "../../src/admin";
import { applySyncSetting } from "../../src/account/syncSetting";
import { newConnection } from "../../src/connections/model";
import { firestorePaths } from "../../src/paths";
import { waitFor } from "../support/wait";

async function seed(uid: string) {
  const now = new Date();
  await db()
    .doc(firestorePaths.user(uid))
    .set({
      uid,
      displayName: null,
      email: null,
      createdAt: Timestamp.fromDate(now),
      settings: { timeZone: "Etc/UTC", syncEnabled: true },
    });
  const base = { uid, providerAccountId: "a", providerAccountName: "A", scopes: [], now };
  await db()
    .doc(firestorePaths.connection(uid, "spotify"))
    .set(newConnection({ ...base, provider: "spotify" }));
  await db()
    .doc(firestorePaths.connection(uid, "instagram"))
    .set({ ...newConnection({ ...base, provider: "instagram" }), status: "needs_reauth" });
}

const status = async (uid: string, p: "spotify" | "instagram") =>
  (await db().doc(firestorePaths.connection(uid, p)).get()).get("status") as string;

describe("settings.syncEnabled", () => {
  it("when a person turns sync off, then connected connections pause (needs_reauth stays); turning it on resumes them, due now", async () => {
    const uid = `setting-${randomUUID()}`;
    await seed(uid);
    await db().doc(firestorePaths.user(uid)).update({ "settings.syncEnabled": false });
    await waitFor(async () => (await status(uid, "spotify")) === "paused", { what: "spotify paused" });
    expect(await status(uid, "instagram")).toBe("needs_reauth");

    const before = Date.now();
    await db().doc(firestorePaths.user(uid)).update({ "settings.syncEnabled": true });
    await waitFor(async () => (await status(uid, "spotify")) === "connected", { what: "spotify resumed" });
    const c = (await db().doc(firestorePaths.connection(uid, "spotify")).get()).data()!;
    expect(c.nextSyncAt.toMillis()).toBeGreaterThanOrEqual(before - 1000);
    expect(c.nextSyncAt.toMillis()).toBeLessThanOrEqual(Date.now());
    expect(await status(uid, "instagram")).toBe("needs_reauth");
  });

  it("when another profile field changes, then connections are left alone", async () => {
    const uid = `setting-${randomUUID()}`;
    await seed(uid);
    const profile = { settings: { timeZone: "Etc/UTC", syncEnabled: true } };
    const out = await applySyncSetting(
      db(),
      uid,
      profile,
      { settings: { ...profile.settings, timeZone: "Europe/Paris" } },
      new Date(),
    );
    expect(out).toBe("unchanged");
    expect(await status(uid, "spotify")).toBe("connected");
  });
});
