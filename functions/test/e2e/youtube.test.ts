/**
 * YouTube in the web app, in a real browser against the local system (emulators + the fake
 * provider server): the Connections card with YouTube's brand and the line about Google's
 * permissions page, connecting through the fake's Google consent page, the first sync (which
 * connecting starts), and the dashboard's channel statistics, liked videos, subscriptions and
 * playlists with thumbnails shown from their own URLs (the fake's, locally; never the media
 * function). A second person whose Google account has no channel sees the sync's sentence, not an
 * error. Screenshots go to test-results/screenshots/youtube-*.png.
 *
 * What the dashboard should show is read from the fake itself, through its Data API with tokens
 * from the control API, not from the snapshots the sync wrote.
 *
 * The steps share one person (a story), so they run in order in this one file.
 */
import { randomUUID } from "node:crypto";
import { deleteApp, getApps } from "firebase-admin/app";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { auth, db } from "../../src/admin";
import { firestorePaths } from "../../src/paths";
import { collectPolicyViolations, launchBrowser, screenshot } from "../support/browser";
import {
  APP,
  FAKE,
  card,
  connectThroughConsent,
  control,
  countReaches,
  signUp,
  styleReaches,
} from "../support/app-pages";
import { connectSyncsFinished } from "../support/first-sync";

const run = randomUUID().slice(0, 8);
const alice = { email: `alice-yt-${run}@e2e.test`, uid: "" };
const bob = { email: `bob-yt-${run}@e2e.test`, uid: "" };
/** More than the panel shows before "Show all" (24). */
const LIKED = 30;
const LIKED_SHOWN = 24;
const SUBSCRIPTIONS = 5;
const PLAYLISTS = 3;

jest.setTimeout(180_000);

let browser: Browser;
let context: BrowserContext;
let page: Page;
/** What the browser refused because of the app's CSP or Permissions-Policy (must stay empty). */
let violations: string[] = [];
let account = "";
let noChannelAccount = "";

/** What the fake answers for the account, read through its own Data API. */
interface FakeView {
  channel: { id: string; title: string; subscribers: number; views: number; videos: number };
  liked: { id: string; title: string; channelTitle: string; thumbnail: string }[];
  subscriptions: { channelId: string; title: string; thumbnail: string }[];
  playlists: { id: string; title: string; itemCount: number }[];
}
let fake: FakeView;

type Item = Record<string, unknown> & { id: string; snippet: Record<string, unknown> };

/** Every item of a Data API listing of the fake (all pages). */
async function list(token: string, path: string, params: Record<string, string>): Promise<Item[]> {
  const items: Item[] = [];
  let pageToken: string | undefined;
  do {
    const q = new URLSearchParams({ ...params, maxResults: "50", ...(pageToken ? { pageToken } : {}) });
    const res = await fetch(`${FAKE}/youtube/v3/${path}?${q}`, { headers: { Authorization: `Bearer ${token}` } });
    const json = (await res.json()) as { items?: Item[]; nextPageToken?: string };
    if (!res.ok) throw new Error(`fake ${path}: ${res.status} ${JSON.stringify(json)}`);
    items.push(...(json.items ?? []));
    pageToken = json.nextPageToken;
  } while (pageToken);
  return items;
}

const mediumThumbnail = (item: Item) =>
  String((item.snippet.thumbnails as Record<string, { url: string }> | undefined)?.medium?.url);

async function readFake(accountId: string): Promise<FakeView> {
  const { accessToken } = (await control("issueTokens", { provider: "youtube", accountId })) as {
    accessToken: string;
  };
  const [channel] = await list(accessToken, "channels", { part: "snippet,statistics", mine: "true" });
  if (!channel) throw new Error(`the fake YouTube account ${accountId} has no channel`);
  const stats = channel.statistics as Record<string, string>;
  const liked = await list(accessToken, "videos", { part: "snippet,contentDetails,statistics", myRating: "like" });
  const subscriptions = await list(accessToken, "subscriptions", {
    part: "snippet",
    mine: "true",
    order: "alphabetical",
  });
  const playlists = await list(accessToken, "playlists", { part: "snippet,contentDetails,status", mine: "true" });
  return {
    channel: {
      id: channel.id,
      title: String(channel.snippet.title),
      subscribers: Number(stats.subscriberCount),
      views: Number(stats.viewCount),
      videos: Number(stats.videoCount),
    },
    liked: liked.map((v) => ({
      id: v.id,
      title: String(v.snippet.title),
      channelTitle: String(v.snippet.channelTitle),
      thumbnail: mediumThumbnail(v),
    })),
    subscriptions: subscriptions.map((s) => ({
      channelId: String((s.snippet.resourceId as { channelId: string }).channelId),
      title: String(s.snippet.title),
      thumbnail: mediumThumbnail(s),
    })),
    playlists: playlists.map((p) => ({
      id: p.id,
      title: String(p.snippet.title),
      itemCount: Number((p.contentDetails as { itemCount: number }).itemCount),
    })),
  };
}

