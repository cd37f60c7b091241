/**
 * The Operator view in a real browser against the local system. An operator signs up, is given the
 * admin claim with `npm run admin -- --grant` (the command, as an operator runs it), signs in again
 * and sees the view with what the database holds: a connection whose last sync failed, a Spotify
 * pause, a scheduled run. They lift the pause through the confirmation and it is gone. A second
 * person, without the claim, sees no Operator link, is sent away from `#/operator`, and a direct
 * call of the callable from their page is refused with the sentence.
 *
 * One story, so the steps run in order in this one file.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { deleteApp, getApps } from "firebase-admin/app";
import { Timestamp } from "firebase-admin/firestore";
import type { Browser, Page } from "playwright-core";
import { auth, db } from "../../src/admin";
import { newConnection } from "../../src/connections/model";
import { NOT_AN_OPERATOR } from "../../src/operator/actions";
import { firestorePaths } from "../../src/paths";
import { EMULATORS, PROJECT_ID, REGION, ROOT } from "../../../scripts/lib/local-env";
import { collectPolicyViolations, launchBrowser, screenshot } from "../support/browser";
import { APP, PASSWORD, signUp, valueReaches } from "../support/app-pages";

jest.setTimeout(240_000);

const run = randomUUID().slice(0, 8);
const operator = { email: `ops-${run}@e2e.test`, uid: "" };
const someone = { email: `someone-${run}@e2e.test`, uid: "" };
/** A person of the app whose Spotify sync keeps failing (seeded: no browser needed for them). */
const failing = `e2e-ops-failing-${run}`;
const ERROR_MESSAGE = `Spotify answered 503 (${run}).`;
const PAUSE_REASON = `Spotify asked this app to wait 7200 s (${run})`;
const FUNCTIONS = `http://${EMULATORS.functions.host}:${EMULATORS.functions.port}/${PROJECT_ID}/${REGION}`;

let browser: Browser;
let page: Page;
let violations: string[] = [];
const pauseRef = () => db().doc(firestorePaths.providerState("spotify"));

/** `npx tsx scripts/admin.ts …`, as an operator runs it; its stdout parsed. */
function adminCommand(args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      "npx",
      ["tsx", "scripts/admin.ts", ...args],
      { cwd: ROOT, env: process.env, timeout: 120_000 },
      (e, out, err) =>
        e
          ? reject(new Error(`admin ${args.join(" ")} failed: ${err}`))
          : resolve(JSON.parse(out) as Record<string, unknown>),
    );
  });
}

/** An ID token for email + PASSWORD from the Auth emulator (what the app's SDK holds). */
async function tokenOf(email: string): Promise<string> {
  const res = await fetch(
    `http://${EMULATORS.auth.host}:${EMULATORS.auth.port}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo-api-key`,
    {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, password: PASSWORD, returnSecureToken: true }),
    },
  );
  const json = (await res.json()) as { idToken?: string };
  if (!json.idToken) throw new Error(`no ID token for ${email}: ${JSON.stringify(json)}`);
  return json.idToken;
}

async function signIn(p: Page, email: string): Promise<void> {
  await p.goto(`${APP}/#/signin`);
  await p.fill("input[name=email]", email);
  await p.fill("input[name=password]", PASSWORD);
  await p.click("button[type=submit]");
  await p.waitForURL(/#\/dashboard$/);
}

beforeAll(async () => {
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1300, height: 900 } });
  violations = await collectPolicyViolations(context);
  page = await context.newPage();

  const now = new Date();
  // Not due (its error backoff runs an hour), so the local system's fan-out leaves it alone.
  await db()
    .doc(firestorePaths.connection(failing, "spotify"))
    .set({
      ...newConnection({
        uid: failing,
        provider: "spotify",
        providerAccountId: `acct-${run}`,
        providerAccountName: `Private Name ${run}`,
        scopes: [],
        now,
      }),
      status: "error",
      nextSyncAt: Timestamp.fromMillis(now.getTime() + 3_600_000),
      consecutiveFailures: 3,
      lastError: { code: "transient", message: ERROR_MESSAGE, at: Timestamp.fromDate(now) },
    });
  await db()
    .doc(firestorePaths.syncRun(failing, `run-${run}`))
    .set({
      runId: `run-${run}`,
      uid: failing,
      provider: "spotify",
      reason: "scheduled",
      attempt: 3,
      startedAt: Timestamp.fromMillis(now.getTime() - 2_000),
      finishedAt: Timestamp.fromDate(now),
      ms: 2_000,
      outcome: "transient",
      willRetry: false,
      error: { code: "transient", message: ERROR_MESSAGE },
      requests: 4,
      expiresAt: Timestamp.fromMillis(now.getTime() + 86_400_000),
    });
  await pauseRef().set({
    pausedUntil: Timestamp.fromMillis(now.getTime() + 2 * 3_600_000),
    reason: PAUSE_REASON,
    since: Timestamp.fromDate(now),
  });
});

afterEach(() => {
  expect(violations.splice(0)).toEqual([]);
});

