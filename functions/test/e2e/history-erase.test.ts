/**
 * "Delete history…" in a real browser against the local system: a person connects Spotify on the
 * fake, which has played a known set of tracks; on the dashboard they delete their most played
 * artist; the confirmation counts that artist's plays in words, the result says how many went, the
 * artist leaves the top artists list (the charts follow their live queries), the log holds no play
 * of it, the aggregates equal a rebuild, and the next sync does not log the deleted plays again.
 */
import { randomUUID } from "node:crypto";
import { deleteApp, getApps } from "firebase-admin/app";
import type { Browser, Page } from "playwright-core";
import { auth, db } from "../../src/admin";
import { rebuildStats } from "../../src/history/rebuild";
import { firestorePaths } from "../../src/paths";
import { APP, card, connectThroughConsent, control, countReaches, signUp } from "../support/app-pages";
import { collectPolicyViolations, launchBrowser, screenshot } from "../support/browser";
import { connectSyncsFinished } from "../support/first-sync";
import { waitFor } from "../support/wait";

jest.setTimeout(240_000);

const run = randomUUID().slice(0, 8);
const email = `erase-${run}@e2e.test`;
const HOUR = 3_600_000;
const KEYS = ["1", "1", "2", "1", "3", "2", "4", "1", "5", "2"];

interface FakePlay {
  playedAt: string;
  trackId: string;
  artists: { id: string; name: string }[];
}

let browser: Browser;
let page: Page;
let violations: string[] = [];
let account = "";
let uid = "";
let plays: FakePlay[] = [];

const topArtists = "[data-section=top-range] table[data-kind=artists] tbody tr";
const playDocs = async () => (await db().collection(firestorePaths.plays(uid)).get()).docs;

beforeAll(async () => {
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  violations = await collectPolicyViolations(context);
  page = await context.newPage();
  account = String(
    (
      await control("addAccount", {
        provider: "spotify",
        spec: { id: `e2e-erase-${run}`, displayName: `erase.${run}`, playlists: 1, recentlyPlayed: 0 },
      })
    ).id,
  );
  const now = Date.parse(String((await control("clock/now", {})).now));
  await control("listen", {
    provider: "spotify",
    account,
    plays: KEYS.map((trackKey, i) => ({ trackKey, playedAt: new Date(now - (i + 1) * 3 * HOUR).toISOString() })),
  });
  plays = (await control("plays", { provider: "spotify", account })) as unknown as FakePlay[];
});

afterEach(() => {
  expect(violations.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(getApps().map((a) => deleteApp(a)));
});

describe("deleting listening history, in a browser, against the local system", () => {
  let artistId = "";
  let artistName = "";
  let artistPlays = 0;

  it("when the person connects Spotify and opens the dashboard, then their most played artist heads the top artists", async () => {
    await signUp(page, email);
    uid = (await auth().getUserByEmail(email)).uid;
    await connectThroughConsent(page, "spotify", account, "e01-consent-spotify");
    await connectSyncsFinished(uid, "spotify", { timeoutMs: 60_000 });
    expect(await playDocs()).toHaveLength(KEYS.length);
    await page.goto(`${APP}/#/dashboard`);
    await page.locator(topArtists).first().waitFor({ timeout: 30_000 });
    const first = page.locator(topArtists).first();
    artistId = (await first.getAttribute("data-id"))!;
    const artist = plays.flatMap((p) => p.artists).find((a) => a.id === artistId)!;
    artistName = artist.name;
    artistPlays = plays.filter((p) => p.artists.some((a) => a.id === artistId)).length;
    expect(artistPlays).toBeGreaterThan(0);
    await expect(first.locator("td:last-child").textContent()).resolves.toBe(String(artistPlays));
  });

  it("when the artist is picked under Delete history… and confirmed, then the confirmation counts its plays, the result says they went, and the artist leaves the top list", async () => {
    const panel = page.locator("[data-section=erase-history]");
    await panel.locator("summary").click();
    const picker = panel.locator("select[name=erase-artist]");
    await picker.locator(`option[value="${artistId}"]`).waitFor({ state: "attached" });
    await picker.selectOption(artistId);
    await panel.locator("button[data-action=erase-ask]").click();
    const words = `Delete ${artistPlays} ${artistPlays === 1 ? "play" : "plays"} of ${artistName}? This cannot be undone.`;
    await expect(panel.locator("[data-role=erase-confirm-text]").textContent()).resolves.toBe(words);
    await screenshot(page, "e02-erase-confirm");
    // Cancel first: nothing is deleted.
    await panel.locator("button[data-action=erase-cancel]").click();
    expect(await panel.locator("[data-role=erase-confirm]").isHidden()).toBe(true);
    expect(await playDocs()).toHaveLength(KEYS.length);

    await panel.locator("button[data-action=erase-ask]").click();
    await panel.locator("button[data-action=erase-confirm]").click();
    const result = panel.locator("[data-role=erase-result]");
    await result.waitFor({ timeout: 30_000 });
    await expect(result.textContent()).resolves.toBe(`Deleted ${artistPlays} ${artistPlays === 1 ? "play" : "plays"}.`);
    expect(await countReaches(page.locator(`${topArtists}[data-id="${artistId}"]`), 0, 15_000)).toBe(0);
    expect(await picker.locator(`option[value="${artistId}"]`).count()).toBe(0);
    await screenshot(page, "e03-erase-done");

    const left = await playDocs();
    expect(left).toHaveLength(KEYS.length - artistPlays);
    expect(left.some((d) => (d.get("artists") as { id: string }[]).some((a) => a.id === artistId))).toBe(false);
    expect((await rebuildStats(db(), uid, { check: true })).changed).toEqual([]);
  });

  it("when the next sync reads the same recently-played window, then the deleted plays are not logged again", async () => {
    const runsBefore = (await db().collection(firestorePaths.syncRuns(uid)).get()).size;
    await page.goto(`${APP}/#/connections`);
    await card(page, "spotify").locator("button[data-action=sync]").click();
    await card(page, "spotify").locator("[data-role=note]:has-text('Sync started')").waitFor();
    await waitFor(
      async () => {
        const runs = (await db().collection(firestorePaths.syncRuns(uid)).get()).size;
        const c = await db().doc(firestorePaths.connection(uid, "spotify")).get();
        return runs > runsBefore && c.get("lease") === null;
      },
      { timeoutMs: 60_000, what: "the manual sync to finish" },
    );
    expect(await playDocs()).toHaveLength(KEYS.length - artistPlays);
    expect((await rebuildStats(db(), uid, { check: true })).changed).toEqual([]);
  });
});
