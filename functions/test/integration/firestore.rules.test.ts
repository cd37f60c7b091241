/**
 * firestore.rules against the Firestore emulator: owner, other user and signed-out clients, for
 * every collection of the architecture note, allowed and denied. Data is seeded with rules
 * disabled and cleared before each group; the project id is this file's own.
 */
import { assertFails, assertSucceeds, type RulesTestEnvironment } from "@firebase/rules-unit-testing";
import {
  Timestamp,
  collection,
  collectionGroup,
  deleteDoc,
  doc,
  getDoc,
  getDocs,
  orderBy,
  query,
  setDoc,
  updateDoc,
  where,
} from "firebase/firestore";
import { firestoreRulesEnv } from "../support/firestore-rules-env";

let env: RulesTestEnvironment;

const ALICE = "alice";
const BOB = "bob";
const at = Timestamp.fromMillis(Date.UTC(2026, 0, 1));

const profile = (uid: string) => ({
  uid,
  displayName: uid,
  email: `${uid}@example.test`,
  createdAt: at,
  settings: { timeZone: "Etc/UTC", syncEnabled: true },
});

/** Everything a user owns, as the server writes it. */
async function seed(): Promise<void> {
  await env.withSecurityRulesDisabled(async (ctx) => {
    const db = ctx.firestore();
    for (const uid of [ALICE, BOB]) {
      await setDoc(doc(db, `users/${uid}`), profile(uid));
      await setDoc(doc(db, `users/${uid}/connections/spotify`), { status: "connected", nextSyncAt: at });
      await setDoc(doc(db, `users/${uid}/oauth_tokens/spotify`), { v: 1, keyId: "k", ciphertext: "x" });
      await setDoc(doc(db, `users/${uid}/spotify/last-response_playlists`), { items: [1, 2] });
      await setDoc(doc(db, `users/${uid}/spotify/last-response_playlists/parts/00000`), { items: [1] });
      await setDoc(doc(db, `users/${uid}/instagram/last-response_media`), { items: [] });
      await setDoc(doc(db, `users/${uid}/sync_runs/run-1`), { provider: "spotify", startedAt: at });
      await setDoc(doc(db, `users/${uid}/misc/x`), { a: 1 });
    }
    await setDoc(doc(db, "oauth_states/state-1"), { uid: ALICE, provider: "spotify" });
    await setDoc(doc(db, "ops/checkpoint"), { n: 1 });
    await setDoc(doc(db, "elsewhere/x"), { n: 1 });
    await setDoc(doc(db, "provider_state/spotify"), { reason: "429" });
    await setDoc(doc(db, "provider_accounts/spotify-claim-1"), { uid: ALICE, provider: "spotify" });
  });
}

const as = (uid: string | null) =>
  uid ? env.authenticatedContext(uid).firestore() : env.unauthenticatedContext().firestore();

beforeAll(async () => {
  env = await firestoreRulesEnv(`demo-rules-${Date.now()}`);
});
afterAll(async () => env?.cleanup());
beforeEach(async () => {
  await env.clearFirestore();
  await seed();
});

