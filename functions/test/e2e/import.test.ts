/**
 * Importing Spotify's streaming history in a real browser against the local system: a person who
 * connected Spotify (the fake, with no plays) uploads a small export zip, built here with dates of
 * the last days so they fall inside the charts' window, through the dashboard's import card; the
 * card shows the upload, then the import's progress to 100 % and, per file, what was skipped and
 * why; the listening charts then show the imported days and artists.
 *
 * One person's story, so the steps run in order in this one file.
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { deleteApp, getApps } from "firebase-admin/app";
import type { Browser, Page } from "playwright-core";
import { auth, db } from "../../src/admin";
import { firestorePaths, storagePaths } from "../../src/paths";
import { tempDir, writeZip } from "../fixtures/spotify-export";
import { APP, connectThroughConsent, control, signUp, valueReaches } from "../support/app-pages";
import { collectPolicyViolations, launchBrowser, screenshot } from "../support/browser";
import { connectSyncsFinished } from "../support/first-sync";
import { waitFor } from "../support/wait";

jest.setTimeout(240_000);

const run = randomUUID().slice(0, 8);
const email = `imp-${run}@e2e.test`;
const DAY = 86_400_000;
const ARTIST = `Import Artist ${run}`;

interface Entry {
  ts: string;
  ms_played: number;
  master_metadata_track_name: string | null;
  master_metadata_album_artist_name: string | null;
  master_metadata_album_album_name: string | null;
  spotify_track_uri: string | null;
  spotify_episode_uri: string | null;
  episode_name: string | null;
  ip_addr: string;
  conn_country: string;
}

const music = (at: number, track: number, ms: number): Entry => ({
  ts: new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z"),
  ms_played: ms,
  master_metadata_track_name: `Imported Song ${track}`,
  master_metadata_album_artist_name: track % 2 ? ARTIST : `${ARTIST} Two`,
  master_metadata_album_album_name: "Imported Album",
  spotify_track_uri: `spotify:track:imp${run}${String(track).padStart(11, "0")}`,
  spotify_episode_uri: null,
  episode_name: null,
  ip_addr: "192.0.2.44",
  conn_country: "IS",
});

/** Plays of the last days (noon UTC, so the day does not depend on when the test runs), a podcast and a short play. */
function exportEntries(now: number): { entries: Entry[]; plays: Entry[] } {
  const noon = (daysAgo: number) => Math.floor((now - daysAgo * DAY) / DAY) * DAY + 12 * 3_600_000;
  const plays = [
    music(noon(2), 1, 180_000),
    music(noon(2) + 600_000, 2, 240_000),
    music(noon(3), 1, 200_000),
    music(noon(5), 3, 150_000),
    music(noon(5) + 900_000, 1, 120_000),
  ];
  const episode: Entry = {
    ...music(noon(4), 9, 1_200_000),
    master_metadata_track_name: null,
    master_metadata_album_artist_name: null,
    master_metadata_album_album_name: null,
    spotify_track_uri: null,
    spotify_episode_uri: "spotify:episode:0000000000000000000000",
    episode_name: "A podcast",
  };
  const short = music(noon(4) + 60_000, 4, 5_000);
  return { entries: [...plays, episode, short], plays };
}

let browser: Browser;
let page: Page;
let violations: string[] = [];
let account = "";
let uid = "";
let plays: Entry[] = [];
let zipPath = "";

const minutes = (ms: number) => Math.round(ms / 6_000) / 10;

/** The table view of a chart as { day → data-value }. */
async function chartTable(p: Page, chart: string): Promise<Map<string, string>> {
  const rows = await p
    .locator(`[data-chart=${chart}] table[data-role=table] tbody tr`)
    .evaluateAll((trs) =>
      trs.map((tr) => [tr.getAttribute("data-day") ?? "", tr.querySelector("td")?.getAttribute("data-value") ?? ""]),
    );
  return new Map(rows as [string, string][]);
}

beforeAll(async () => {
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  violations = await collectPolicyViolations(context);
  page = await context.newPage();
  account = String(
    (
      await control("addAccount", {
        provider: "spotify",
        spec: { id: `e2e-imp-${run}`, displayName: `imp.${run}`, playlists: 1, recentlyPlayed: 0 },
      })
    ).id,
  );
  const built = exportEntries(Date.now());
  plays = built.plays;
  const dir = tempDir("e2e-import-");
  const json = join(dir, "Streaming_History_Audio_2025_0.json");
  writeFileSync(json, JSON.stringify(built.entries, null, 1));
  zipPath = await writeZip(join(dir, "my_spotify_data.zip"), {
    "Spotify Extended Streaming History/Streaming_History_Audio_2025_0.json": json,
    "Spotify Extended Streaming History/ReadMeFirst_ExtendedStreamingHistory.pdf": Buffer.from("%PDF-1.4\n"),
  });
});

