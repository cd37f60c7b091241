/**
 * The web app in a real browser against the local system (emulators + fake providers), the way
 * a person uses it: sign up, connect Spotify through the fake consent page, see playlists with
 * covers after the first sync (which connecting starts; no fan-out involved), see Instagram
 * media, Sync now and its cooldown, a second person who cannot see the first one's data,
 * disconnect. Screenshots of each page go to test-results/screenshots/.
 *
 * The steps share one person (a story), so they run in order in this one file.
 */
import { randomUUID } from "node:crypto";
import { deleteApp, getApps } from "firebase-admin/app";
import { FieldValue } from "firebase-admin/firestore";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { auth, db } from "../../src/admin";
import { firestorePaths, storagePaths } from "../../src/paths";
import { EMULATORS, PROJECT_ID } from "../../../scripts/lib/local-env";
import { collectPolicyViolations, launchBrowser, screenshot } from "../support/browser";
import {
  APP,
  PASSWORD,
  card,
  connectThroughConsent,
  control,
  countReaches,
  mediaLoadedReaches,
  signUp,
  valueReaches,
} from "../support/app-pages";
import { connectSyncsFinished } from "../support/first-sync";

const run = randomUUID().slice(0, 8);
const alice = { email: `alice-${run}@e2e.test`, uid: "" };
const bob = { email: `bob-${run}@e2e.test`, uid: "" };
const SPOTIFY_PLAYLISTS = 7;
const INSTAGRAM_MEDIA = 5;

// Syncs and page loads take seconds; jest's project-level testTimeout does not apply per file.
jest.setTimeout(180_000);

let browser: Browser;
let aliceContext: BrowserContext;
let page: Page;
/** What the browser refused because of the app's CSP or Permissions-Policy, in any page (must stay empty). */
let violations: string[] = [];
let spotifyAccount = "";
let instagramAccount = "";