describe("users/{uid} (profile)", () => {
  it("when the owner reads their profile, then it is allowed and holds the seeded data", async () => {
    const snap = await assertSucceeds(getDoc(doc(as(ALICE), "users/alice")));
    expect(snap.data()?.email).toBe("alice@example.test");
  });
  it("when another user reads the profile, then it is denied", async () => {
    await assertFails(getDoc(doc(as(BOB), "users/alice")));
  });
  it("when a signed-out client reads the profile, then it is denied", async () => {
    await assertFails(getDoc(doc(as(null), "users/alice")));
  });
  it("when a signed-in user lists the users collection, then it is denied", async () => {
    await assertFails(getDocs(collection(as(ALICE), "users")));
  });
  it("when the owner changes settings.timeZone to a valid string, then it is allowed", async () => {
    await assertSucceeds(updateDoc(doc(as(ALICE), "users/alice"), { "settings.timeZone": "Europe/Paris" }));
    let settings: unknown;
    await env.withSecurityRulesDisabled(async (ctx) => {
      settings = (await getDoc(doc(ctx.firestore(), "users/alice"))).data()?.settings;
    });
    expect(settings).toEqual({ timeZone: "Europe/Paris", syncEnabled: true });
  });
  it("when the owner turns settings.syncEnabled off, then it is allowed", async () => {
    await assertSucceeds(updateDoc(doc(as(ALICE), "users/alice"), { "settings.syncEnabled": false }));
  });
  it("when the owner replaces both settings at once with the right types, then it is allowed", async () => {
    await assertSucceeds(
      updateDoc(doc(as(ALICE), "users/alice"), { settings: { timeZone: "Asia/Tokyo", syncEnabled: false } }),
    );
  });
  it("when the owner sets syncEnabled to a string, then it is denied", async () => {
    await assertFails(updateDoc(doc(as(ALICE), "users/alice"), { "settings.syncEnabled": "no" }));
  });
  it("when the owner sets timeZone to a number, then it is denied", async () => {
    await assertFails(updateDoc(doc(as(ALICE), "users/alice"), { "settings.timeZone": 2 }));
  });
  it("when the owner sets timeZone to an empty or a 65-character string, then it is denied", async () => {
    await assertFails(updateDoc(doc(as(ALICE), "users/alice"), { "settings.timeZone": "" }));
    await assertFails(updateDoc(doc(as(ALICE), "users/alice"), { "settings.timeZone": "x".repeat(65) }));
  });
  it("when the owner adds a setting that is not whitelisted, then it is denied", async () => {
    await assertFails(updateDoc(doc(as(ALICE), "users/alice"), { "settings.isAdmin": true }));
  });
  it("when the owner removes a whitelisted setting, then it is denied", async () => {
    await assertFails(updateDoc(doc(as(ALICE), "users/alice"), { settings: { timeZone: "Etc/UTC" } }));
  });
  it("when the owner changes their email or uid, then it is denied", async () => {
    await assertFails(updateDoc(doc(as(ALICE), "users/alice"), { email: "evil@example.test" }));
    await assertFails(updateDoc(doc(as(ALICE), "users/alice"), { uid: "bob" }));
  });
  it("when the owner changes a setting together with displayName, then it is denied", async () => {
    await assertFails(
      updateDoc(doc(as(ALICE), "users/alice"), { "settings.timeZone": "Europe/Paris", displayName: "Al" }),
    );
  });
  it("when a signed-in user creates their own profile from the client, then it is denied (the server creates it)", async () => {
    await assertFails(setDoc(doc(as("carol"), "users/carol"), profile("carol")));
  });
  it("when the owner deletes their profile, then it is denied", async () => {
    await assertFails(deleteDoc(doc(as(ALICE), "users/alice")));
  });
  it("when another user or a signed-out client changes the owner's settings, then it is denied", async () => {
    await assertFails(updateDoc(doc(as(BOB), "users/alice"), { "settings.timeZone": "Europe/Paris" }));
    await assertFails(updateDoc(doc(as(null), "users/alice"), { "settings.timeZone": "Europe/Paris" }));
  });
});

