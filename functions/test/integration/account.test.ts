/**
 * Account lifecycle through the real triggers: the Auth emulator creates/deletes a user, the
 * Functions emulator runs userCreated / userDeleted, and the results are read back from the
 * Firestore and Storage emulators.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { DocumentReference } from "firebase-admin/firestore";
import { auth, bucket, db } from "../../src/admin";
import { deleteAccountData } from "../../src/account/deleteAccount";
import { DEFAULT_SETTINGS, ensureProfile } from "../../src/account/profile";
import { createTokenStore } from "../../src/crypto/tokenStore";
import { createVault } from "../../src/crypto/vault";
import { accountKey } from "../../src/oauth/connectionStore";
import { firestorePaths, storagePaths } from "../../src/paths";
import { waitFor } from "../support/wait";

/** Every document at or below `ref` (including "missing" parents' descendants). */
async function countUnder(ref: DocumentReference): Promise<number> {
  let n = (await ref.get()).exists ? 1 : 0;
  for (const col of await ref.listCollections()) {
    for (const child of await col.listDocuments()) n += await countUnder(child);
  }
  return n;
}

async function objectsUnder(prefix: string): Promise<number> {
  const [files] = await bucket().getFiles({ prefix });
  return files.length;
}

async function inBatches(writes: [string, Record<string, unknown>][]): Promise<void> {
  for (let i = 0; i < writes.length; i += 400) {
    const batch = db().batch();
    for (const [path, data] of writes.slice(i, i + 400)) batch.set(db().doc(path), data);
    await batch.commit();
  }
}

