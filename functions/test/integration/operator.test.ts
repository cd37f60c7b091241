/**
 * The operator view's callable over real HTTP against the emulators, and `npm run admin` as an
 * operator runs it (a child process, as in operator-commands.test.ts):
 *
 * - the admin claim is what opens the callable: an operator gets the overview, a signed-in person
 *   without the claim is refused with a sentence (permission-denied), nobody signed in is refused;
 * - the overview counts what was seeded (connections by provider × status, due now, pending
 *   tasks), lists the seeded error, pause, scheduled run and pending task, and nothing personal;
 * - lifting a pause works for an operator and is refused to anyone else (the pause stays);
 * - `--grant` sets the claim keeping the others, `--revoke` removes it and ends the sessions, so
 *   the operator's old token (which still carries the claim) is refused at once.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { auth, db } from "../../src/admin";
import { SESSION_ENDED } from "../../src/access/caller";
import { loadConfig } from "../../src/config";
import { newConnection } from "../../src/connections/model";
import { NOT_AN_OPERATOR, SIGN_IN } from "../../src/operator/actions";
import type { OperatorOverview } from "../../src/operator/overview";
import { type Provider, firestorePaths } from "../../src/paths";
import { slotStart } from "../../src/sync/ports";
import { EMULATORS, PROJECT_ID, REGION, ROOT } from "../../../scripts/lib/local-env";
import { forgetPeople, forgetPeopleWhere } from "../support/cleanup";

const FUNCTIONS = `http://${EMULATORS.functions.host}:${EMULATORS.functions.port}/${PROJECT_ID}/${REGION}`;
const AUTH_REST = `http://${EMULATORS.auth.host}:${EMULATORS.auth.port}/identitytoolkit.googleapis.com/v1`;
const PASSWORD = "correct horse battery";
const PREFIX = "opview-";

jest.setTimeout(180_000);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `npx tsx scripts/admin.ts …args` from the project root, as an operator would. */
function admin(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      "npx",
      ["tsx", "scripts/admin.ts", ...args],
      { cwd: ROOT, env: process.env, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") return reject(error);
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** An ID token from a real password sign-in (a new one carries the claims set since). */
async function signIn(email: string): Promise<string> {
  const res = await fetch(`${AUTH_REST}/accounts:signInWithPassword?key=any`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD, returnSecureToken: true }),
  });
  if (res.status !== 200) throw new Error(`Signing in ${email} answered ${res.status}.`);
  return ((await res.json()) as { idToken: string }).idToken;
}

async function person(kind: string): Promise<{ uid: string; email: string }> {
  const email = `${kind}-${randomUUID()}@example.test`;
  const user = await auth().createUser({ email, password: PASSWORD });
  return { uid: user.uid, email };
}

interface Answer {
  result?: unknown;
  error?: { status: string; message: string };
}

async function call(data: unknown, idToken?: string): Promise<Answer> {
  const res = await fetch(`${FUNCTIONS}/operator`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(idToken ? { Authorization: `Bearer ${idToken}` } : {}) },
    body: JSON.stringify({ data }),
  });
  return (await res.json()) as Answer;
}

async function overview(idToken: string): Promise<OperatorOverview> {
  const a = await call({ action: "overview" }, idToken);
  if (!a.result) throw new Error(`overview refused: ${JSON.stringify(a.error)}`);
  return a.result as OperatorOverview;
}

const config = loadConfig();
const pauseRef = () => db().doc(firestorePaths.providerState("spotify"));
const now = new Date();
const run = randomUUID().slice(0, 8);
const seeded = {
  error: `${PREFIX}err-${run}`,
  pending: `${PREFIX}pend-${run}`,
  connected: `${PREFIX}ok-${run}`,
};
// The overview lists the newest errors, runs and fan-out slots. Other test files' fake clocks leave
// runs, errors and pending tasks dated years ahead in the shared emulator, so the seeded ones are
// dated after any of them.
const newest = new Date(Date.UTC(2900, 0, 1) + Math.floor(Math.random() * 86_400_000));
const runStarted = new Date(newest.getTime() - 5 * 60_000);
const pendingSlot = new Date(slotStart(new Date(newest.getTime() - 3_600_000), config.SYNC_TICK_MINUTES));

async function seedConnection(uid: string, provider: Provider, fields: Record<string, unknown>): Promise<void> {
  await db()
    .doc(firestorePaths.connection(uid, provider))
    .set({
      ...newConnection({
        uid,
        provider,
        providerAccountId: `acct-${run}`,
        providerAccountName: "A Name Nobody Should See",
        scopes: [],
        now,
      }),
      ...fields,
    });
}