describe("users/{uid}/connections", () => {
  it("when the owner reads a connection, then it is allowed", async () => {
    const snap = await assertSucceeds(getDoc(doc(as(ALICE), "users/alice/connections/spotify")));
    expect(snap.data()?.status).toBe("connected");
  });
  it("when the owner lists their connections, then it is allowed", async () => {
    const snap = await assertSucceeds(getDocs(collection(as(ALICE), "users/alice/connections")));
    expect(snap.size).toBe(1);
  });
  it("when another user or a signed-out client reads a connection, then it is denied", async () => {
    await assertFails(getDoc(doc(as(BOB), "users/alice/connections/spotify")));
    await assertFails(getDoc(doc(as(null), "users/alice/connections/spotify")));
  });
  it("when the owner writes connection state (update, create, delete), then it is denied", async () => {
    await assertFails(updateDoc(doc(as(ALICE), "users/alice/connections/spotify"), { status: "paused" }));
    await assertFails(setDoc(doc(as(ALICE), "users/alice/connections/instagram"), { status: "connected" }));
    await assertFails(deleteDoc(doc(as(ALICE), "users/alice/connections/spotify")));
  });
  it("when a client runs the fan-out's collection-group query over connections, then it is denied", async () => {
    await assertFails(getDocs(query(collectionGroup(as(ALICE), "connections"), where("status", "==", "connected"))));
  });
});

describe("users/{uid}/oauth_tokens (server only)", () => {
  it("when the owner reads their own token document, then it is denied", async () => {
    await assertFails(getDoc(doc(as(ALICE), "users/alice/oauth_tokens/spotify")));
  });
  it("when the owner lists their token documents, then it is denied", async () => {
    await assertFails(getDocs(collection(as(ALICE), "users/alice/oauth_tokens")));
  });
  it("when the owner writes or deletes a token document, then it is denied", async () => {
    await assertFails(setDoc(doc(as(ALICE), "users/alice/oauth_tokens/instagram"), { v: 1 }));
    await assertFails(deleteDoc(doc(as(ALICE), "users/alice/oauth_tokens/spotify")));
  });
  it("when another user or a signed-out client reads tokens, then it is denied", async () => {
    await assertFails(getDoc(doc(as(BOB), "users/alice/oauth_tokens/spotify")));
    await assertFails(getDoc(doc(as(null), "users/alice/oauth_tokens/spotify")));
  });
});

describe("users/{uid}/{provider} snapshots and their parts", () => {
  it("when the owner reads a Spotify snapshot, then it is allowed", async () => {
    const snap = await assertSucceeds(getDoc(doc(as(ALICE), "users/alice/spotify/last-response_playlists")));
    expect(snap.data()?.items).toEqual([1, 2]);
  });
  it("when the owner reads an Instagram snapshot, then it is allowed", async () => {
    await assertSucceeds(getDoc(doc(as(ALICE), "users/alice/instagram/last-response_media")));
  });
  it("when the owner reads and lists a snapshot's parts, then it is allowed", async () => {
    await assertSucceeds(getDoc(doc(as(ALICE), "users/alice/spotify/last-response_playlists/parts/00000")));
    const parts = await assertSucceeds(
      getDocs(collection(as(ALICE), "users/alice/spotify/last-response_playlists/parts")),
    );
    expect(parts.size).toBe(1);
  });
  it("when another user reads a snapshot or its parts, then it is denied", async () => {
    await assertFails(getDoc(doc(as(BOB), "users/alice/spotify/last-response_playlists")));
    await assertFails(getDoc(doc(as(BOB), "users/alice/spotify/last-response_playlists/parts/00000")));
  });
  it("when a signed-out client reads a snapshot, then it is denied", async () => {
    await assertFails(getDoc(doc(as(null), "users/alice/instagram/last-response_media")));
  });
  it("when the owner writes synced data (snapshot or part), then it is denied", async () => {
    await assertFails(setDoc(doc(as(ALICE), "users/alice/spotify/last-response_playlists"), { items: [] }));
    await assertFails(setDoc(doc(as(ALICE), "users/alice/spotify/last-response_playlists/parts/00001"), { a: 1 }));
    await assertFails(deleteDoc(doc(as(ALICE), "users/alice/instagram/last-response_media")));
  });
  it("when the owner reads a subcollection that is not a provider's, then it is denied", async () => {
    await assertFails(getDoc(doc(as(ALICE), "users/alice/misc/x")));
  });
});

