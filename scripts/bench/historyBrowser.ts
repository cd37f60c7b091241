/**
 * Bench 4, the dashboard part: the heavy listener (scripts/bench/history.ts) signs in in Chromium
 * against Hosting on the emulators and opens the dashboard; the page's history store counts the
 * documents its charts read and when the data arrived and the charts were drawn
 * (web/src/history/metrics.ts publishes them as data attributes of <html>). The minutes chart is
 * switched to 365 days and the numbers are read once they stop changing.
 */
import { auth, db } from "../../functions/src/admin";
import { firestorePaths } from "../../functions/src/paths";
import { launchBrowser } from "../../functions/test/support/browser";
import { EMULATORS } from "../lib/local-env";

const APP = `http://${EMULATORS.hosting.host}:${EMULATORS.hosting.port}`;
const PASSWORD = "bench listener password";

/** Creates the listener's Auth user and waits for its profile (made by the Auth trigger). */
export async function createListener(uid: string): Promise<{ email: string }> {
  const email = `${uid}@bench.example.com`;
  await auth().createUser({ uid, email, password: PASSWORD });
  const deadline = Date.now() + 30_000;
  while (!(await db().doc(firestorePaths.user(uid)).get()).exists) {
    if (Date.now() > deadline) throw new Error("The Auth trigger made no profile within 30 s.");
    await new Promise((r) => setTimeout(r, 250));
  }
  return { email };
}

export async function measureDashboard(
  email: string,
): Promise<{ range: string; documentsRead: number; renderMs: number; yearRenderMs: number; dataMs: number }> {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${APP}/#/signin`);
    await page.fill("input[name=email]", email);
    await page.fill("input[name=password]", PASSWORD);
    await page.click("button[type=submit]");
    await page.waitForURL(/#\/dashboard$/);
    // A string, not a function: tsx's compiled helpers (__name) do not exist in the page.
    const read = () =>
      page.evaluate<{ reads: number; data: number; firstDrawn: number; drawn: number; now: number }>(`(() => {
        const d = document.documentElement.dataset;
        return {
          reads: Number(d.historyReads || 0),
          data: Number(d.historyDataMs || 0),
          firstDrawn: Number(d.historyFirstDrawnMs || 0),
          drawn: Number(d.historyDrawnMs || 0),
          now: performance.now(),
        };
      })()`);
    const until = async (ok: (m: Awaited<ReturnType<typeof read>>) => boolean, what: string) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const m = await read();
        if (ok(m)) return m;
        if (Date.now() > deadline) throw new Error(`The dashboard did not ${what} within 60 s.`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const first = await until((m) => m.firstDrawn > 0, "draw a history chart");
    // The 365-day view: drawn from the months already read (no new read expected).
    const clickedAt = (await read()).now;
    await page.click("[data-section=minutes] button[data-days='365']");
    const year = await until((m) => m.drawn > clickedAt, "draw the 365-day chart");
    // Settled: nothing new read for two seconds.
    let settled = year;
    for (let quiet = 0; quiet < 8;) {
      await new Promise((r) => setTimeout(r, 250));
      const m = await read();
      quiet = m.reads === settled.reads ? quiet + 1 : 0;
      settled = m;
    }
    return {
      range: "365 days",
      documentsRead: settled.reads,
      renderMs: Math.round(first.firstDrawn - first.data),
      yearRenderMs: Math.round(year.drawn - clickedAt),
      dataMs: Math.round(first.data),
    };
  } finally {
    await browser.close();
  }
}
