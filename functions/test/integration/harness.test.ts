/**
 * Proof that the harness is real: each emulator answers, and a task enqueued with
 * firebase-admin's task queue API reaches an onTaskDispatched function in the Functions emulator.
 */
import { randomUUID } from "node:crypto";
import { assertFails, assertSucceeds, type RulesTestEnvironment } from "@firebase/rules-unit-testing";
import { doc, getDoc, setDoc } from "firebase/firestore";
import { auth, bucket, db, taskQueueService } from "../../src/admin";
import { firestorePaths } from "../../src/paths";
import { firestoreRulesEnv } from "../support/firestore-rules-env";
import { waitFor } from "../support/wait";

describe("the emulator harness", () => {
  it("when firebase-admin writes to Firestore, then it reads the same document back", async () => {
    const path = firestorePaths.opsDoc(`harness-${randomUUID()}`);
    await db().doc(path).set({ n: 42, at: new Date() });
    const snap = await db().doc(path).get();
    expect(snap.data()?.n).toBe(42);
  });

  it("when a user is created in the Auth emulator, then it can be fetched by uid", async () => {
    const email = `harness-${randomUUID()}@example.test`;
    const user = await auth().createUser({ email, password: "correct horse battery" });
    const fetched = await auth().getUser(user.uid);
    expect(fetched.email).toBe(email);
    await auth().deleteUser(user.uid);
  });

  it("when an object is saved to the Storage emulator, then its bytes and metadata read back", async () => {
    const file = bucket().file(`harness/${randomUUID()}.bin`);
    await file.save(Buffer.from("hello storage"), { contentType: "application/octet-stream" });
    const [bytes] = await file.download();
    const [meta] = await file.getMetadata();
    expect(bytes.toString()).toBe("hello storage");
    expect(Number(meta.size)).toBe(13);
    await file.delete();
  });

  it("when a task is enqueued with firebase-admin, then the onTaskDispatched function runs and writes", async () => {
    const probeId = randomUUID();
    await taskQueueService().taskQueue("devProbe").enqueue({ probeId, note: "from the harness test" });
    const ref = db().doc(firestorePaths.opsDoc(`probe-${probeId}`));
    const data = await waitFor(async () => (await ref.get()).data(), { timeoutMs: 30_000, what: "the probe document" });
    expect(data.note).toBe("from the harness test");
  });

  it("when the same task id is enqueued twice, then the second is rejected as already existing", async () => {
    const id = `dup-${randomUUID()}`;
    const queue = taskQueueService().taskQueue("devProbe");
    await queue.enqueue({ probeId: randomUUID(), note: "first" }, { id });
    await expect(queue.enqueue({ probeId: randomUUID(), note: "second" }, { id })).rejects.toMatchObject({
      code: "functions/task-already-exists",
    });
  });
});

describe("firestore.rules (deny by default)", () => {
  let env: RulesTestEnvironment;

  beforeAll(async () => {
    env = await firestoreRulesEnv(`demo-rules-${Date.now()}`);
    await env.withSecurityRulesDisabled(async (ctx) => {
      await setDoc(doc(ctx.firestore(), "users/alice"), { displayName: "Alice" });
    });
  });
  afterAll(async () => env?.cleanup());

  it("when rules are disabled, then the seeded document is readable (the seed really exists)", async () => {
    await env.withSecurityRulesDisabled(async (ctx) => {
      const snap = await assertSucceeds(getDoc(doc(ctx.firestore(), "users/alice")));
      expect(snap.data()?.displayName).toBe("Alice");
    });
  });

  it("when a signed-out client reads a user document, then it is denied", async () => {
    await assertFails(getDoc(doc(env.unauthenticatedContext().firestore(), "users/alice")));
  });

  it("when another user reads alice's tokens, then it is denied", async () => {
    await assertFails(getDoc(doc(env.authenticatedContext("bob").firestore(), "users/alice/oauth_tokens/spotify")));
  });
});