/** Connect through the fake Google consent page (every scope left ticked); ends on the flash. */
async function connectYouTube(p: Page, accountId: string, shot: string): Promise<void> {
  await connectThroughConsent(p, "youtube", accountId, shot);
  await p.waitForSelector("[data-role=flash]:has-text('YouTube is connected')");
}

beforeAll(async () => {
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  violations = await collectPolicyViolations(context);
  page = await context.newPage();
  account = String(
    (
      await control("addAccount", {
        provider: "youtube",
        spec: {
          id: `e2e-yt-${run}`,
          displayName: `Alice on YouTube ${run}`,
          likedVideos: LIKED,
          subscriptions: SUBSCRIPTIONS,
          playlists: PLAYLISTS,
        },
      })
    ).id,
  );
  noChannelAccount = String(
    (
      await control("addAccount", {
        provider: "youtube",
        spec: { id: `e2e-yt-nochannel-${run}`, displayName: `Bob without a channel ${run}`, hasChannel: false },
      })
    ).id,
  );
  fake = await readFake(account);
  // The sizes asked for, so the counts below are about the app, not the fake.
  expect([fake.liked.length, fake.subscriptions.length, fake.playlists.length]).toEqual([
    LIKED,
    SUBSCRIPTIONS,
    PLAYLISTS,
  ]);
});

// Chromium enforces the CSP Hosting sends (firebase.json): a thumbnail it blocks fails the step.
afterEach(() => {
  const found = violations.splice(0);
  expect(found).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(getApps().map((a) => deleteApp(a))); // let jest exit: no open Firestore channel
});