async function seed(): Promise<void> {
  await seedConnection(seeded.error, "spotify", {
    status: "error",
    nextSyncAt: Timestamp.fromMillis(now.getTime() - 60_000),
    consecutiveFailures: 2,
    lastError: { code: "transient", message: "Spotify answered 503.", at: Timestamp.fromDate(newest) },
  });
  await seedConnection(seeded.pending, "spotify", {
    nextSyncAt: Timestamp.fromMillis(now.getTime() + 3_600_000),
    pendingTask: { id: `task-${run}`, slot: pendingSlot.toISOString(), enqueuedAt: Timestamp.fromDate(pendingSlot) },
  });
  // Its last run was quiet (scheduled, nothing changed): no sync_runs row, counted on the connection.
  await seedConnection(seeded.connected, "instagram", {
    nextSyncAt: Timestamp.fromMillis(now.getTime() + 3_600_000),
    lastSyncAt: Timestamp.fromMillis(runStarted.getTime() + 800),
    quietRuns: 3,
  });
  await db()
    .doc(firestorePaths.syncRun(seeded.error, `run-${run}`))
    .set({
      runId: `run-${run}`,
      uid: seeded.error,
      provider: "spotify",
      reason: "scheduled",
      taskId: `task-${run}`,
      attempt: 1,
      startedAt: Timestamp.fromDate(runStarted),
      finishedAt: Timestamp.fromMillis(runStarted.getTime() + 1_500),
      ms: 1_500,
      outcome: "transient",
      willRetry: true,
      error: { code: "transient", message: "Spotify answered 503." },
      counts: {},
      requests: 3,
      tokenRefreshed: false,
      expiresAt: Timestamp.fromMillis(now.getTime() + 86_400_000),
    });
  await pauseRef().set({
    pausedUntil: Timestamp.fromMillis(now.getTime() + 2 * 3_600_000),
    reason: "Spotify asked this app to wait 7200 s",
    since: Timestamp.fromDate(now),
  });
}

let operator: { uid: string; email: string };
let someone: { uid: string; email: string };
let operatorToken = "";
let someoneToken = "";

beforeAll(async () => {
  operator = await person(`${PREFIX}admin`);
  someone = await person(`${PREFIX}user`);
  // Another claim that a grant and a revoke must keep.
  await auth().setCustomUserClaims(operator.uid, { plan: "team" });
  someoneToken = await signIn(someone.email);
});

afterAll(async () => {
  await pauseRef().delete();
  await forgetPeople([PREFIX]);
  await Promise.all(
    [operator, someone].filter(Boolean).map((p) =>
      auth()
        .deleteUser(p.uid)
        .catch(() => undefined),
    ),
  );
});

describe("npm run admin", () => {
  it("when the arguments are wrong, then it prints the usage and exits 2, changing nothing", async () => {
    for (const args of [
      [],
      ["--grant", operator.email, "--revoke", operator.email],
      ["--grant"],
      ["--frobnicate", "x"],
    ]) {
      const r = await admin(args);
      expect([args, r.code]).toEqual([args, 2]);
      expect(r.stdout).toBe("");
    }
    expect((await admin([])).stderr).toMatch(/usage: npm run admin -- \(--grant EMAIL \| --revoke EMAIL\)/);
    expect((await auth().getUser(operator.uid)).customClaims).toEqual({ plan: "team" });
  });

  it("when the email has no account, then it says so and exits 1", async () => {
    const email = `${PREFIX}nobody-${run}@example.test`;
    const r = await admin(["--grant", email]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`No account has the email ${email}`);
  });

  it("when --grant names a person, then their account gets admin: true beside their other claims, and it says what changed", async () => {
    const r = await admin(["--grant", operator.email]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      project: PROJECT_ID,
      email: operator.email,
      uid: operator.uid,
      admin: true,
      changed: true,
      otherClaims: ["plan"],
    });
    expect((await auth().getUser(operator.uid)).customClaims).toEqual({ plan: "team", admin: true });
    const again = JSON.parse((await admin(["--grant", operator.email])).stdout) as { changed: boolean };
    expect(again.changed).toBe(false);
    operatorToken = await signIn(operator.email);
  });
});

