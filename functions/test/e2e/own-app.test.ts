/**
 * A person's own Spotify app in the web app, in a real browser against the local system
 * (emulators with `SPOTIFY_APPS=both`, and the fake provider server): the Connections card's
 * guided steps with the exact redirect URI, a wrong secret refused in the server's words with
 * nothing saved, the right pair saved (and the secret never shown again), connecting through the
 * fake's consent page as that app, and the first sync's playlists on the dashboard. The own app is
 * made on the fake over its control API, the way a person makes one at Spotify's dashboard.
 * Screenshots go to test-results/screenshots/own-app-*.png.
 *
 * The steps share one person (a story), so they run in order in this one file.
 */
import { randomUUID } from "node:crypto";
import { deleteApp, getApps } from "firebase-admin/app";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { auth, db } from "../../src/admin";
import { firestorePaths } from "../../src/paths";
import { collectPolicyViolations, launchBrowser, screenshot } from "../support/browser";
import { APP, card, connectThroughConsent, control, countReaches, signUp } from "../support/app-pages";
import { connectSyncsFinished } from "../support/first-sync";

const run = randomUUID().slice(0, 8);
const carol = { email: `carol-own-${run}@e2e.test`, uid: "" };
const PLAYLISTS = 4;
/** The redirect URI of Spotify locally (`${OAUTH_REDIRECT_URI}/spotify`), what the person adds to their app. */
const REDIRECT_URI = "http://127.0.0.1:5002/api/oauth/callback/spotify";

jest.setTimeout(180_000);

let browser: Browser;
let context: BrowserContext;
let page: Page;
/** What the browser refused because of the app's CSP or Permissions-Policy (must stay empty). */
let violations: string[] = [];
let account = "";
let ownApp = { clientId: "", clientSecret: "" };

const spotify = () => card(page, "spotify");
const section = () => spotify().locator("[data-role=own-app]");

beforeAll(async () => {
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: APP });
  violations = await collectPolicyViolations(context);
  page = await context.newPage();
  account = String(
    (
      await control("addAccount", {
        provider: "spotify",
        spec: { id: `e2e-own-${run}`, displayName: `carol.spotify.${run}`, playlists: PLAYLISTS },
      })
    ).id,
  );
  const made = await control("createApp", {
    provider: "spotify",
    spec: { name: `Carol's metrics ${run}`, redirectUris: [REDIRECT_URI], users: [account] },
  });
  ownApp = { clientId: String(made.clientId), clientSecret: String(made.clientSecret) };
  expect(ownApp.clientId).toMatch(/^[0-9a-f]{32}$/);
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