afterEach(() => {
  expect(violations.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(getApps().map((a) => deleteApp(a)));
});

describe("importing Spotify's export in the web app", () => {
  it("when the person has connected Spotify, then the dashboard shows the import card with no imports yet", async () => {
    await signUp(page, email);
    uid = (await auth().getUserByEmail(email)).uid;
    await connectThroughConsent(page, "spotify", account, "i01-consent-spotify");
    await connectSyncsFinished(uid, "spotify", { timeoutMs: 60_000 });
    await page.goto(`${APP}/#/dashboard`);
    const card = page.locator("[data-section=import]");
    await card.waitFor();
    await expect(card.locator("h2").textContent()).resolves.toBe("Import your Spotify history");
    await card.locator("[data-role=imports] .state.empty").waitFor();
    await expect(card.locator("input[name=min-play-seconds]").inputValue()).resolves.toBe("30");
  });

  it("when the export zip is uploaded, then its progress reaches 100 % and each file says what was skipped and why", async () => {
    const card = page.locator("[data-section=import]");
    await card.locator("input[name=import-files]").setInputFiles(zipPath);
    await card.locator("button[type=submit]").click();
    const job = card.locator("article.import").first();
    await job.waitFor({ timeout: 30_000 });
    await card.locator("article.import[data-status=done]").waitFor({ timeout: 120_000 });
    await screenshot(page, "i02-import-done");

    await expect(job.locator("h3").textContent()).resolves.toBe("my_spotify_data.zip");
    await expect(job.locator("[data-role=status]").textContent()).resolves.toBe("Done");
    await expect(job.locator("[data-role=percent]").getAttribute("value")).resolves.toBe("100");
    await expect(job.locator("[data-role=percent-text]").textContent()).resolves.toContain("100 %");
    await expect(job.locator("[data-role=counts]").textContent()).resolves.toBe(`${plays.length} plays imported`);
    const file = job.locator("li[data-file]");
    await expect(file.count()).resolves.toBe(1);
    await expect(file.locator("span").first().textContent()).resolves.toBe(
      `Spotify Extended Streaming History/Streaming_History_Audio_2025_0.json (extended history): 7 entries, ${plays.length} plays imported`,
    );
    await expect(file.locator("[data-role=skipped]").textContent()).resolves.toBe(
      "Skipped: 1 podcast episodes (music only), 1 plays shorter than the minimum length.",
    );
    await expect(card.locator("[data-role=upload]").textContent()).resolves.toContain("is uploaded");

    // On the server: the plays are logged as imported, and the uploaded parts are gone.
    const logged = await db().collection(firestorePaths.plays(uid)).get();
    expect(logged.docs.map((d) => d.get("source"))).toEqual(plays.map(() => "import"));
    const importId = (await job.getAttribute("data-import-id"))!;
    const { bucket } = await import("../../src/admin");
    await waitFor(
      async () => (await bucket().getFiles({ prefix: storagePaths.importPrefix(uid, importId) }))[0].length === 0,
      { what: "the uploaded parts to be deleted" },
    );
  });

  it("when the charts are read, then the imported days and artists are there", async () => {
    await page.waitForSelector("[data-chart=minutes][data-state=data]", { timeout: 30_000 });
    const want = new Map<string, number>();
    for (const p of plays) {
      const day = p.ts.slice(0, 10);
      want.set(day, (want.get(day) ?? 0) + p.ms_played);
    }
    for (const [day, ms] of want) {
      const shown = await valueReaches(
        async () => (await chartTable(page, "minutes")).get(day),
        String(minutes(ms)),
        20_000,
      );
      expect([day, shown]).toEqual([day, String(minutes(ms))]);
    }
    const artists = await page
      .locator("[data-section=top-range] table[data-kind=artists] tbody tr")
      .evaluateAll((trs) =>
        trs.map((tr) => [
          tr.querySelector("td:nth-child(2) button")?.textContent ?? "",
          Number(tr.querySelector("td:last-child")?.textContent),
        ]),
      );
    const byName = new Map(artists as [string, number][]);
    const names = [...byName.keys()];
    const one = names.find((n) => n.includes(ARTIST) && !n.includes("Two"));
    const two = names.find((n) => n.includes(`${ARTIST} Two`));
    expect(one && byName.get(one)).toBe(plays.filter((p) => p.master_metadata_album_artist_name === ARTIST).length);
    expect(two && byName.get(two)).toBe(plays.filter((p) => p.master_metadata_album_artist_name !== ARTIST).length);
    await screenshot(page, "i03-charts-after-import");
  });
});
