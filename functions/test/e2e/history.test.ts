/**
 * The listening-history charts in a real browser against the local system: a person connects
 * Spotify on the fake, which has played a known set of tracks (`listen`); the sync that
 * connecting starts logs them and keeps the month aggregates; the dashboard's charts, read through
 * their table views, show the numbers those plays imply and the aggregates hold. Then more than
 * 50 plays arrive before the next sync: the dashboard says in words which plays may be missing.
 *
 * One person's story, so the steps run in order in this one file.
 */
import { randomUUID } from "node:crypto";
import { deleteApp, getApps } from "firebase-admin/app";
import type { Browser, Page } from "playwright-core";
import { auth, db } from "../../src/admin";
import { firestorePaths } from "../../src/paths";
import { APP, card, connectThroughConsent, control, signUp, valueReaches } from "../support/app-pages";
import { collectPolicyViolations, launchBrowser, screenshot } from "../support/browser";
import { connectSyncsFinished } from "../support/first-sync";
import { waitFor } from "../support/wait";

jest.setTimeout(240_000);

const run = randomUUID().slice(0, 8);
const email = `hist-${run}@e2e.test`;
const PLAYLISTS = 3;
const HOUR = 3_600_000;
/** The tracks played before connecting (trackKey per play), newest first, 5 hours apart. */
const KEYS = ["1", "1", "2", "1", "3", "2", "4", "5", "4", "6", "7", "1"];
/** Plays arriving between the first sync and the next: more than the 50 recently-played keeps. */
const BURST = 60;

interface FakePlay {
  playedAt: string;
  trackId: string;
  trackName: string;
  artists: { id: string; name: string }[];
  durationMs: number;
}

let browser: Browser;
let page: Page;
let violations: string[] = [];
let account = "";
let uid = "";
let plays: FakePlay[] = [];

/** The UTC day (the person's zone: the default "Etc/UTC") of an ISO time. */
const dayOf = (iso: string) => new Date(iso).toISOString().slice(0, 10);
const minutes = (ms: number) => Math.round(ms / 6_000) / 10;
const count = <K>(keys: K[]) => {
  const m = new Map<K, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
};

/** The table view of a chart as { day → data-value }. */
async function chartTable(p: Page, chart: string): Promise<Map<string, string>> {
  const rows = await p
    .locator(`[data-chart=${chart}] table[data-role=table] tbody tr`)
    .evaluateAll((trs) =>
      trs.map((tr) => [tr.getAttribute("data-day") ?? "", tr.querySelector("td")?.getAttribute("data-value") ?? ""]),
    );
  return new Map(rows as [string, string][]);
}

/** Whether the chart's canvas is in the page and has been given a size (uPlot drew it). */
const drawn = (p: Page, chart: string) =>
  valueReaches(
    () =>
      p
        .locator(`[data-chart=${chart}] .chart-area canvas`)
        .evaluateAll((cs) => cs.length === 1 && (cs[0] as HTMLCanvasElement).width > 0),
    true,
    10_000,
  );