describe("YouTube in the web app, in a browser, against the local system", () => {
  it("when a person signs up and opens Connections, then the YouTube card shows its brand, Connect, and where else Google access can be removed", async () => {
    await signUp(page, alice.email);
    alice.uid = (await auth().getUserByEmail(alice.email)).uid;
    await page.goto(`${APP}/#/connections`);
    const yt = card(page, "youtube");
    await expect(yt.locator("[data-role=status]").textContent()).resolves.toBe("Not connected");
    await expect(yt.locator("h2").textContent()).resolves.toBe("YouTube");
    const mark = yt.locator(".brand-mark");
    await expect(mark.textContent()).resolves.toBe("YT");
    expect(await styleReaches(mark, "backgroundColor", "rgb(255, 0, 0)", 10_000)).toBe("rgb(255, 0, 0)");
    await expect(yt.locator("button[data-action=connect]").textContent()).resolves.toBe("Connect YouTube");
    const note = yt.locator("[data-role=provider-note]");
    await expect(note.locator("a[href='https://myaccount.google.com/permissions']").count()).resolves.toBe(1);
    await expect(note.locator("a[href='https://www.youtube.com/t/terms']").count()).resolves.toBe(1);
    await expect(note.locator("a[href='https://policies.google.com/privacy']").count()).resolves.toBe(1);
    await screenshot(page, "youtube-01-connections");
  });

  it("when they connect YouTube through the fake Google consent page, then the first sync succeeds and the card reads Connected with the counts", async () => {
    await connectYouTube(page, account, "youtube-02-consent");
    const runs = await connectSyncsFinished(alice.uid, "youtube", { timeoutMs: 60_000 });
    expect(runs.map((r) => [r.reason, r.outcome])).toEqual([["connect", "success"]]);
    const conn = await db().doc(firestorePaths.connection(alice.uid, "youtube")).get();
    expect(conn.get("status")).toBe("connected");
    await page.waitForSelector("section.connection[data-provider=youtube] [data-role=status]:text-is('Connected')");
    const last = card(page, "youtube").locator("[data-role=last-success]");
    await last.locator("time").waitFor();
    const counts = await last.textContent();
    for (const words of [`${LIKED} liked videos`, `${SUBSCRIPTIONS} subscriptions`, `${PLAYLISTS} playlists`]) {
      expect(counts).toContain(words);
    }
    await screenshot(page, "youtube-03-connected");
  });

  it("when they open the dashboard, then it shows the channel's statistics, linked to the channel, with YouTube's attribution", async () => {
    await page.goto(`${APP}/#/dashboard`);
    const section = page.locator("[data-section=youtube]");
    const title = section.locator("[data-role=channel-title]");
    await title.waitFor({ timeout: 60_000 });
    await expect(title.textContent()).resolves.toBe(fake.channel.title);
    await expect(title.getAttribute("href")).resolves.toBe(`https://www.youtube.com/channel/${fake.channel.id}`);
    const stat = (key: string) => section.locator(`[data-stat=${key}]`).getAttribute("data-value");
    await expect(stat("subscribers")).resolves.toBe(String(fake.channel.subscribers));
    await expect(stat("views")).resolves.toBe(String(fake.channel.views));
    await expect(stat("videos")).resolves.toBe(String(fake.channel.videos));
    const attribution = section.locator("[data-role=attribution]");
    await expect(attribution.textContent()).resolves.toContain("Data from YouTube");
    await expect(attribution.locator("a[href='https://www.youtube.com/t/terms']").count()).resolves.toBe(1);
    await expect(attribution.locator("a[href='https://policies.google.com/privacy']").count()).resolves.toBe(1);
  });

  it("when the dashboard shows the liked videos, then each has its title linked to YouTube, its channel, and the fake's thumbnail loaded directly", async () => {
    const tiles = page.locator("[data-section=youtube-liked] li[data-video]");
    expect(await countReaches(tiles, LIKED_SHOWN, 30_000)).toBe(LIKED_SHOWN);
    const showAll = page.locator("[data-section=youtube-liked] button[data-action=show-all]");
    await expect(showAll.textContent()).resolves.toBe(`Show all ${LIKED} liked videos`);
    await showAll.click();
    expect(await countReaches(tiles, LIKED, 5_000)).toBe(LIKED);
    expect(await showAll.count()).toBe(0);
    expect(await tiles.evaluateAll((els) => els.map((el) => el.getAttribute("data-video")))).toEqual(
      fake.liked.map((v) => v.id),
    );
    for (const v of fake.liked) {
      const tile = page.locator(`[data-section=youtube-liked] li[data-video="${v.id}"]`);
      const link = tile.locator("a[data-role=video-title]");
      await expect(link.textContent()).resolves.toBe(v.title);
      await expect(link.getAttribute("href")).resolves.toBe(`https://www.youtube.com/watch?v=${v.id}`);
      await expect(tile.locator("[data-role=channel]").textContent()).resolves.toBe(v.channelTitle);
      const img = tile.locator("img");
      await expect(img.getAttribute("src")).resolves.toBe(v.thumbnail);
      await expect(img.getAttribute("referrerpolicy")).resolves.toBe("no-referrer");
      await expect(img.getAttribute("loading")).resolves.toBe("lazy");
      await expect(img.getAttribute("alt")).resolves.toBe(`Thumbnail of ${v.title}`);
    }
    expect(fake.liked[0]!.thumbnail.startsWith(`${FAKE}/cdn/youtube/`)).toBe(true);
    // Thumbnails come from the fake's own URLs (in production YouTube's), never through the media function.
    const srcs = await page
      .locator("[data-section^=youtube] img")
      .evaluateAll((els) => els.map((el) => (el as HTMLImageElement).src));
    expect(srcs.length).toBeGreaterThan(LIKED);
    expect(srcs.filter((s) => !s.startsWith(`${FAKE}/cdn/youtube/`))).toEqual([]);
    // Lazy images load once scrolled to; they must decode (the CSP's img-src allows the fake's origin).
    await page.evaluate(() => document.querySelector("[data-section=youtube-liked]")?.scrollIntoView());
    await page.waitForFunction(
      (n) => {
        const imgs = Array.from(document.querySelectorAll<HTMLImageElement>("[data-section=youtube-liked] img"));
        return imgs.length === n && imgs.every((img) => img.complete && img.naturalWidth > 0);
      },
      LIKED,
      { timeout: 15_000 },
    );
    await screenshot(page, "youtube-04-dashboard");
  });

  it("when the dashboard shows subscriptions and playlists, then they are the fake's, linked to YouTube", async () => {
    const subs = page.locator("[data-section=youtube-subscriptions] li[data-channel]");
    expect(await countReaches(subs, SUBSCRIPTIONS, 30_000)).toBe(SUBSCRIPTIONS);
    for (const s of fake.subscriptions) {
      const row = page.locator(`[data-section=youtube-subscriptions] li[data-channel="${s.channelId}"]`);
      await expect(row.locator("a").textContent()).resolves.toBe(s.title);
      await expect(row.locator("a").getAttribute("href")).resolves.toBe(
        `https://www.youtube.com/channel/${s.channelId}`,
      );
      await expect(row.locator("img").getAttribute("src")).resolves.toBe(s.thumbnail);
    }
    const lists = page.locator("[data-section=youtube-playlists] li[data-yt-playlist]");
    expect(await countReaches(lists, PLAYLISTS, 30_000)).toBe(PLAYLISTS);
    for (const p of fake.playlists) {
      const tile = page.locator(`[data-section=youtube-playlists] li[data-yt-playlist="${p.id}"]`);
      await expect(tile.locator("a").textContent()).resolves.toBe(p.title);
      await expect(tile.locator("a").getAttribute("href")).resolves.toBe(
        `https://www.youtube.com/playlist?list=${p.id}`,
      );
      await expect(tile.locator(".hint").textContent()).resolves.toMatch(
        new RegExp(`^${p.itemCount} videos? · (Public|Unlisted|Private)$`),
      );
    }
    // Spotify's playlist tiles are Spotify's alone.
    expect(await page.locator("[data-section=playlists] li").count()).toBe(0);
  });

  it("when a person whose Google account has no YouTube channel connects, then the dashboard says so in words, not as an error", async () => {
    const bobContext = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const bobViolations = await collectPolicyViolations(bobContext);
    const bobPage = await bobContext.newPage();
    await signUp(bobPage, bob.email);
    bob.uid = (await auth().getUserByEmail(bob.email)).uid;
    await connectYouTube(bobPage, noChannelAccount, "youtube-05-consent-no-channel");
    const runs = await connectSyncsFinished(bob.uid, "youtube", { timeoutMs: 60_000 });
    expect(runs.map((r) => [r.reason, r.outcome])).toEqual([["connect", "success"]]);
    await bobPage.goto(`${APP}/#/dashboard`);
    const words = bobPage.locator("[data-section=youtube] [data-role=no-channel]");
    await words.waitFor({ timeout: 60_000 });
    await expect(words.textContent()).resolves.toContain("no YouTube channel");
    expect(await bobPage.locator("[data-section^=youtube] .state.error").count()).toBe(0);
    // Nothing else to list without a channel: the other YouTube panels are left out.
    expect(await bobPage.locator("[data-section=youtube-liked]").count()).toBe(0);
    await screenshot(bobPage, "youtube-06-no-channel");
    await bobContext.close();
    expect(bobViolations).toEqual([]);
  });

  it("when they disconnect YouTube, then the data always goes (no choice offered), the card reads Not connected and the dashboard has nothing left", async () => {
    await page.goto(`${APP}/#/connections`);
    const yt = card(page, "youtube");
    await yt.locator("button[data-action=disconnect]").click();
    // YouTube's policies: a disconnect deletes the data and revokes the access; the page says so.
    expect(await yt.locator("input[name=deleteData]").count()).toBe(0);
    await expect(yt.locator("[data-role=deletes-data]").textContent()).resolves.toMatch(
      /deleted too.*revoked at YouTube.*Nothing stored on YouTube itself changes/,
    );
    const revokesBefore = ((await control("stats", {})) as { byEndpoint: Record<string, number> }).byEndpoint[
      "youtube:revoke"
    ];
    await yt.locator("button[data-action=confirm-disconnect]").click();
    await page.waitForSelector("section.connection[data-provider=youtube] [data-role=status]:text-is('Not connected')");
    // The deployed disconnect function revoked the grant at (fake) Google.
    const revokesAfter = ((await control("stats", {})) as { byEndpoint: Record<string, number> }).byEndpoint[
      "youtube:revoke"
    ];
    expect((revokesAfter ?? 0) - (revokesBefore ?? 0)).toBe(1);
    await expect(yt.locator("[data-role=note]").textContent()).resolves.toContain("deleted");
    expect(
      (
        await db()
          .doc(firestorePaths.snapshot(alice.uid, "youtube", "liked-videos"))
          .get()
      ).exists,
    ).toBe(false);
    await page.goto(`${APP}/#/dashboard`);
    // YouTube was their only connection: the dashboard is back to its first state.
    await page.waitForSelector("text=Nothing synced yet.");
    // The hash route keeps the page's Firestore client: a listener may first replay the documents it
    // held before the delete reached it; what the person is left with is nothing.
    expect(await countReaches(page.locator("[data-section^=youtube]"), 0, 15_000)).toBe(0);
    await page.waitForSelector("text=Nothing synced yet.");
    await screenshot(page, "youtube-07-disconnected");
  });
});
