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

  it("when sync is switched off and on during an error backoff, then the connection stays in error with its backoff", async () => {
    const uid = `setting-${randomUUID()}`;
    await seed(uid);
    const backoffEnds = Timestamp.fromMillis(Date.now() + 6 * 3_600_000);
    await db()
      .doc(firestorePaths.connection(uid, "spotify"))
      .update({ status: "error", consecutiveFailures: 4, nextSyncAt: backoffEnds });
    await db().doc(firestorePaths.user(uid)).update({ "settings.syncEnabled": false });
    await waitFor(async () => (await status(uid, "spotify")) === "paused", { what: "spotify paused" });
    expect((await db().doc(firestorePaths.connection(uid, "spotify")).get()).get("pausedFrom")).toBe("error");

    await db().doc(firestorePaths.user(uid)).update({ "settings.syncEnabled": true });
    await waitFor(async () => (await status(uid, "spotify")) !== "paused", { what: "spotify resumed" });
    const c = (await db().doc(firestorePaths.connection(uid, "spotify")).get()).data()!;
    expect(c.status).toBe("error");
    expect(c.nextSyncAt.toMillis()).toBe(backoffEnds.toMillis());
    expect(c.consecutiveFailures).toBe(4);
    expect(c.pausedFrom).toBeUndefined();
  });

  it("when sync is switched off and on while rate-limited, then the connection still waits until the rate limit ends", async () => {
    const uid = `setting-${randomUUID()}`;
    await seed(uid);
    const limitEnds = Timestamp.fromMillis(Date.now() + 2 * 3_600_000);
    await db()
      .doc(firestorePaths.connection(uid, "spotify"))
      .update({ rateLimitedUntil: limitEnds, nextSyncAt: limitEnds });
    const profile = (syncEnabled: boolean) => ({ settings: { timeZone: "Etc/UTC", syncEnabled } });
    // Called directly (the trigger does the same): off, then on.
    expect(await applySyncSetting(db(), uid, profile(true), profile(false), new Date())).toEqual({
      paused: 1,
      resumed: 0,
    });
    expect(await applySyncSetting(db(), uid, profile(false), profile(true), new Date())).toEqual({
      paused: 0,
      resumed: 1,
    });
    const c = (await db().doc(firestorePaths.connection(uid, "spotify")).get()).data()!;
    expect(c.status).toBe("connected");
    expect(c.nextSyncAt.toMillis()).toBe(limitEnds.toMillis());
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