/** An ID token for email+password from the Auth emulator (what the app's SDK would hold). */
async function idToken(email: string): Promise<string> {
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

/**
 * The sync_runs rows of `provider` once the first sync that connecting started has finished. The
 * dashboard re-renders a section when its connection changes, so the test uses it only after.
 */
const firstSyncFinished = (uid: string, provider: "spotify" | "instagram") =>
  connectSyncsFinished(uid, provider, { timeoutMs: 60_000 });

beforeAll(async () => {
  browser = await launchBrowser();
  aliceContext = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  violations = await collectPolicyViolations(aliceContext);
  page = await aliceContext.newPage();
  spotifyAccount = String(
    (
      await control("addAccount", {
        provider: "spotify",
        spec: { id: `e2e-sp-${run}`, displayName: `alice.spotify.${run}`, playlists: SPOTIFY_PLAYLISTS },
      })
    ).id,
  );
  instagramAccount = String(
    (
      await control("addAccount", {
        provider: "instagram",
        spec: { id: `e2e-ig-${run}`, displayName: `alice.ig.${run}`, media: INSTAGRAM_MEDIA, carousels: false },
      })
    ).id,
  );
});

// Chromium enforces the CSP Hosting sends (firebase.json): anything it blocks fails the step.
afterEach(() => {
  const found = violations.splice(0);
  expect(found).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(getApps().map((a) => deleteApp(a))); // let jest exit: no open Firestore channel
});

describe("the web app, in a browser, against the local system", () => {
  it("when a person signs up, then they land on an empty dashboard that tells them what to do", async () => {
    await page.goto(`${APP}/#/signin`);
    await page.waitForSelector("form.auth");
    await screenshot(page, "01-sign-in");
    await page.goto(`${APP}/#/signup`);
    await page.waitForSelector("form.auth h1:text('Create your account')");
    await screenshot(page, "02-sign-up");
    await signUp(page, alice.email);
    await page.waitForSelector("text=Nothing synced yet.");
    expect(await page.locator("[data-role=who]").textContent()).toBe(alice.email);
    alice.uid = (await auth().getUserByEmail(alice.email)).uid;
    await screenshot(page, "03-dashboard-empty");
  });

  it("when they connect Spotify through the fake consent page, then Spotify reads Connected", async () => {
    await page.goto(`${APP}/#/connections`);
    await expect(card(page, "spotify").locator("[data-role=status]").textContent()).resolves.toBe("Not connected");
    await screenshot(page, "04-connections-empty");
    await connectThroughConsent(page, "spotify", spotifyAccount, "05-consent-spotify");
    await page.waitForSelector("[data-role=flash]:has-text('Spotify is connected')");
    await page.waitForSelector("section.connection[data-provider=spotify] [data-role=status]:text-is('Connected')");
    const conn = await db().doc(firestorePaths.connection(alice.uid, "spotify")).get();
    expect(conn.get("providerAccountId")).toBe(spotifyAccount);
    await screenshot(page, "06-connections-spotify");
  });

  it("when the first sync (started by connecting) finishes, then the dashboard shows every playlist and every cover the sync mirrored", async () => {
    // The data came from the sync the callback started, not from a fan-out.
    const runs = await firstSyncFinished(alice.uid, "spotify");
    expect(runs.map((r) => [r.reason, r.outcome])).toEqual([["connect", "success"]]);
    await page.goto(`${APP}/#/dashboard`);
    const tiles = page.locator("[data-section=playlists] li.tile");
    expect(await countReaches(tiles, SPOTIFY_PLAYLISTS, 60_000)).toBe(SPOTIFY_PLAYLISTS);
    // The fake gives about one playlist in ten no cover (its account seed differs each run): every
    // cover the sync mirrored must show, as many as the connection counts.
    const mirrored = Number(
      (await db().doc(firestorePaths.connection(alice.uid, "spotify")).get()).get("counts.mirror"),
    );
    expect(mirrored).toBeGreaterThan(0);
    expect(mirrored).toBeLessThanOrEqual(SPOTIFY_PLAYLISTS);
    const covers = page.locator("[data-section=playlists] img[src^='blob:']");
    expect(await mediaLoadedReaches(page, "playlists", mirrored, 30_000)).toBe(mirrored);
    // Decoding is asynchronous, and a re-render replaces the element: poll until one has decoded.
    const decoded = () => covers.first().evaluate((img) => (img as HTMLImageElement).naturalWidth > 0);
    expect(await valueReaches(decoded, true, 10_000)).toBe(true);
    // Top lists follow the time-range switch.
    await page.click("[data-section=top] button[data-range=long_term]");
    await expect(
      page.locator("[data-section=top] button[data-range=long_term]").getAttribute("aria-checked"),
    ).resolves.toBe("true");
    expect(await page.locator("[data-section=top] ol.rank li").count()).toBeGreaterThan(0);
    expect(await page.locator("[data-section=recent] li").count()).toBeGreaterThan(0);
    await page.waitForSelector("[data-section=history] tbody tr");
    await expect(page.locator("[data-section=history] p.quiet-runs").count()).resolves.toBe(0);
    // Scheduled syncs that find nothing new write no sync_runs row; the connection counts them
    // (sync-mirror.test.ts runs them), and the history says so.
    const spotifyRef = db().doc(firestorePaths.connection(alice.uid, "spotify"));
    await spotifyRef.update({ quietRuns: 2 });
    await page.waitForSelector(
      "[data-section=history] p.quiet-runs:has-text('Spotify: 2 more syncs since found nothing new, the last at')",
    );
    await spotifyRef.update({ quietRuns: FieldValue.delete() });
    await screenshot(page, "07-dashboard-spotify");
  });

  it("when Instagram is connected and synced, then the media grid shows the mirrored images", async () => {
    await connectThroughConsent(page, "instagram", instagramAccount, "08-consent-instagram");
    await page.waitForSelector("section.connection[data-provider=instagram] [data-role=status]:text-is('Connected')");
    expect((await firstSyncFinished(alice.uid, "instagram")).map((r) => [r.reason, r.outcome])).toEqual([
      ["connect", "success"],
    ]);
    await page.goto(`${APP}/#/dashboard`);
    const tiles = page.locator("[data-section=instagram] li.tile");
    expect(await countReaches(tiles, INSTAGRAM_MEDIA, 60_000)).toBe(INSTAGRAM_MEDIA);
    // Scrolled by the page, not through element handles: a live listener may still replace the
    // section while it loads (seen once as "Element is not attached to the DOM").
    expect(await mediaLoadedReaches(page, "instagram", INSTAGRAM_MEDIA, 30_000)).toBe(INSTAGRAM_MEDIA);
    await screenshot(page, "09-dashboard-instagram");
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, "dashboard-viewport", { fullPage: false }); // the README's picture
  });

  it("when they press Sync now twice, then the first starts a sync and the second is refused with the time it is allowed again", async () => {
    await page.goto(`${APP}/#/connections`);
    const spotify = card(page, "spotify");
    // The first press straddles a live update of the card (the connection document changes while
    // the button is held down): the rebuild waits for the release, so the click still counts.
    const ready = spotify.locator("button[data-action=sync]:not([disabled])");
    await ready.scrollIntoViewIfNeeded();
    const box = (await ready.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await db()
      .doc(firestorePaths.connection(alice.uid, "spotify"))
      .update({ providerAccountName: `alice.spotify.${run} (renamed)` });
    await page.locator("div.cards[aria-busy=true]").waitFor({ timeout: 10_000 });
    await page.mouse.up();
    await spotify.locator("[data-role=note]:has-text('Sync started')").waitFor();
    // The held rebuild ran after the click (the sync started now rewrites the name soon after).
    await expect(page.locator("div.cards[aria-busy]").count()).resolves.toBe(0);
    await expect(spotify.locator("button[data-action=sync]").isDisabled()).resolves.toBe(true);
    await expect(spotify.locator("[data-role=cooldown]").textContent()).resolves.toMatch(/possible again/);
    // A fresh page forgets the client-side cooldown; the server still refuses.
    await page.reload();
    await spotify.locator("button[data-action=sync]:not([disabled])").click();
    await spotify.locator("[data-role=cooldown]").waitFor();
    await expect(spotify.locator("[data-role=cooldown]").textContent()).resolves.toMatch(
      /requested a moment ago.*possible again/,
    );
    await expect(spotify.locator("button[data-action=sync]").isDisabled()).resolves.toBe(true);
    await screenshot(page, "10-connections-cooldown");
  });

  it("when a second person signs in, then they see none of the first one's data, and the server refuses them", async () => {
    const bobContext = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const bobViolations = await collectPolicyViolations(bobContext);
    const bobPage = await bobContext.newPage();
    await signUp(bobPage, bob.email);
    await bobPage.waitForSelector("text=Nothing synced yet.");
    expect(await bobPage.locator("[data-playlist]").count()).toBe(0);
    await bobPage.goto(`${APP}/#/connections`);
    await expect(card(bobPage, "spotify").locator("[data-role=status]").textContent()).resolves.toBe("Not connected");
    await screenshot(bobPage, "11-second-person");
    await bobContext.close();
    expect(bobViolations).toEqual([]);

    const playlistId = await page
      .goto(`${APP}/#/dashboard`)
      .then(() => page.locator("[data-playlist]").first().getAttribute("data-playlist"));
    const cover = `${APP}/api/media/${storagePaths.mirrorObject(alice.uid, "spotify", playlistId!, "jpg")}`;
    const snapshot = `http://${EMULATORS.firestore.host}:${EMULATORS.firestore.port}/v1/projects/${PROJECT_ID}/databases/(default)/documents/${firestorePaths.snapshot(alice.uid, "spotify", "playlists")}`;
    const [aliceToken, bobToken] = [await idToken(alice.email), await idToken(bob.email)];
    const as = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
    // The owner gets both (so the refusals below are about who asks, not about a broken path).
    expect((await fetch(cover, as(aliceToken))).status).toBe(200);
    expect((await fetch(snapshot, as(aliceToken))).status).toBe(200);
    expect((await fetch(cover, as(bobToken))).status).toBe(403);
    expect((await fetch(snapshot, as(bobToken))).status).toBe(403);
    expect((await fetch(cover)).status).toBe(401);
  });

  it("when they disconnect Spotify and choose to delete the data, then it reads Not connected and the playlists are gone", async () => {
    await page.goto(`${APP}/#/connections`);
    const spotify = card(page, "spotify");
    await spotify.locator("button[data-action=disconnect]").click();
    await spotify.locator("input[name=deleteData]").check();
    // The page rebuilds its cards every 10 s (and when the own-app section loads): the choice must survive that.
    await page.waitForTimeout(10_500);
    expect(await card(page, "spotify").locator("input[name=deleteData]").isChecked()).toBe(true);
    await screenshot(page, "12-disconnect-confirm");
    await spotify.locator("button[data-action=confirm-disconnect]").click();
    await page.waitForSelector("section.connection[data-provider=spotify] [data-role=status]:text-is('Not connected')");
    await expect(card(page, "spotify").locator("[data-role=note]").textContent()).resolves.toContain("deleted");
    await screenshot(page, "13-connections-disconnected");
    expect(
      (
        await db()
          .doc(firestorePaths.snapshot(alice.uid, "spotify", "playlists"))
          .get()
      ).exists,
    ).toBe(false);
    await page.goto(`${APP}/#/dashboard`);
    await page.waitForSelector("[data-section=playlists] >> text=Connect Spotify to see your playlists here.");
    expect(await page.locator("[data-playlist]").count()).toBe(0);
    // Instagram is untouched.
    expect(await page.locator("[data-section=instagram] li.tile").count()).toBe(INSTAGRAM_MEDIA);
    await screenshot(page, "14-dashboard-after-disconnect");
  });

  it("when they sign out, then the app returns to the sign-in page", async () => {
    await page.click("button[data-action=signout]");
    await page.waitForURL(/#\/signin$/);
    await page.waitForSelector("form.auth");
  });
});
