import { randomBytes } from "node:crypto";
import { SETTINGS, isDeployed, loadConfig, placeholderSettings } from "../../src/config";
import { ConfigError } from "../../src/errors";

const key = (n = 32) => randomBytes(n).toString("base64");
const secrets = () => ({
  SPOTIFY_CLIENT_SECRET: "s",
  INSTAGRAM_CLIENT_SECRET: "i",
  TOKEN_ENCRYPTION_KEYS: `k1:${key()}`,
});

describe("loadConfig", () => {
  it("when only secrets are set, then every other setting takes its documented default", () => {
    const c = loadConfig(secrets());
    expect(c.SPOTIFY_API_BASE_URL).toBe("https://api.spotify.com");
    expect(c.SPOTIFY_ACCOUNTS_BASE_URL).toBe("https://accounts.spotify.com");
    expect(c.INSTAGRAM_GRAPH_BASE_URL).toBe("https://graph.instagram.com");
    expect(c.SYNC_INTERVAL_MINUTES).toBe(60);
    expect(c.MIRROR_SPOTIFY_COVERS).toBe(true);
    expect(c.TOKEN_ENCRYPTION_KEYS).toHaveLength(1);
    expect(c.TOKEN_ENCRYPTION_KEYS[0]!.key).toHaveLength(32);
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

  it("when an encryption key has the wrong length, then start-up stops and the key itself is not shown", () => {
    const bad = key(16);
    let message = "";
    try {
      loadConfig({ ...secrets(), TOKEN_ENCRYPTION_KEYS: `k1:${bad}` });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/TOKEN_ENCRYPTION_KEYS key "k1" is 16 bytes; AES-256 needs exactly 32 bytes/);
    expect(message).not.toContain(bad);
  });

  it("when the key ring lists a key id twice or has no id, then it is refused", () => {
    expect(() => loadConfig({ ...secrets(), TOKEN_ENCRYPTION_KEYS: `a:${key()},a:${key()}` })).toThrow(/twice/);
    expect(() => loadConfig({ ...secrets(), TOKEN_ENCRYPTION_KEYS: key() })).toThrow(/key id/);
  });

  it("when the key ring has several keys, then the first one is the encrypting key", () => {
    const c = loadConfig({ ...secrets(), TOKEN_ENCRYPTION_KEYS: `new:${key()},old:${key()}` });
    expect(c.TOKEN_ENCRYPTION_KEYS.map((k) => k.id)).toEqual(["new", "old"]);
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

describe("production placeholders", () => {
  const base = () => ({
    SPOTIFY_CLIENT_SECRET: "s",
    INSTAGRAM_CLIENT_SECRET: "i",
    TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
  });

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
      APP_URL: "https://metrics.example",
      OAUTH_REDIRECT_URI: "https://metrics.example/api/oauth/callback",
    });
    expect(placeholderSettings(c)).toEqual([]);
  });

  it("when running as a deployed function, then it is detected; the emulator is not", () => {
    expect(isDeployed({ K_SERVICE: "syncspotify" })).toBe(true);
    expect(isDeployed({ K_SERVICE: "syncspotify", FUNCTIONS_EMULATOR: "true" })).toBe(false);
    expect(isDeployed({})).toBe(false);
  });
});
