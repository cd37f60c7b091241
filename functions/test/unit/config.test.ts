import { randomBytes } from "node:crypto";
import {
  SETTINGS,
  checkProductionSettings,
  insecureSettings,
  isDeployed,
  isLoopbackUrl,
  loadConfig,
  placeholderSettings,
} from "../../src/config";
import { ConfigError } from "../../src/errors";
import { testSecrets } from "../support/test-secrets";

const key = (n = 32) => randomBytes(n).toString("base64");
const secrets = () => testSecrets(`k1:${key()}`);

describe("loadConfig", () => {
  it("when only secrets are set, then every other setting takes its documented default", () => {
    const c = loadConfig(secrets());
    expect(c.SPOTIFY_API_BASE_URL).toBe("https://api.spotify.com");
    expect(c.SPOTIFY_ACCOUNTS_BASE_URL).toBe("https://accounts.spotify.com");
    expect(c.INSTAGRAM_GRAPH_BASE_URL).toBe("https://graph.instagram.com");
    expect(c.SYNC_INTERVAL_MINUTES).toBe(60);
    expect(c.SYNC_TICK_MINUTES).toBe(20);
    expect(c.SYNC_SCHEDULE).toBe("every 20 minutes");
    expect(c.MIRROR_SPOTIFY_COVERS).toBe(true);
    expect(c.TOKEN_ENCRYPTION_KEYS).toHaveLength(1);
    expect(c.TOKEN_ENCRYPTION_KEYS[0]!.key).toHaveLength(32);
  });

  it("when SYNC_TICK_MINUTES does not divide SYNC_INTERVAL_MINUTES, then one sentence names both", () => {
    expect(() => loadConfig({ ...secrets(), SYNC_INTERVAL_MINUTES: "45" })).toThrow(ConfigError);
    expect(() => loadConfig({ ...secrets(), SYNC_INTERVAL_MINUTES: "45" })).toThrow(
      /SYNC_TICK_MINUTES \(20\) must divide SYNC_INTERVAL_MINUTES \(45\)/,
    );
    expect(loadConfig({ ...secrets(), SYNC_INTERVAL_MINUTES: "45", SYNC_TICK_MINUTES: "15" }).SYNC_TICK_MINUTES).toBe(
      15,
    );
  });

  it("when the sync deadline or the lease do not fit the 540 s function timeout, then one sentence says why", () => {
    const c = loadConfig(secrets());
    expect(c.SYNC_DEADLINE_SECONDS).toBe(420);
    expect(c.LEASE_SECONDS).toBe(660);
    expect(() => loadConfig({ ...secrets(), SYNC_DEADLINE_SECONDS: "540" })).toThrow(
      /SYNC_DEADLINE_SECONDS \(540\) must be below the sync function's 540 s timeout/,
    );
    expect(() => loadConfig({ ...secrets(), LEASE_SECONDS: "600" })).toThrow(
      /LEASE_SECONDS \(600\) must be longer than the sync function's 540 s timeout plus SPOTIFY_QUEUE_MIN_BACKOFF_SECONDS \(60 s\)/,
    );
    // The longest backoff of any provider's queue counts.
    expect(() => loadConfig({ ...secrets(), INSTAGRAM_QUEUE_MIN_BACKOFF_SECONDS: "200" })).toThrow(
      /plus INSTAGRAM_QUEUE_MIN_BACKOFF_SECONDS \(200 s\)/,
    );
    expect(loadConfig({ ...secrets(), LEASE_SECONDS: "601" }).LEASE_SECONDS).toBe(601);
  });

  it("when values are given, then they are parsed to their types and trailing slashes dropped", () => {
    const c = loadConfig({
      ...secrets(),
      SPOTIFY_API_BASE_URL: "http://127.0.0.1:9090/spotify-api/",
      FANOUT_CONCURRENCY: "7",
      MIRROR_SPOTIFY_COVERS: "false",
      RETURN_URL_ALLOWLIST: "https://a.example, https://b.example/",
    });
    expect(c.SPOTIFY_API_BASE_URL).toBe("http://127.0.0.1:9090/spotify-api");
    expect(c.FANOUT_CONCURRENCY).toBe(7);
    expect(c.MIRROR_SPOTIFY_COVERS).toBe(false);
    expect(c.RETURN_URL_ALLOWLIST).toEqual(["https://a.example", "https://b.example"]);
  });

  it("when a secret is missing, then it fails with a sentence naming it", () => {
    const env: Record<string, string> = secrets();
    delete env.TOKEN_ENCRYPTION_KEYS;
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/Missing setting TOKEN_ENCRYPTION_KEYS/);
  });

  it("when a number is malformed, then the message names the setting and shows the value", () => {
    expect(() => loadConfig({ ...secrets(), FANOUT_PAGE_SIZE: "lots" })).toThrow(
      /Setting FANOUT_PAGE_SIZE is malformed.*"lots"/,
    );
  });

  it("when a URL is malformed, then the message names the setting", () => {
    expect(() => loadConfig({ ...secrets(), SPOTIFY_API_BASE_URL: "not a url" })).toThrow(/SPOTIFY_API_BASE_URL/);
  });

  it("when the settings table is read, then every setting has a description and secrets have no default", () => {
    for (const [name, spec] of Object.entries(SETTINGS)) {
      expect(spec.description.length).toBeGreaterThan(10);
      if (spec.kind === "secret") expect("default" in spec).toBe(false);
      else expect(typeof (spec as { default?: string }).default).toBe("string");
      expect(name).toMatch(/^[A-Z][A-Z0-9_]+$/);
    }
  });
});

