/**
 * "Download my data" in a real browser against the local system: a person connects Spotify on
 * the fake (its first sync logs the plays the fake made), clicks "Download my data", watches the
 * export's progress until it is ready, clicks Download, and the file the browser saves is a zip
 * holding README.md and the play log. The page's CSP lets all of it through (no violations).
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deleteApp, getApps } from "firebase-admin/app";
import type { Browser, Page } from "playwright-core";
import * as yauzl from "yauzl";
import { auth, db } from "../../src/admin";
import { firestorePaths } from "../../src/paths";
import { APP, connectThroughConsent, control, signUp } from "../support/app-pages";
import { collectPolicyViolations, launchBrowser, screenshot } from "../support/browser";
import { connectSyncsFinished } from "../support/first-sync";

jest.setTimeout(240_000);

const run = randomUUID().slice(0, 8);
const email = `export-${run}@e2e.test`;
const RECENT = 12;

let browser: Browser;
let page: Page;
let violations: string[] = [];
let dir = "";

/** Every entry of a zip, uncompressed. */
function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error("no zip"));
      const out = new Map<string, Buffer>();
      zip.on("entry", (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error("no stream"));
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("end", () => {
            out.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
          stream.on("error", reject);
        });
      });
      zip.on("end", () => resolve(out));
      zip.on("error", reject);
      zip.readEntry();
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "e2e-export-"));
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
  violations = await collectPolicyViolations(context);
  page = await context.newPage();
});

afterEach(() => {
  expect(violations.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
  await Promise.all(getApps().map((a) => deleteApp(a)));
});

describe("Download my data, in a browser, against the local system", () => {
  it("when the person asks for their data, then the export's progress shows, Download saves a zip with the README and the play log", async () => {
    const account = String(
      (
        await control("addAccount", {
          provider: "spotify",
          spec: { id: `e2e-export-${run}`, displayName: `export.${run}`, playlists: 2, recentlyPlayed: RECENT },
        })
      ).id,
    );
    await signUp(page, email);
    const uid = (await auth().getUserByEmail(email)).uid;
    await connectThroughConsent(page, "spotify", account, "x01-consent-spotify");
    await connectSyncsFinished(uid, "spotify", { timeoutMs: 60_000 });
    const plays = (await db().collection(firestorePaths.plays(uid)).get()).size;
    expect(plays).toBe(RECENT);

    await page.goto(`${APP}/#/dashboard`);
    const panel = page.locator("[data-section=export]");
    await panel.locator("button[data-action=request-export]").click();
    const status = panel.locator("[data-role=export-status]");
    await status.waitFor({ timeout: 30_000 });
    const download = panel.locator("button[data-action=download-export]");
    await download.waitFor({ timeout: 120_000 });
    expect(await status.getAttribute("data-status")).toBe("ready");
    expect(await status.textContent()).toMatch(/Your export is ready \(\d+ KB\)\. It is kept until /);
    await screenshot(page, "x02-export-ready");

    const [saved] = await Promise.all([page.waitForEvent("download"), download.click()]);
    expect(saved.suggestedFilename()).toMatch(/^my-data-\d{4}-\d{2}-\d{2}\.zip$/);
    const path = join(dir, "export.zip");
    await saved.saveAs(path);
    const files = await unzip(await readFile(path));
    expect(files.get("README.md")!.toString()).toMatch(/^# Your data/);
    const lines = files.get("plays.jsonl")!.toString().trimEnd().split("\n");
    expect(lines).toHaveLength(plays);
    expect(JSON.parse(lines[0]!)).toMatchObject({ provider: "spotify", source: "sync" });
    expect([...files.keys()]).toEqual(expect.arrayContaining(["profile.json", "connections.json"]));
  });
});
