/**
 * Playwright (playwright-core) driving Debian's Chromium, headless, for the browser tests.
 * `npx playwright install` cannot download browsers on these machines, so the system's
 * /usr/bin/chromium is used, with the flags that work offline.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { ROOT } from "../../../scripts/lib/local-env";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOTS = join(ROOT, "test-results", "screenshots");

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/** Writes test-results/screenshots/<name>.png (a test artifact; git-ignored). */
export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: opts.fullPage ?? true });
  return path;
}

/**
 * Collects, for every page of `context`, what the browser refused because of a security header:
 * `securitypolicyviolation` events (CSP) and console errors about CSP or Permissions-Policy. The
 * returned list fills as the pages run; a test fails when it is not empty. (Playwright injects
 * the listener and the binding outside the page's CSP.)
 */
export async function collectPolicyViolations(context: BrowserContext): Promise<string[]> {
  const seen: string[] = [];
  await context.exposeBinding("__reportPolicyViolation", (_source, text: unknown) => {
    seen.push(String(text));
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const report = (window as unknown as { __reportPolicyViolation?: (t: string) => void }).__reportPolicyViolation;
      report?.(
        `CSP ${e.effectiveDirective} blocked ${e.blockedURI || "an inline resource"} on ${e.documentURI} (${e.sourceFile}:${e.lineNumber})`,
      );
    });
  });
  context.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy|Permissions-Policy|Refused to/i.test(msg.text())) {
      seen.push(`console: ${msg.text()}`);
    }
  });
  return seen;
}