describe("users/{uid}/sync_runs", () => {
  it("when the owner reads and lists their run history, then it is allowed", async () => {
    await assertSucceeds(getDoc(doc(as(ALICE), "users/alice/sync_runs/run-1")));
    const runs = await assertSucceeds(
      getDocs(query(collection(as(ALICE), "users/alice/sync_runs"), orderBy("startedAt", "desc"))),
    );
    expect(runs.size).toBe(1);
  });
  it("when another user or a signed-out client lists the run history, then it is denied", async () => {
    await assertFails(getDocs(collection(as(BOB), "users/alice/sync_runs")));
    await assertFails(getDocs(collection(as(null), "users/alice/sync_runs")));
  });
  it("when the owner writes a run, then it is denied", async () => {
    await assertFails(setDoc(doc(as(ALICE), "users/alice/sync_runs/run-2"), { provider: "spotify" }));
    await assertFails(updateDoc(doc(as(ALICE), "users/alice/sync_runs/run-1"), { outcome: "ok" }));
  });
});

describe("server-only top-level collections", () => {
  it("when the user a state belongs to reads it, then it is denied", async () => {
    await assertFails(getDoc(doc(as(ALICE), "oauth_states/state-1")));
  });
  it("when a client creates or lists OAuth states, then it is denied", async () => {
    await assertFails(setDoc(doc(as(ALICE), "oauth_states/mine"), { uid: ALICE, provider: "spotify" }));
    await assertFails(getDocs(query(collection(as(ALICE), "oauth_states"), where("uid", "==", ALICE))));
    await assertFails(getDoc(doc(as(null), "oauth_states/state-1")));
  });
  it("when a client reads or writes ops documents, then it is denied", async () => {
    await assertFails(getDoc(doc(as(ALICE), "ops/checkpoint")));
    await assertFails(setDoc(doc(as(ALICE), "ops/checkpoint"), { n: 2 }));
  });
  it("when a client reads or writes a provider's pause, then it is denied", async () => {
    await assertFails(getDoc(doc(as(ALICE), "provider_state/spotify")));
    await assertFails(setDoc(doc(as(ALICE), "provider_state/spotify"), { pausedUntil: null }));
  });
  it("when the claim holder reads, lists or writes provider account claims, then it is denied", async () => {
    await assertFails(getDoc(doc(as(ALICE), "provider_accounts/spotify-claim-1")));
    await assertFails(getDocs(query(collection(as(ALICE), "provider_accounts"), where("uid", "==", ALICE))));
    await assertFails(setDoc(doc(as(BOB), "provider_accounts/spotify-claim-1"), { uid: BOB, provider: "spotify" }));
  });
  it("when a client reads or writes any other collection, then it is denied", async () => {
    await assertFails(getDoc(doc(as(ALICE), "elsewhere/x")));
    await assertFails(setDoc(doc(as(ALICE), "elsewhere/y"), { n: 1 }));
  });
});

describe("the admin custom claim (the operator view)", () => {
  const asAdmin = () => env.authenticatedContext(ALICE, { admin: true }).firestore();
  it("when an operator's client reads the operator view's data directly, then every read is denied (only the callable serves it)", async () => {
    await assertFails(getDoc(doc(asAdmin(), "provider_state/spotify")));
    await assertFails(getDoc(doc(asAdmin(), "users/bob/connections/spotify")));
    await assertFails(getDocs(query(collectionGroup(asAdmin(), "connections"), orderBy("lastError.at", "desc"))));
    await assertFails(getDocs(query(collectionGroup(asAdmin(), "sync_runs"), orderBy("finishedAt", "desc"))));
    await assertFails(getDocs(collection(asAdmin(), "ops")));
  });
  it("when an operator's client lifts a pause or writes another person's connection directly, then it is denied", async () => {
    await assertFails(deleteDoc(doc(asAdmin(), "provider_state/spotify")));
    await assertFails(updateDoc(doc(asAdmin(), "users/bob/connections/spotify"), { status: "paused" }));
  });
});