async function forEachLimited<T>(items: T[], limit: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * Seeds exactly `docs` documents under users/{uid} (profile included, subcollections nested up to
 * four levels) and `objects` Storage objects under `{uid}/`, plus an OAuth state.
 */
async function seedUser(uid: string, docs: number, objects: number): Promise<void> {
  const store = createTokenStore(db(), createVault([{ id: "k1", key: randomBytes(32) }]));
  const t = { accessToken: "a", refreshToken: "r", expiresAt: new Date(), issuedAt: new Date(), scopes: [] };
  await store.save(uid, "spotify", t);
  await store.save(uid, "instagram", t);
  const writes: [string, Record<string, unknown>][] = [
    [firestorePaths.connection(uid, "spotify"), { status: "connected" }],
    [firestorePaths.connection(uid, "instagram"), { status: "needs_reauth" }],
  ];
  let i = 0;
  const remaining = () => docs - 1 /* profile */ - 2 /* tokens */ - writes.length;
  while (remaining() > 0) {
    const slot = i % 4;
    if (slot === 0) writes.push([firestorePaths.syncRun(uid, `run-${i}`), { i }]);
    else if (slot === 1) writes.push([firestorePaths.snapshot(uid, "instagram", `media-${i}`), { i }]);
    else if (slot === 2) writes.push([firestorePaths.snapshotPart(uid, "spotify", "playlists", i), { i }]);
    // Nested two levels below a part whose parent snapshot exists only through its children.
    else writes.push([`${firestorePaths.snapshotPart(uid, "spotify", "deep", i)}/items/${i}/pages/p`, { i }]);
    i++;
  }
  await inBatches(writes);
  await db().collection(firestorePaths.oauthStates()).add({ uid, provider: "spotify", expiresAt: new Date() });
  await db()
    .doc(firestorePaths.providerAccountClaim("spotify", accountKey(`account-of-${uid}`)))
    .set({ uid, provider: "spotify" });
  const names = Array.from({ length: objects }, (_, k) =>
    k % 2
      ? storagePaths.mirrorObject(uid, "spotify", `pl-${k}`, "jpg")
      : storagePaths.mirrorObject(uid, "instagram", `m-${k}`, "jpg"),
  );
  await forEachLimited(names, 20, (name) => bucket().file(name).save(Buffer.from(name), { resumable: false }));
}

describe("account lifecycle", () => {
  it("when an Auth user is created, then users/{uid} holds the profile with default settings", async () => {
    const email = `new-${randomUUID()}@example.test`;
    const user = await auth().createUser({ email, displayName: "New Person" });
    const ref = db().doc(firestorePaths.user(user.uid));
    const data = await waitFor(async () => (await ref.get()).data(), { timeoutMs: 30_000, what: "the profile" });
    expect(data).toMatchObject({ uid: user.uid, email, displayName: "New Person", settings: DEFAULT_SETTINGS });
    expect(data.createdAt.toDate().getTime()).toBeGreaterThan(Date.now() - 120_000);
    await auth().deleteUser(user.uid);
  });

  it("when the profile is created twice, then the second time changes nothing", async () => {
    const uid = `twice-${randomUUID()}`;
    const ref = db().doc(firestorePaths.user(uid));
    expect(await ensureProfile(db(), { uid, email: "a@example.test" }, new Date("2026-01-01T00:00:00Z"))).toBe(
      "created",
    );
    await ref.update({ "settings.timeZone": "Europe/Paris" }); // the owner changed a setting meanwhile
    const first = await ref.get();
    expect(await ensureProfile(db(), { uid, email: "b@example.test" }, new Date("2026-02-01T00:00:00Z"))).toBe(
      "existed",
    );
    const second = await ref.get();
    expect(second.updateTime?.isEqual(first.updateTime!)).toBe(true);
    expect(second.data()).toEqual(first.data());
    expect(second.get("email")).toBe("a@example.test");
  });

  it("when concurrent creations race, then exactly one creates the profile", async () => {
    const uid = `race-${randomUUID()}`;
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, (_, k) => ensureProfile(db(), { uid, displayName: `n${k}` }, new Date())),
    );
    expect(outcomes.filter((o) => o === "created")).toHaveLength(1);
  });

  it("when an Auth user with 1,000 documents and 200 Storage objects is deleted, then nothing is left under their uid and others keep theirs", async () => {
    const user = await auth().createUser({ email: `gone-${randomUUID()}@example.test` });
    const uid = user.uid;
    const userRef = db().doc(firestorePaths.user(uid));
    await waitFor(async () => (await userRef.get()).exists, { timeoutMs: 30_000, what: "the profile" });
    // A bystander whose uid starts with the deleted uid: a prefix bug would catch it.
    const other = `${uid}x`;
    await ensureProfile(db(), { uid: other }, new Date());

    await seedUser(uid, 1000, 200);
    await seedUser(other, 40, 10);
    expect(await countUnder(userRef)).toBe(1000);
    expect(await objectsUnder(storagePaths.userPrefix(uid))).toBe(200);
    const otherBefore = await countUnder(db().doc(firestorePaths.user(other)));

    const started = Date.now();
    await auth().deleteUser(uid);
    await waitFor(
      async () => (await countUnder(userRef)) === 0 && (await objectsUnder(storagePaths.userPrefix(uid))) === 0,
      { timeoutMs: 110_000, intervalMs: 250, what: "the user's data to be gone" },
    );
    const elapsed = Date.now() - started;
    console.log(`account deletion via the trigger: 1,000 documents + 200 objects gone in ${elapsed} ms`);

    const states = await db().collection(firestorePaths.oauthStates()).where("uid", "==", uid).get();
    expect(states.size).toBe(0);
    expect(await countUnder(db().doc(firestorePaths.user(other)))).toBe(otherBefore);
    expect(await objectsUnder(storagePaths.userPrefix(other))).toBe(10);

    // Idempotent: running it again finds nothing to do.
    const again = await deleteAccountData({ db: db(), bucket: bucket() }, uid);
    expect(again).toMatchObject({ firestoreDocuments: 0, credentialDocuments: 0, oauthStates: 0, storageObjects: 0 });
  }, 180_000);

  it("when the deletion runs directly, then it reports exact counts (timed)", async () => {
    const uid = `direct-${randomUUID()}`;
    await ensureProfile(db(), { uid }, new Date());
    await seedUser(uid, 1000, 200);
    const result = await deleteAccountData({ db: db(), bucket: bucket() }, uid);
    console.log(
      `account deletion, direct call: ${result.firestoreDocuments} documents + ${result.storageObjects} objects in ${result.durationMs} ms`,
    );
    expect(result).toMatchObject({
      firestoreDocuments: 1000,
      credentialDocuments: 2,
      oauthStates: 1,
      accountClaims: 1,
      storageObjects: 200,
    });
    // The person's provider account can be connected again by someone else.
    const claim = await db()
      .doc(firestorePaths.providerAccountClaim("spotify", accountKey(`account-of-${uid}`)))
      .get();
    expect(claim.exists).toBe(false);
    expect(await countUnder(db().doc(firestorePaths.user(uid)))).toBe(0);
    expect(await objectsUnder(storagePaths.userPrefix(uid))).toBe(0);
  }, 180_000);
});