describe("the key ring (TOKEN_ENCRYPTION_KEYS)", () => {
  /** The ConfigError message for a ring, or "" when it is accepted. */
  const refusal = (ring: string): string => {
    try {
      loadConfig({ ...secrets(), TOKEN_ENCRYPTION_KEYS: ring });
      return "";
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
  };
  /** Every key-looking piece of the ring (what must never be shown). */
  const material = (ring: string) =>
    ring
      .split(/[,;\s"']+/)
      .map((e) => e.slice(e.indexOf(":") + 1))
      .filter((k) => k.length >= 8);
  const expectRefused = (ring: string, pattern: RegExp) => {
    const message = refusal(ring);
    expect(message).toMatch(/^Setting TOKEN_ENCRYPTION_KEYS /);
    expect(message).toMatch(pattern);
    expect(message).toMatch(/its value is \(secret, not shown\)\.$/);
    for (const k of material(ring)) expect(message).not.toContain(k);
    return message;
  };
  const a = key();
  const b = key();

  it("when the ring is `id:base64` entries separated by commas, then every key is kept in order, the first encrypting", () => {
    const c = loadConfig({ ...secrets(), TOKEN_ENCRYPTION_KEYS: `new:${a},old:${b},older_1-x:${key()}` });
    expect(c.TOKEN_ENCRYPTION_KEYS.map((k) => k.id)).toEqual(["new", "old", "older_1-x"]);
    expect(c.TOKEN_ENCRYPTION_KEYS[0]!.key.equals(Buffer.from(a, "base64"))).toBe(true);
    expect(c.TOKEN_ENCRYPTION_KEYS[1]!.key.equals(Buffer.from(b, "base64"))).toBe(true);
  });

  it("when entries are separated by semicolons, then start-up stops instead of keeping only the first key", () => {
    expectRefused(`new:${a};old:${b}`, /entry 1 contains ";": entries are "keyId:base64key" separated by commas/);
  });

  it("when entries are separated by line breaks, then it is refused as whitespace", () => {
    expectRefused(`new:${a}\nold:${b}`, /entry 1 contains whitespace/);
    expectRefused(`new:${a},\nold:${b}`, /entry 2 of 2 contains whitespace/);
    expectRefused(`new:${a}\n`, /entry 1 contains whitespace .*trailing newline/);
  });

  it("when entries are separated by spaces, or a comma is followed by a space, then it is refused", () => {
    expectRefused(`new:${a} old:${b}`, /entry 1 contains whitespace/);
    expectRefused(`new:${a}, old:${b}`, /entry 2 of 2 contains whitespace/);
    expectRefused(` new:${a}`, /entry 1 contains whitespace/);
  });

  it("when the value or an entry is quoted, then it is refused", () => {
    expectRefused(`"new:${a},old:${b}"`, /entry 1 of 2 contains quotes/);
    expectRefused(`new:${a},'old:${b}'`, /entry 2 of 2 contains quotes/);
  });

  it("when a key is 31 or 33 bytes, then the entry and its length are named", () => {
    expectRefused(
      `k1:${a},k2:${key(31)}`,
      /entry 2 of 2 \(key id "k2"\) decodes to 31 bytes: AES-256 needs exactly 32 bytes/,
    );
    expectRefused(`k1:${key(33)}`, /entry 1 \(key id "k1"\) decodes to 33 bytes/);
    expectRefused(`k1:${key(16)}`, /decodes to 16 bytes/);
  });

  it("when a key is not canonical standard base64, then it is refused", () => {
    const raw = randomBytes(32);
    const unpadded = raw.toString("base64").replace(/=+$/, "");
    expectRefused(
      `k1:${unpadded}`,
      /entry 1 \(key id "k1"\) is not "keyId:base64key" \(the key is not canonical standard base64/,
    );
    // A key whose standard encoding has "+" or "/" written in the url-safe alphabet.
    let urlSafe = "";
    while (!/[-_]/.test(urlSafe)) urlSafe = randomBytes(32).toString("base64url");
    expectRefused(
      `k1:${a},k2:${urlSafe}`,
      /entry 2 of 2 \(key id "k2"\) is not "keyId:base64key" \(the key is not canonical/,
    );
    expectRefused(`k1:${a.slice(0, 20)}*${a.slice(21)}`, /not canonical standard base64/);
  });

  it("when a key id is listed twice, then both positions are named", () => {
    expectRefused(
      `a:${a},b:${b},a:${key()}`,
      /entry 3 of 3 repeats the key id "a" of entry 1: every key id must be unique/,
    );
  });

  it("when an entry is empty (doubled, leading or trailing comma), then its position is named", () => {
    expectRefused(`new:${a},`, /entry 2 of 2 is empty/);
    expectRefused(`new:${a},,old:${b}`, /entry 2 of 3 is empty/);
    expectRefused(`,new:${a}`, /entry 1 of 2 is empty/);
  });

  it("when an entry has no key id, a bad key id or no key, then it is refused", () => {
    expectRefused(a, /entry 1 is not "keyId:base64key" \(there is no ":"/);
    expectRefused(`:${a}`, /entry 1 is not "keyId:base64key" \(the key id before ":" must be 1 to 32/);
    expectRefused(`k.1:${a}`, /the key id before ":" must be/);
    expectRefused(`${"k".repeat(33)}:${a}`, /the key id before ":" must be/);
    expectRefused(`k1:`, /entry 1 \(key id "k1"\) is not "keyId:base64key" \(there is no key after ":"\)/);
  });

  it("when any entry is refused, then the message shows no key material of any entry", () => {
    const ring = `new:${a},old:${b},bad:${key(31)}`;
    const message = expectRefused(ring, /entry 3 of 3/);
    expect(message).not.toContain(a);
    expect(message).not.toContain(b);
    expect(message).not.toContain(a.slice(0, 12));
    expect(message).not.toContain(b.slice(0, 12));
  });
});

describe("production placeholders", () => {
  const base = () => testSecrets(`k1:${randomBytes(32).toString("base64")}`);

  it("when the local defaults are left in place, then each placeholder setting is named", () => {
    const names = placeholderSettings(loadConfig(base()));
    expect(names).toEqual(
      expect.arrayContaining(["SPOTIFY_CLIENT_ID", "INSTAGRAM_CLIENT_ID", "APP_URL", "OAUTH_REDIRECT_URI"]),
    );
    expect(names).not.toContain("SPOTIFY_API_BASE_URL");
  });

  it("when real values are set, then nothing is flagged", () => {
    const c = loadConfig({
      ...base(),
      SPOTIFY_CLIENT_ID: "0123abcd",
      INSTAGRAM_CLIENT_ID: "98765",
      YOUTUBE_CLIENT_ID: "1234-abc.apps.googleusercontent.com",
      APP_URL: "https://metrics.example",
      OAUTH_REDIRECT_URI: "https://metrics.example/api/oauth/callback",
    });
    expect(placeholderSettings(c)).toEqual([]);
  });

  const production = () => ({
    ...base(),
    SPOTIFY_CLIENT_ID: "0123abcd",
    INSTAGRAM_CLIENT_ID: "98765",
    YOUTUBE_CLIENT_ID: "1234-abc.apps.googleusercontent.com",
    APP_URL: "https://metrics.example",
    OAUTH_REDIRECT_URI: "https://metrics.example/api/oauth/callback",
  });

  it("when the return-URL allow-list still names a loopback origin, then it is flagged", () => {
    const c = loadConfig({ ...production(), RETURN_URL_ALLOWLIST: "https://admin.example, http://127.0.0.1:5002" });
    expect(placeholderSettings(c)).toEqual(["RETURN_URL_ALLOWLIST"]);
    expect(() => checkProductionSettings(c)).toThrow(/RETURN_URL_ALLOWLIST still has a local value/);
  });

  it("when APP_URL, a provider base URL or an allow-listed origin is plain http on a public host, then a deployed function refuses it", () => {
    const c = loadConfig({
      ...production(),
      APP_URL: "http://metrics.example",
      SPOTIFY_API_BASE_URL: "http://api.spotify.com",
      RETURN_URL_ALLOWLIST: "http://admin.example",
    });
    expect(insecureSettings(c)).toEqual(["APP_URL", "SPOTIFY_API_BASE_URL", "RETURN_URL_ALLOWLIST"]);
    expect(() => checkProductionSettings(c)).toThrow(
      "Settings APP_URL, SPOTIFY_API_BASE_URL, RETURN_URL_ALLOWLIST use plain http on a public host; production URLs must be https.",
    );
  });

  it("when every production setting is https and real, then the production check passes", () => {
    expect(() => checkProductionSettings(loadConfig(production()))).not.toThrow();
  });

  it("when a loopback URL is plain http, then it is a placeholder, not an insecure setting", () => {
    const c = loadConfig(base());
    expect(insecureSettings(c)).toEqual([]);
    expect(isLoopbackUrl("http://127.0.0.2:9090/x")).toBe(true);
    expect(isLoopbackUrl("http://[::1]:5002")).toBe(true);
    expect(isLoopbackUrl("http://127.0.0.1.evil.example/")).toBe(false);
  });

  it("when running as a deployed function, then it is detected; the emulator is not", () => {
    expect(isDeployed({ K_SERVICE: "syncspotify" })).toBe(true);
    expect(isDeployed({ K_SERVICE: "syncspotify", FUNCTIONS_EMULATOR: "true" })).toBe(false);
    expect(isDeployed({})).toBe(false);
  });
});