describe("the operator callable", () => {
  it("when nobody is signed in, then it is refused as unauthenticated", async () => {
    expect(await call({ action: "overview" })).toEqual({ error: { status: "UNAUTHENTICATED", message: SIGN_IN } });
  });

  it("when a signed-in person without the admin claim calls it, then it is refused with the sentence", async () => {
    expect(await call({ action: "overview" }, someoneToken)).toEqual({
      error: { status: "PERMISSION_DENIED", message: NOT_AN_OPERATOR },
    });
  });

  it("when an operator asks with an unknown action, then it answers invalid-argument with a sentence", async () => {
    expect(await call({ action: "dropEverything" }, operatorToken)).toMatchObject({
      error: { status: "INVALID_ARGUMENT", message: 'action must be "overview" or "liftPause".' },
    });
    expect(await call({ action: "liftPause", provider: "myspace" }, operatorToken)).toMatchObject({
      error: { status: "INVALID_ARGUMENT", message: expect.stringContaining("provider must be one of") },
    });
  });

  it("when an operator asks for the overview, then it counts and lists what was seeded, and nothing personal", async () => {
    // The overview counts the whole database. Other files' people stay in the shared emulators, and
    // tasks those files left in the queues (a fan-out enqueues every due connection) still sync
    // them, which moved the counts between the two reads below (a CI run saw pendingTasks −2). Only
    // this file's people stay; a task for a person who is gone changes nothing.
    const mine = new Set([operator.uid, someone.uid]);
    await forgetPeopleWhere((uid) => !uid.startsWith(PREFIX) && !mine.has(uid));
    const before = await overview(operatorToken);
    await seed();
    const after = await overview(operatorToken);

    const delta = (p: string, s: string) =>
      (after.connections.byProvider[p]?.[s] ?? 0) - (before.connections.byProvider[p]?.[s] ?? 0);
    expect([delta("spotify", "error"), delta("spotify", "connected"), delta("instagram", "connected")]).toEqual([
      1, 1, 1,
    ]);
    expect(after.connections.total - before.connections.total).toBe(3);

    const backlog = (o: OperatorOverview, p: string) => o.backlog.find((b) => b.provider === p)!;
    expect(backlog(after, "spotify").dueNow - backlog(before, "spotify").dueNow).toBe(1);
    expect(backlog(after, "spotify").pendingTasks - backlog(before, "spotify").pendingTasks).toBe(1);
    expect(backlog(after, "instagram").dueNow - backlog(before, "instagram").dueNow).toBe(0);

    const error = after.lastErrors.find((e) => e.uid === seeded.error);
    expect(error).toEqual({
      uid: seeded.error,
      provider: "spotify",
      status: "error",
      code: "transient",
      message: "Spotify answered 503.",
      at: newest.toISOString(),
    });

    const spotify = after.pauses.find((p) => p.provider === "spotify")!;
    expect(spotify.pause).toMatchObject({ reason: "Spotify asked this app to wait 7200 s", active: true });

    const ranIn = after.fanOuts.find(
      (f) => f.slot === new Date(slotStart(runStarted, config.SYNC_TICK_MINUTES)).toISOString(),
    );
    expect(ranIn?.runs).toBeGreaterThanOrEqual(1);
    expect(ranIn?.outcomes.transient).toBeGreaterThanOrEqual(1);
    expect(ranIn?.outcomes.unchanged).toBeGreaterThanOrEqual(1);
    expect(ranIn?.providers).toEqual(expect.arrayContaining(["instagram", "spotify"]));
    expect(after.fanOuts.find((f) => f.slot === pendingSlot.toISOString())?.pending).toBeGreaterThanOrEqual(1);

    const finished = after.recentRuns.map((r) => r.finishedAt ?? "");
    expect(finished).toEqual([...finished].sort().reverse());
    expect(after.recentRuns.find((r) => r.runId === `run-${run}`)).toMatchObject({
      uid: seeded.error,
      provider: "spotify",
      reason: "scheduled",
      outcome: "transient",
      attempt: 1,
      requests: 3,
      willRetry: true,
      error: { code: "transient", message: "Spotify answered 503." },
    });

    const text = JSON.stringify(after);
    expect(text).not.toContain("A Name Nobody Should See");
    expect(text).not.toContain(`acct-${run}`);
  });

  it("when a person without the claim tries to lift a pause, then it is refused and the pause stays", async () => {
    expect(await call({ action: "liftPause", provider: "spotify" }, someoneToken)).toEqual({
      error: { status: "PERMISSION_DENIED", message: NOT_AN_OPERATOR },
    });
    expect((await pauseRef().get()).exists).toBe(true);
  });

  it("when an operator lifts the Spotify pause, then it is gone, and lifting again says there was none", async () => {
    expect(await call({ action: "liftPause", provider: "spotify" }, operatorToken)).toEqual({
      result: { provider: "spotify", existed: true },
    });
    expect((await pauseRef().get()).exists).toBe(false);
    expect((await overview(operatorToken)).pauses.find((p) => p.provider === "spotify")?.pause).toBeNull();
    expect(await call({ action: "liftPause", provider: "spotify" }, operatorToken)).toEqual({
      result: { provider: "spotify", existed: false },
    });
  });
});

describe("npm run admin -- --revoke", () => {
  it("when an operator's claim is revoked, then the claim goes, the other claims stay, and their old token is refused", async () => {
    // Auth keeps revocation times in whole seconds: let a new second begin after the sign-in.
    await new Promise((r) => setTimeout(r, 1_100));
    const r = await admin(["--revoke", operator.email]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ admin: false, changed: true, sessionsRevoked: true });
    expect((await auth().getUser(operator.uid)).customClaims).toEqual({ plan: "team" });
    expect(await call({ action: "overview" }, operatorToken)).toEqual({
      error: { status: "UNAUTHENTICATED", message: SESSION_ENDED },
    });
    // Signing in again gives a token without the claim: refused as not an operator.
    expect(await call({ action: "overview" }, await signIn(operator.email))).toEqual({
      error: { status: "PERMISSION_DENIED", message: NOT_AN_OPERATOR },
    });
  });
});
