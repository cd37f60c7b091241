/**
 * What the browser tests do on the app's pages and with the fake provider server, shared by every
 * e2e file: sign up, find a provider's card, go through a fake consent page, drive the fake's
 * control API, wait for a count to settle.
 */
import type { Locator, Page } from "playwright-core";
import { EMULATORS } from "../../../scripts/lib/local-env";
import { screenshot } from "./browser";

export const APP = process.env.APP_URL ?? `http://${EMULATORS.hosting.host}:${EMULATORS.hosting.port}`;
export const FAKE = process.env.FAKE_PROVIDERS_URL ?? "http://127.0.0.1:9090";
export const PASSWORD = "correct horse battery";

/** One operation of the fake provider server's control API (`POST /_control/<op>`). */
export async function control(op: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${FAKE}/_control/${op}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`fake control ${op}: ${JSON.stringify(json)}`);
  return json;
}

/** Signs up with email + PASSWORD on the app's page; ends on the dashboard. */
export async function signUp(p: Page, email: string): Promise<void> {
  await p.goto(`${APP}/#/signup`);
  await p.fill("input[name=email]", email);
  await p.fill("input[name=password]", PASSWORD);
  await p.click("button[type=submit]");
  await p.waitForURL(/#\/dashboard$/);
}

/** Polls `read` until it returns `want` (or the time is up); returns the last value read. */
export async function valueReaches<T>(read: () => Promise<T>, want: T, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (last !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    last = await read();
  }
  return last;
}

/** Polls a locator's count until it equals `n` (or the time is up); returns the last count. */
export async function countReaches(l: Locator, n: number, timeoutMs: number): Promise<number> {
  return valueReaches(() => l.count(), n, timeoutMs);
}

/**
 * How many images under `section` hold a loaded blob: URL, polled until `n`. Images load only
 * when they scroll into view (an IntersectionObserver), and what is in view depends on how tall
 * the sections above have grown by then, so each frame still loading is scrolled into view in
 * turn, two animation frames apart (the observer only sees rendered positions).
 */
export async function mediaLoadedReaches(p: Page, section: string, n: number, timeoutMs: number): Promise<number> {
  // A string, not a function: tsx's compiled functions reference helpers the page does not have.
  const scrollEach = `(async () => {
    const frames = document.querySelectorAll(${JSON.stringify(`[data-section=${section}] .media.loading`)});
    for (const f of frames) {
      f.scrollIntoView({ block: "center" });
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    }
  })()`;
  const loaded = p.locator(`[data-section=${section}] img[src^='blob:']`);
  const count = await valueReaches(
    async () => {
      await p.evaluate(scrollEach);
      return loaded.count();
    },
    n,
    timeoutMs,
  );
  if (count !== n) {
    // Say which frames did not load and how (loading, missing, external), for the failure's reader.
    const states = await p.evaluate(
      `[...document.querySelectorAll(${JSON.stringify(`[data-section=${section}] .media`)})].map((f) => f.className)`,
    );
    console.log(`[e2e] ${section}: ${count} of ${n} loaded; frames: ${JSON.stringify(states)}`);
  }
  return count;
}

/**
 * A computed style of the element `l` finds, polled until it equals `want`. The Connections page
 * re-renders its cards when a listener or a request answers, and an element replaced between
 * finding it and reading it has no computed style (""): reading again finds the new one.
 */
export async function styleReaches(
  l: Locator,
  property: "backgroundColor" | "color",
  want: string,
  timeoutMs: number,
): Promise<string> {
  return valueReaches(
    () => l.evaluate((el, prop) => (el.isConnected ? getComputedStyle(el)[prop] : ""), property),
    want,
    timeoutMs,
  );
}

/** A provider's card on the Connections page. */
export function card(p: Page, provider: string): Locator {
  return p.locator(`section.connection[data-provider=${provider}]`);
}

/**
 * Connect → the fake's consent page (screenshot `shot`) → pick the account → Allow (every scope
 * left as offered) → back on Connections. `action` names the connect button (`connect-own`: with
 * the person's own app).
 */
export async function connectThroughConsent(
  p: Page,
  provider: string,
  accountId: string,
  shot: string,
  action: "connect" | "connect-own" = "connect",
): Promise<void> {
  await p.goto(`${APP}/#/connections`);
  await card(p, provider).locator(`button[data-action=${action}]`).click();
  await p.waitForURL((u) => u.origin === new URL(FAKE).origin);
  if (!(await p.title()).includes(provider))
    throw new Error(`the consent page is not ${provider}'s: ${await p.title()}`);
  await screenshot(p, shot);
  await p.check(`input[name=account][value="${accountId}"]`);
  await p.click("button[value=allow]");
  await p.waitForURL((u) => u.origin === new URL(APP).origin && u.hash === "#/connections");
}