beforeAll(async () => {
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  violations = await collectPolicyViolations(context);
  page = await context.newPage();
  account = String(
    (
      await control("addAccount", {
        provider: "spotify",
        spec: { id: `e2e-hist-${run}`, displayName: `hist.${run}`, playlists: PLAYLISTS, recentlyPlayed: 0 },
      })
    ).id,
  );
  const now = Date.parse(String((await control("clock/now", {})).now));
  await control("listen", {
    provider: "spotify",
    account,
    plays: KEYS.map((trackKey, i) => ({ trackKey, playedAt: new Date(now - (i + 1) * 5 * HOUR).toISOString() })),
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

describe("listening-history charts, in a browser, against the local system", () => {
  it("when the person connects Spotify, then the first sync logs every play the fake made", async () => {
    expect(plays).toHaveLength(KEYS.length);
    await signUp(page, email);
    uid = (await auth().getUserByEmail(email)).uid;
    await connectThroughConsent(page, "spotify", account, "h01-consent-spotify");
    const runs = await connectSyncsFinished(uid, "spotify", { timeoutMs: 60_000 });
    expect(runs.map((r) => [r.reason, r.outcome])).toEqual([["connect", "success"]]);
    const conn = await db().doc(firestorePaths.connection(uid, "spotify")).get();
    expect(conn.get("history.plays")).toBe(KEYS.length);
    expect(conn.get("lastHistoryGap") ?? null).toBeNull();
  });

  it("when the dashboard opens, then minutes per day match the plays and the month aggregates", async () => {
    await page.goto(`${APP}/#/dashboard`);
    await page.waitForSelector("[data-chart=minutes][data-state=data]", { timeout: 30_000 });
    const shown = await chartTable(page, "minutes");
    expect(shown.size).toBe(30);
    expect(await drawn(page, "minutes")).toBe(true);

    const want = new Map<string, number>();
    for (const p of plays) want.set(dayOf(p.playedAt), (want.get(dayOf(p.playedAt)) ?? 0) + p.durationMs);
    const stored = new Map<string, number>();
    for (const d of (await db().collection(firestorePaths.playStats(uid)).get()).docs) {
      for (const [dd, v] of Object.entries(d.get("days") as Record<string, { ms: number }>))
        stored.set(`${d.get("month")}-${dd}`, v.ms);
    }
    expect(stored).toEqual(want);
    for (const [day, ms] of want) expect([day, shown.get(day)]).toEqual([day, String(minutes(ms))]);
    const others = [...shown].filter(([day]) => !want.has(day));
    expect(others.every(([, v]) => v === "0")).toBe(true);
    const total = [...want.values()].reduce((a, b) => a + b, 0);
    await expect(page.locator("[data-section=minutes] [data-role=total]").textContent()).resolves.toContain(
      `in ${KEYS.length} plays`,
    );
    expect(total).toBeGreaterThan(0);

    await page.click("[data-section=minutes] button[data-days='365']");
    expect(await valueReaches(async () => (await chartTable(page, "minutes")).size, 365, 5_000)).toBe(365);
    await screenshot(page, "h02-dashboard-history");
  });

  it("when the heatmap is read, then each weekday and hour holds the plays of that hour", async () => {
    const cells = await page
      .locator("[data-section=heatmap] table[data-role=table] tbody td[data-value]")
      .evaluateAll((tds) =>
        tds.map((td) => [
          `${td.parentElement?.getAttribute("data-weekday")}-${td.getAttribute("data-hour")}`,
          Number(td.getAttribute("data-value")),
        ]),
      );
    expect(cells).toHaveLength(7 * 24);
    const want = count(
      plays.map((p) => {
        const d = new Date(p.playedAt);
        return `${(d.getUTCDay() + 6) % 7}-${d.getUTCHours()}`;
      }),
    );
    for (const [key, n] of cells as [string, number][]) expect([key, n]).toEqual([key, want.get(key) ?? 0]);
  });

  it("when the top lists of the last 30 days are read, then each artist and track has its number of plays", async () => {
    const read = (kind: string) =>
      page
        .locator(`[data-section=top-range] table[data-kind=${kind}] tbody tr`)
        .evaluateAll((trs) =>
          trs.map((tr) => [tr.getAttribute("data-id") ?? "", Number(tr.querySelector("td:last-child")?.textContent)]),
        );
    const tracks = new Map((await read("tracks")) as [string, number][]);
    const artists = new Map((await read("artists")) as [string, number][]);
    expect(tracks).toEqual(count(plays.map((p) => p.trackId)));
    expect(artists).toEqual(count(plays.flatMap((p) => p.artists.map((a) => a.id))));
    // Most plays first.
    const order = [...tracks.values()];
    expect(order).toEqual([...order].sort((a, b) => b - a));
  });

  it("when a track is picked from the top list, then its first and last listen are the oldest and newest play of it", async () => {
    const top = page.locator("[data-section=top-range] table[data-kind=tracks] tbody tr").first();
    const trackId = (await top.getAttribute("data-id"))!;
    await top.locator("button[data-action=first-last]").click();
    const facts = page.locator(`[data-section=first-last] dl[data-id="${trackId}"]`);
    await facts.waitFor();
    const times = plays.filter((p) => p.trackId === trackId).map((p) => Date.parse(p.playedAt));
    await expect(facts.locator("[data-role=first]").getAttribute("data-ms")).resolves.toBe(String(Math.min(...times)));
    await expect(facts.locator("[data-role=last]").getAttribute("data-ms")).resolves.toBe(String(Math.max(...times)));
    await expect(facts.locator("[data-role=plays]").textContent()).resolves.toBe(String(times.length));

    // Search finds an artist by name; picking it shows that artist's listens.
    const artist = plays[0]!.artists[0]!;
    await page.fill("[data-section=first-last] input[name=listen-search]", artist.name);
    await page.click(`[data-section=first-last] [data-role=results] button[data-kind=artists][data-id="${artist.id}"]`);
    const artistTimes = plays
      .filter((p) => p.artists.some((a) => a.id === artist.id))
      .map((p) => Date.parse(p.playedAt));
    await expect(
      page.locator(`[data-section=first-last] dl[data-id="${artist.id}"] [data-role=last]`).getAttribute("data-ms"),
    ).resolves.toBe(String(Math.max(...artistTimes)));
  });

  it("when the sync recorded today's point, then the playlists chart shows the number of playlists today", async () => {
    await page.waitForSelector("[data-chart=playlist-size][data-state=data]", { timeout: 20_000 });
    const today = new Date().toISOString().slice(0, 10);
    expect((await chartTable(page, "playlist-size")).get(today)).toBe(String(PLAYLISTS));
    expect(await drawn(page, "playlist-size")).toBe(true);
  });

  it("when more than 50 plays happen before the next sync, then the dashboard says which plays may be missing", async () => {
    const newest = Math.max(...plays.map((p) => Date.parse(p.playedAt)));
    const now = Date.parse(String((await control("clock/now", {})).now));
    const step = Math.floor((now - newest) / (BURST + 1));
    await control("listen", {
      provider: "spotify",
      account,
      plays: Array.from({ length: BURST }, (_, i) => ({
        trackKey: String(10 + (i % 20)),
        playedAt: new Date(newest + (i + 1) * step).toISOString(),
      })),
    });
    await page.goto(`${APP}/#/connections`);
    await card(page, "spotify").locator("button[data-action=sync]").click();
    await card(page, "spotify").locator("[data-role=note]:has-text('Sync started')").waitFor();
    const gap = await waitFor(
      async () => (await db().doc(firestorePaths.connection(uid, "spotify")).get()).get("lastHistoryGap"),
      { timeoutMs: 60_000, what: "the gap on the connection" },
    );
    expect(gap.after.toMillis()).toBe(newest);

    await page.goto(`${APP}/#/dashboard`);
    const note = page.locator("[data-section=minutes] [data-role=gap]");
    await note.waitFor();
    await expect(note.textContent()).resolves.toMatch(
      /^Some plays between .+ and .+ may be missing: more than 50 plays happened between two syncs\.$/,
    );
    // The 50 plays the window still held are logged: the chart counts them too.
    const conn = await waitFor(
      async () => {
        const c = await db().doc(firestorePaths.connection(uid, "spotify")).get();
        return c.get("lease") === null && c;
      },
      { what: "the sync to finish" },
    );
    expect(conn.get("history.plays")).toBe(KEYS.length + 50);
    const logged = async () =>
      /in (\d+) plays/.exec((await page.locator("[data-section=minutes] [data-role=total]").textContent()) ?? "")?.[1];
    expect(await valueReaches(logged, String(KEYS.length + 50), 10_000)).toBe(String(KEYS.length + 50));
    // Redrawn after the live update, in the page (not only in its table).
    expect(await drawn(page, "minutes")).toBe(true);
    await screenshot(page, "h03-dashboard-gap");
  });
});
