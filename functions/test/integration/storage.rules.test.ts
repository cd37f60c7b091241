/**
 * storage.rules against the Storage emulator — where it can evaluate rules.
 *
 * On machines without the Storage rules runtime (offline: the harness starts the Storage
 * emulator with rules disabled; see README "How tests run"), every rules-checked request is
 * refused whatever the rules say, so these tests cannot tell right rules from wrong ones. A
 * probe decides before the tests are collected, without changing the emulator's state (loading
 * rules into a rules-less emulator crashes it): an owner read of a missing object, which
 * storage.rules (loaded by the emulator from firebase.json) allows (→ 404) and a rules-less
 * emulator refuses (→ 403). When the probe fails, the reason is printed and the tests are
 * reported as skipped.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  assertFails,
  assertSucceeds,
  initializeTestEnvironment,
  type RulesTestEnvironment,
} from "@firebase/rules-unit-testing";
import { deleteObject, getBytes, listAll, ref, uploadBytes } from "firebase/storage";
import { EMULATORS, PROJECT_ID, ROOT } from "../../../scripts/lib/local-env";

const RULES = readFileSync(join(ROOT, "storage.rules"), "utf8");
const PROJECT = `demo-storage-rules-${Date.now()}`;
const BUCKET = `${PROJECT}.appspot.com`;

/** Runs the probe in a child process so its answer is known synchronously, at collection time. */
function probeStorageRules(): { ok: true } | { ok: false; reason: string } {
  const base = `http://${EMULATORS.storage.host}:${EMULATORS.storage.port}`;
  const script = `
    const [base, bucket, project] = process.argv.slice(1);
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const token = b64({ alg: "none", typ: "JWT" }) + "." + b64({ iss: "https://securetoken.google.com/" + project,
      aud: project, sub: "probe-owner", user_id: "probe-owner", iat: now, exp: now + 3600, auth_time: now,
      firebase: { sign_in_provider: "custom", identities: {} } }) + ".";
    fetch(base + "/v0/b/" + bucket + "/o/" + encodeURIComponent("probe-owner/missing.bin"),
      { headers: { authorization: "Bearer " + token } })
      .then((get) => console.log(JSON.stringify(get.status === 404 ? { ok: true } : { ok: false, reason:
        "an owner read that storage.rules allows was answered HTTP " + get.status + " (expected 404): this Storage " +
        "emulator is not evaluating rules (it runs without the Storage rules runtime here; see README, How tests run)" })))
      .catch((e) => console.log(JSON.stringify({ ok: false, reason: "the Storage emulator at " + base + " did not answer (" + e.message + ")" })));
  `;
  const r = spawnSync(process.execPath, ["-e", script, base, `${PROJECT_ID}.appspot.com`, PROJECT_ID], {
    encoding: "utf8",
    timeout: 30_000,
  });
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as { ok: true } | { ok: false; reason: string };
  } catch {
    return { ok: false, reason: `the probe failed to run (${(r.stderr || String(r.error)).slice(0, 200)})` };
  }
}

const probe = probeStorageRules();
if (!probe.ok) {
  // Written straight to stderr: jest drops console output of a suite whose tests are all skipped.
  process.stderr.write(`\n[storage.rules] tests SKIPPED: ${probe.reason}.\n\n`);
}
const describeIfRules = probe.ok ? describe : describe.skip;

describeIfRules("storage.rules", () => {
  let env: RulesTestEnvironment;
  const bytes = new Uint8Array([1, 2, 3]);

  beforeAll(async () => {
    env = await initializeTestEnvironment({
      projectId: PROJECT,
      storage: { host: EMULATORS.storage.host, port: EMULATORS.storage.port, rules: RULES },
    });
  });
  afterAll(async () => env?.cleanup());
  beforeEach(async () => {
    await env.clearStorage();
    await env.withSecurityRulesDisabled(async (ctx) => {
      const s = ctx.storage(`gs://${BUCKET}`);
      await uploadBytes(ref(s, "alice/spotify/playlists/p1.jpg"), bytes);
      await uploadBytes(ref(s, "alice/instagram/m1.jpg"), bytes);
      await uploadBytes(ref(s, "bob/instagram/m1.jpg"), bytes);
      await uploadBytes(ref(s, "shared/readme.txt"), bytes);
    });
  });

  const as = (uid: string | null) =>
    (uid ? env.authenticatedContext(uid) : env.unauthenticatedContext()).storage(`gs://${BUCKET}`);

  it("when the owner reads their cover and media, then it is allowed", async () => {
    await assertSucceeds(getBytes(ref(as("alice"), "alice/spotify/playlists/p1.jpg")));
    await assertSucceeds(getBytes(ref(as("alice"), "alice/instagram/m1.jpg")));
  });
  it("when the owner lists their own folder, then it is allowed", async () => {
    const list = await assertSucceeds(listAll(ref(as("alice"), "alice/instagram")));
    expect(list.items.map((i) => i.name)).toEqual(["m1.jpg"]);
  });
  it("when another user reads the owner's objects, then it is denied", async () => {
    await assertFails(getBytes(ref(as("bob"), "alice/instagram/m1.jpg")));
  });
  it("when a signed-out client reads an object, then it is denied", async () => {
    await assertFails(getBytes(ref(as(null), "alice/instagram/m1.jpg")));
  });
  it("when the owner uploads, overwrites or deletes in their own folder, then it is denied", async () => {
    await assertFails(uploadBytes(ref(as("alice"), "alice/instagram/new.jpg"), bytes));
    await assertFails(uploadBytes(ref(as("alice"), "alice/instagram/m1.jpg"), bytes));
    await assertFails(deleteObject(ref(as("alice"), "alice/instagram/m1.jpg")));
  });
  it("when a user writes into another user's folder, then it is denied", async () => {
    await assertFails(uploadBytes(ref(as("bob"), "alice/instagram/evil.jpg"), bytes));
  });
  it("when a signed-in user reads an object outside their folder, then it is denied", async () => {
    await assertFails(getBytes(ref(as("alice"), "shared/readme.txt")));
  });
});

if (!probe.ok) {
  // Keeps the file a valid suite and makes the skip visible in the summary with its reason.
  describe("storage.rules (skipped on this machine)", () => {
    it.skip(`reason: ${probe.reason}`, () => undefined);
  });
}
