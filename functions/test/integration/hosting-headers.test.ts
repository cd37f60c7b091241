/**
 * The security headers Hosting sends (firebase.json `hosting.headers`), fetched through the
 * Hosting emulator: the app's page and bundle, the OAuth callback's error page (a function behind
 * a rewrite) and the media function.
 */
import { EMULATORS, FAKE_PROVIDERS } from "../../../scripts/lib/local-env";

const HOSTING = `http://${EMULATORS.hosting.host}:${EMULATORS.hosting.port}`;

// The first call of a function cold-starts it in the emulator.
jest.setTimeout(60_000);

type Policy = Map<string, string[]>;

/** Every CSP a response carries (fetch joins repeated headers with ", "), each as directive → sources. */
function policies(res: Response): Policy[] {
  const raw = res.headers.get("content-security-policy");
  if (!raw) return [];
  return raw.split(",").map(
    (policy) =>
      new Map(
        policy
          .split(";")
          .map((d) => d.trim().split(/\s+/))
          .filter((parts) => parts[0])
          .map(([name, ...sources]) => [name!.toLowerCase(), sources] as [string, string[]]),
      ),
  );
}

/** The sources a directive falls back to (CSP: a missing fetch directive uses default-src). */
const sourcesOf = (p: Policy, directive: string) => p.get(directive) ?? p.get("default-src") ?? [];

function expectCommonHeaders(res: Response): void {
  expect(res.headers.get("x-frame-options")).toBe("DENY");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  const permissions = res.headers.get("permissions-policy") ?? "";
  for (const feature of ["camera", "microphone", "geolocation", "payment", "usb"]) {
    expect(permissions).toMatch(new RegExp(`(^|, )${feature}=\\(\\)`));
  }
}

describe("Hosting's security headers", () => {
  it.each(["/", "/app.js", "/styles.css"])(
    "when %s is fetched, then it carries the app's strict CSP and the framing, sniffing, referrer and permissions headers",
    async (path) => {
      const res = await fetch(`${HOSTING}${path}`);
      expect(res.status).toBe(200);
      expectCommonHeaders(res);
      expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
      const all = policies(res);
      expect(all).toHaveLength(1);
      const csp = all[0]!;
      expect(csp.get("default-src")).toEqual(["'self'"]);
      expect(csp.get("script-src")).toEqual(["'self'"]);
      expect(csp.get("object-src")).toEqual(["'none'"]);
      expect(csp.get("base-uri")).toEqual(["'none'"]);
      expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
      expect(csp.get("form-action")).toEqual(["'self'"]);
      expect(sourcesOf(csp, "style-src")).toEqual(["'self'"]);
      for (const sources of csp.values()) {
        expect(sources).not.toContain("'unsafe-inline'");
        expect(sources).not.toContain("'unsafe-eval'");
        expect(sources).not.toContain("*");
      }
      // What the app loads: images from blob: URLs; locally the emulators the SDK talks to.
      expect(sourcesOf(csp, "img-src")).toEqual(expect.arrayContaining(["'self'", "blob:"]));
      // YouTube's thumbnails load from YouTube's own hosts (never mirrored); locally from the fake.
      expect(sourcesOf(csp, "img-src")).toEqual(
        expect.arrayContaining([
          "https://i.ytimg.com",
          "https://*.ytimg.com",
          "https://yt3.ggpht.com",
          "https://*.googleusercontent.com",
          `http://${FAKE_PROVIDERS.host}:${FAKE_PROVIDERS.port}`,
        ]),
      );
      const connect = sourcesOf(csp, "connect-src");
      for (const e of [EMULATORS.auth, EMULATORS.firestore, EMULATORS.functions]) {
        expect(connect).toContain(`http://${e.host}:${e.port}`);
      }
    },
  );

  it("when the page is served, then it has no inline script or style for the CSP to block", async () => {
    const html = await (await fetch(`${HOSTING}/`)).text();
    expect(html).toContain('<script type="module" src="/app.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/styles.css" />');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
  });

  it("when the OAuth callback answers its error page (no state), then the page renders under every CSP it carries, and sends no referrer", async () => {
    const res = await fetch(`${HOSTING}/api/oauth/callback/spotify`, { redirect: "manual" });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expectCommonHeaders(res);
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await res.text();
    expect(html).toContain("Could not connect the account");
    expect(html).toContain('<link rel="stylesheet" href="/styles.css">');
    expect(html).not.toMatch(/<script|<style|\sstyle=/);
    const all = policies(res);
    expect(all.length).toBeGreaterThan(0);
    for (const csp of all) {
      // The app's stylesheet (same origin) is allowed by each policy, scripts by none.
      expect(sourcesOf(csp, "style-src")).toContain("'self'");
      expect(sourcesOf(csp, "style-src")).not.toContain("'unsafe-inline'");
      expect(sourcesOf(csp, "script-src")).not.toContain("'self'");
      expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
    }
    // The stylesheet it links is there.
    expect((await fetch(`${HOSTING}/styles.css`)).status).toBe(200);
  });

  it("when media answers, then its CSP is the sandboxing one, not the app's", async () => {
    const res = await fetch(`${HOSTING}/api/media/someone/spotify/playlists/p1.jpg`);
    expect(res.status).toBe(401);
    expectCommonHeaders(res);
    for (const csp of policies(res)) {
      expect(csp.get("default-src")).toEqual(["'none'"]);
      expect(csp.has("sandbox")).toBe(true);
    }
    expect(policies(res).length).toBeGreaterThan(0);
  });
});
