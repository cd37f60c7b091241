/**
 * firestore.rules for the listening history (plays, play_stats, history) against the Firestore
 * emulator: the owner reads, another user and signed-out clients are denied, and no client writes.
 * Data is seeded with rules disabled; the project id is this file's own.
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
  query,
  setDoc,
  updateDoc,
  where,
} from "firebase/firestore";
import { firestoreRulesEnv } from "../support/firestore-rules-env";

let env: RulesTestEnvironment;

const ALICE = "alice";
const BOB = "bob";
const at = Timestamp.fromMillis(Date.UTC(2026, 2, 1));

const DOCS = {
  plays: "spotify-1772323200000-track1",
  play_stats: "spotify-2026-03",
  history: "instagram-2026-03",
} as const;
type Kind = keyof typeof DOCS;
const KINDS = Object.keys(DOCS) as Kind[];

const data: Record<Kind, Record<string, unknown>> = {
  plays: { provider: "spotify", playedAt: at, trackId: "track1", trackName: "A song", durationMs: 1000 },
  play_stats: { provider: "spotify", month: "2026-03", plays: 1, ms: 1000, days: { "01": { plays: 1, ms: 1000 } } },
  history: { provider: "instagram", month: "2026-03", days: { "01": { followers: 3 } } },
};

beforeAll(async () => {
  env = await firestoreRulesEnv(`demo-history-rules-${Date.now()}`);
  await env.withSecurityRulesDisabled(async (ctx) => {
    const db = ctx.firestore();
    for (const uid of [ALICE, BOB]) {
      for (const kind of KINDS) await setDoc(doc(db, `users/${uid}/${kind}/${DOCS[kind]}`), data[kind]);
    }
  });
});
afterAll(async () => env?.cleanup());

const as = (uid: string | null) =>
  uid ? env.authenticatedContext(uid).firestore() : env.unauthenticatedContext().firestore();

describe.each(KINDS)("users/{uid}/%s", (kind) => {
  const path = (uid: string) => `users/${uid}/${kind}/${DOCS[kind]}`;

  it("when the owner gets a document, then it is allowed and holds the seeded data", async () => {
    const snap = await assertSucceeds(getDoc(doc(as(ALICE), path(ALICE))));
    expect(snap.get("provider")).toBe(data[kind].provider);
  });

  it("when the owner lists the collection with a query, then it is allowed", async () => {
    const snap = await assertSucceeds(
      getDocs(query(collection(as(ALICE), `users/${ALICE}/${kind}`), where("provider", "==", data[kind].provider))),
    );
    expect(snap.docs.map((d) => d.id)).toEqual([DOCS[kind]]);
  });

  it("when another user gets or lists it, then it is denied", async () => {
    await assertFails(getDoc(doc(as(BOB), path(ALICE))));
    await assertFails(getDocs(collection(as(BOB), `users/${ALICE}/${kind}`)));
  });

  it("when a signed-out client gets or lists it, then it is denied", async () => {
    await assertFails(getDoc(doc(as(null), path(ALICE))));
    await assertFails(getDocs(collection(as(null), `users/${ALICE}/${kind}`)));
  });

  it("when the owner creates, updates or deletes, then it is denied", async () => {
    const db = as(ALICE);
    await assertFails(setDoc(doc(db, `users/${ALICE}/${kind}/new-doc`), data[kind]));
    await assertFails(updateDoc(doc(db, path(ALICE)), { provider: "youtube" }));
    await assertFails(deleteDoc(doc(db, path(ALICE))));
  });

  it("when a signed-in client queries the collection group, then it is denied (even its own documents)", async () => {
    await assertFails(getDocs(query(collectionGroup(as(ALICE), kind), where("provider", "==", "spotify"))));
  });
});