afterAll(async () => {
  await pauseRef().delete();
  await db().recursiveDelete(db().doc(firestorePaths.user(failing)));
  await browser?.close();
  await Promise.all(getApps().map((a) => deleteApp(a)));
});

describe("the Operator view, in a browser, against the local system", () => {
  it("when a person is made an operator with npm run admin and signs in again, then the Operator link appears", async () => {
    await signUp(page, operator.email);
    operator.uid = (await auth().getUserByEmail(operator.email)).uid;
    await page.waitForSelector("[data-role=who]");
    expect(await page.locator("nav a[href='#/operator']").count()).toBe(0);

    expect(await adminCommand(["--grant", operator.email])).toMatchObject({
      uid: operator.uid,
      admin: true,
      changed: true,
    });
    expect((await auth().getUser(operator.uid)).customClaims).toEqual({ admin: true });

    await page.click("button[data-action=signout]");
    await page.waitForURL(/#\/signin$/);
    await signIn(page, operator.email);
    await page.locator("nav a[href='#/operator']").waitFor({ timeout: 15_000 });
  });

  it("when the operator opens it, then each section shows what the database holds", async () => {
    await page.click("nav a[href='#/operator']");
    await page.waitForURL(/#\/operator$/);
    await page.waitForSelector("[data-view=operator] [data-section=op-errors]", { timeout: 60_000 });

    const counts = await page
      .locator("[data-section=op-connections] tr[data-provider=spotify] td[data-status=error]")
      .textContent();
    const stored = (
      await db()
        .collectionGroup("connections")
        .where("provider", "==", "spotify")
        .where("status", "==", "error")
        .count()
        .get()
    ).data().count;
    expect(Number(counts)).toBe(stored);
    expect(stored).toBeGreaterThanOrEqual(1);

    const error = page.locator(`[data-section=op-errors] tr[data-uid="${failing}"]`);
    await expect(error.locator("[data-role=message]").textContent()).resolves.toBe(ERROR_MESSAGE);
    await expect(error.locator("[data-role=code]").textContent()).resolves.toBe("transient");

    const pause = page.locator("[data-section=op-pauses] tr[data-provider=spotify]:not([data-client-id])");
    await expect(pause.getAttribute("data-active")).resolves.toBe("true");
    await expect(pause.textContent()).resolves.toContain(PAUSE_REASON);

    await expect(page.locator(`[data-section=op-runs] tr[data-run="run-${run}"]`).textContent()).resolves.toContain(
      ERROR_MESSAGE,
    );
    expect(await page.locator("[data-section=op-fanouts] tr[data-slot]").count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator("[data-section=op-backlog] tr[data-provider=spotify]").count()).toBe(1);
    // A uid and a provider, never the account's name.
    await expect(page.locator("[data-view=operator]").textContent()).resolves.not.toContain(`Private Name ${run}`);
    await screenshot(page, "op01-operator-view");
  });

  it("when the operator lifts the Spotify pause and confirms, then the pause is gone and the view says so", async () => {
    const pause = () => page.locator("[data-section=op-pauses] tr[data-provider=spotify]:not([data-client-id])");
    await pause().locator("button[data-action=lift-pause]").click();
    await expect(pause().locator(".confirm").textContent()).resolves.toContain("Lift the Spotify pause?");
    expect((await pauseRef().get()).exists).toBe(true);
    await screenshot(page, "op02-lift-confirm");
    await pause().locator("button[data-action=confirm-lift]").click();
    await page.locator("[data-role=operator-note]").waitFor({ timeout: 30_000 });
    await expect(page.locator("[data-role=operator-note]").textContent()).resolves.toBe(
      "Lifted the Spotify pause: its next sync calls Spotify again.",
    );
    expect((await pauseRef().get()).exists).toBe(false);
    expect(await valueReaches(() => pause().count(), 0, 30_000)).toBe(0);
  });

  it("when a person without the claim signs in, then there is no Operator link, #/operator sends them to the dashboard, and the callable refuses them", async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const seen = await collectPolicyViolations(context);
    const other = await context.newPage();
    await signUp(other, someone.email);
    someone.uid = (await auth().getUserByEmail(someone.email)).uid;
    await other.waitForSelector("[data-role=who]");
    await other.goto(`${APP}/#/operator`);
    await other.waitForURL(/#\/dashboard$/, { timeout: 15_000 });
    expect(await other.locator("nav a[href='#/operator']").count()).toBe(0);
    expect(await other.locator("[data-view=operator]").count()).toBe(0);

    // Straight to the callable, from their page, with an ID token of their own.
    const idToken = await tokenOf(someone.email);
    expect(idToken).not.toBe("");
    const answer = await other.evaluate(
      async ([url, token]) => {
        const res = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
          body: JSON.stringify({ data: { action: "liftPause", provider: "spotify" } }),
        });
        return { status: res.status, body: (await res.json()) as unknown };
      },
      [`${FUNCTIONS}/operator`, idToken] as const,
    );
    expect(answer).toEqual({ status: 403, body: { error: { status: "PERMISSION_DENIED", message: NOT_AN_OPERATOR } } });
    await screenshot(other, "op03-not-an-operator");
    expect(seen).toEqual([]);
    await context.close();
  });
});