describe("a person's own Spotify app, in a browser, against the local system", () => {
  it("when a person opens Connections, then the Spotify card guides them to make an app, with the exact redirect URI to copy, and offers both connects", async () => {
    await signUp(page, carol.email);
    carol.uid = (await auth().getUserByEmail(carol.email)).uid;
    await page.goto(`${APP}/#/connections`);
    await section().waitFor();
    await expect(section().locator("h3").textContent()).resolves.toBe("Your own Spotify app");
    const steps = section().locator("[data-role=own-app-steps]");
    await expect(steps.locator("a[href='https://developer.spotify.com/dashboard']").count()).resolves.toBe(1);
    await expect(steps.textContent()).resolves.toMatch(/Web API.*User Management.*Client ID.*Client secret/s);
    await expect(section().locator("code[data-role=redirect-uri]").textContent()).resolves.toBe(REDIRECT_URI);
    await section().locator("button[data-action=copy-redirect-uri]").click();
    await section().locator("[data-role=copy-result]:text-is('Copied.')").waitFor();
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(REDIRECT_URI);
    // Labelled fields; the secret is a password field.
    await expect(section().getByLabel("Client ID").getAttribute("name")).resolves.toBe("clientId");
    await expect(section().getByLabel("Client secret").getAttribute("type")).resolves.toBe("password");
    // Both apps are offered (SPOTIFY_APPS=both); the own one waits for a saved app.
    const shared = spotify().locator("button[data-action=connect]");
    const own = spotify().locator("button[data-action=connect-own]");
    await expect(shared.textContent()).resolves.toBe("Connect with the app of this site");
    await expect(own.textContent()).resolves.toBe("Connect with my own app");
    await expect(own.isDisabled()).resolves.toBe(true);
    await expect(spotify().locator("[data-role=connect-own-blocked]").textContent()).resolves.toContain(
      "save it below first",
    );
    await screenshot(page, "own-app-01-guide");
  });

  it("when they save a wrong secret, then the server's sentence is shown and nothing is saved", async () => {
    await section().getByLabel("Client ID").fill(ownApp.clientId);
    await section().getByLabel("Client secret").fill(`not-${ownApp.clientSecret}`);
    await section().locator("button[data-action=save-app]").click();
    const result = section().locator("[data-role=own-app-result].error");
    await result.waitFor();
    await expect(result.textContent()).resolves.toMatch(/^Spotify refused this client id and secret/i);
    await expect(result.getAttribute("aria-live")).resolves.toBe("polite");
    expect(await section().locator("[data-role=own-app-saved]").count()).toBe(0);
    await screenshot(page, "own-app-02-wrong-secret");
    // Nothing stored: not in Firestore, and a fresh page still asks for the app.
    expect((await db().doc(firestorePaths.providerApp(carol.uid, "spotify")).get()).exists).toBe(false);
    await page.reload();
    await section().locator("[data-role=own-app-form]").waitFor();
    expect(await section().locator("[data-role=own-app-saved]").count()).toBe(0);
    await expect(spotify().locator("button[data-action=connect-own]").isDisabled()).resolves.toBe(true);
  });

  it("when they save the right pair, then the card says the app is saved, never shows the secret again, and the own-app connect is enabled", async () => {
    await section().getByLabel("Client ID").fill(ownApp.clientId);
    await section().getByLabel("Client secret").fill(ownApp.clientSecret);
    await section().locator("button[data-action=save-app]").click();
    const saved = section().locator("[data-role=own-app-saved]");
    await saved.waitFor();
    await expect(saved.textContent()).resolves.toBe(
      `Your app ${ownApp.clientId} is saved. The secret is stored encrypted and is never shown again.`,
    );
    await expect(section().locator("[data-role=own-app-result]").textContent()).resolves.toContain("Saved");
    await expect(section().locator("button[data-action=replace-app]").textContent()).resolves.toBe("Replace");
    await expect(section().locator("button[data-action=remove-app]").textContent()).resolves.toBe("Remove");
    expect(await section().locator("input[name=clientSecret]").count()).toBe(0);
    expect(await page.content()).not.toContain(ownApp.clientSecret);
    await expect(spotify().locator("button[data-action=connect-own]").isDisabled()).resolves.toBe(false);
    await expect(spotify().locator("[data-role=redirect-hint]").textContent()).resolves.toBe(
      `If Spotify shows “INVALID_CLIENT: Invalid redirect URI”, add exactly ${REDIRECT_URI} to your app's Redirect URIs and Save there.`,
    );
    await screenshot(page, "own-app-03-saved");
    // Kept by the server: a fresh page says the same.
    await page.reload();
    await expect(saved.textContent()).resolves.toContain(`Your app ${ownApp.clientId} is saved.`);
    expect(await page.content()).not.toContain(ownApp.clientSecret);
  });

  it("when they connect with their own app through the fake consent page, then the card reads Connected through that app", async () => {
    await connectThroughConsent(page, "spotify", account, "own-app-04-consent", "connect-own");
    await page.waitForSelector("[data-role=flash]:has-text('Spotify is connected')");
    await page.waitForSelector("section.connection[data-provider=spotify] [data-role=status]:text-is('Connected')");
    const conn = await db().doc(firestorePaths.connection(carol.uid, "spotify")).get();
    expect(conn.get("providerAccountId")).toBe(account);
    expect(conn.get("app")).toEqual({ clientId: ownApp.clientId });
    await expect(spotify().locator("[data-role=which-app]").textContent()).resolves.toBe(
      `Through your own app ${ownApp.clientId}.`,
    );
    await screenshot(page, "own-app-05-connected");
  });

  it("when the first sync (made as their app) finishes, then the dashboard shows their playlists", async () => {
    const runs = await connectSyncsFinished(carol.uid, "spotify", { timeoutMs: 60_000 });
    expect(runs.map((r) => [r.reason, r.outcome])).toEqual([["connect", "success"]]);
    await page.goto(`${APP}/#/dashboard`);
    const tiles = page.locator("[data-section=playlists] li.tile");
    expect(await countReaches(tiles, PLAYLISTS, 60_000)).toBe(PLAYLISTS);
    await screenshot(page, "own-app-06-dashboard");
  });
});
