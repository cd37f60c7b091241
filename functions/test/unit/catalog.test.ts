/**
 * The provider catalog and what is derived from it: settings, queue names, rules, paths, and a
 * throwaway provider that shows a new entry brings its own settings along.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SETTINGS, loadConfig, localSecrets, providerSettingSpecs, providerSettings } from "../../src/config";
import { storagePaths } from "../../src/paths";
import {
  CATALOG,
  type CatalogEntry,
  PROVIDERS,
  catalogEntry,
  laneFunctionName,
  providersWithOwnApps,
  queueFunctionName,
} from "../../src/providers/catalog";
import { PROVIDER_DESCRIPTORS, PROVIDER_MODULES } from "../../src/providers/registry";
import { baseUrlKeys } from "../../src/providers/descriptor";
import { testSecrets } from "../support/test-secrets";

const ROOT = join(__dirname, "..", "..", "..");

describe("the catalog", () => {
  it("when the providers are listed, then every entry has a unique, path-safe id, name, settings prefix and queue", () => {
    const ids = CATALOG.map((e) => e.id);
    expect(PROVIDERS).toEqual(ids);
    for (const field of [ids, CATALOG.map((e) => e.name), CATALOG.map((e) => e.settingsPrefix)]) {
      expect(new Set(field).size).toBe(field.length);
    }
    expect(new Set(PROVIDERS.map(queueFunctionName)).size).toBe(PROVIDERS.length);
    for (const e of CATALOG as readonly CatalogEntry[]) {
      expect(e.id).toMatch(/^[a-z][a-z0-9]{1,30}$/);
      expect(e.settingsPrefix).toMatch(/^[A-Z][A-Z0-9]*$/);
      // The mirror folder lies under the provider's own folder, so disconnect-with-data removes it.
      if (e.mirror) expect(`${e.mirror.folder}/`.startsWith(`${e.id}/`)).toBe(true);
      expect(e.snapshots.length).toBeGreaterThan(0);
    }
  });

  it("when a provider has a server module and a descriptor, then they carry the catalog's id and name and name only base URLs the entry declares", () => {
    for (const id of PROVIDERS) {
      expect(PROVIDER_MODULES[id]).toMatchObject({ id, name: catalogEntry(id).name });
      const d = PROVIDER_DESCRIPTORS[id];
      expect(d).toMatchObject({ id, name: catalogEntry(id).name });
      for (const key of baseUrlKeys(d)) expect(Object.keys(catalogEntry(id).baseUrls)).toContain(key);
    }
  });

  it("when firestore.rules lists the providers whose snapshots owners may read, then the list is the catalog's", () => {
    const rules = readFileSync(join(ROOT, "firestore.rules"), "utf8");
    const m = /provider in \[([^\]]*)\]/.exec(rules);
    expect(m).not.toBeNull();
    const listed = [...m![1]!.matchAll(/'([^']+)'/g)].map((x) => x[1]);
    expect(listed).toEqual([...PROVIDERS]);
  });

  it("when the settings are derived, then every provider has its client, base URL, queue and refresh settings", () => {
    const names = Object.keys(SETTINGS);
    for (const e of CATALOG as readonly CatalogEntry[]) {
      const p = e.settingsPrefix;
      for (const suffix of ["CLIENT_ID", "CLIENT_SECRET", "QUEUE_MAX_DISPATCHES_PER_SECOND", "QUEUE_MAX_ATTEMPTS"]) {
        expect(names).toContain(`${p}_${suffix}`);
      }
      for (const key of Object.keys(e.baseUrls)) expect(names).toContain(`${p}_${key}_BASE_URL`);
      expect(names).toContain(e.refresh.setting);
    }
    // Every secret has a development value, so local runs and tests never list secrets by hand.
    expect(Object.keys(localSecrets(() => "x"))).toEqual(
      Object.entries(SETTINGS)
        .filter(([, s]) => s.kind === "secret")
        .map(([n]) => n),
    );
  });

  it("when a provider's settings are read back, then they are one object with the defaults of its catalog entry", () => {
    const config = loadConfig(testSecrets());
    for (const e of CATALOG as readonly CatalogEntry[]) {
      const s = providerSettings(config, e.id as never);
      expect(s.clientId).toBe(e.clientId.default);
      expect(s.queue).toEqual(e.queue);
      expect(s.refreshMarginSeconds).toBe(e.refresh.default * (e.refresh.unit === "days" ? 86_400 : 1));
      expect(s.mirror).toBe(e.mirror ? (e.mirror.setting?.default ?? true) : false);
      expect(s.syncIntervalMinutes).toBe(Math.max(config.SYNC_INTERVAL_MINUTES, e.syncInterval?.default ?? 0));
      expect(Object.keys(s.baseUrls)).toEqual(Object.keys(e.baseUrls));
    }
  });

  it("when a provider has its own sync interval, then it is whole slots and never shorter than one", () => {
    const read = (env: Record<string, string>) => providerSettings(loadConfig({ ...testSecrets(), ...env }), "youtube");
    expect(read({}).syncIntervalMinutes).toBe(360);
    expect(read({ YOUTUBE_SYNC_INTERVAL_MINUTES: "90" }).syncIntervalMinutes).toBe(120);
    expect(read({ YOUTUBE_SYNC_INTERVAL_MINUTES: "10" }).syncIntervalMinutes).toBe(60);
    // A 30-minute interval needs a tick that divides it (the default tick, 20, does not).
    expect(
      read({ YOUTUBE_SYNC_INTERVAL_MINUTES: "100", SYNC_INTERVAL_MINUTES: "30", SYNC_TICK_MINUTES: "10" })
        .syncIntervalMinutes,
    ).toBe(120);
    expect(() => read({ YOUTUBE_SYNC_INTERVAL_MINUTES: "0" })).toThrow(/YOUTUBE_SYNC_INTERVAL_MINUTES/);
  });

  it("when a provider keeps a play log, then its active-listener interval is whole ticks between one tick and the regular interval", () => {
    const read = (env: Record<string, string>) => providerSettings(loadConfig({ ...testSecrets(), ...env }), "spotify");
    expect(SETTINGS.SPOTIFY_ACTIVE_SYNC_MINUTES.default).toBe("20");
    expect(read({}).activeSyncMinutes).toBe(20);
    expect(read({ SPOTIFY_ACTIVE_SYNC_MINUTES: "25" }).activeSyncMinutes).toBe(40);
    expect(read({ SPOTIFY_ACTIVE_SYNC_MINUTES: "5" }).activeSyncMinutes).toBe(20);
    expect(read({ SPOTIFY_ACTIVE_SYNC_MINUTES: "500" }).activeSyncMinutes).toBe(60);
    expect(read({ SPOTIFY_ACTIVE_SYNC_MINUTES: "5", SYNC_TICK_MINUTES: "5" }).activeSyncMinutes).toBe(5);
    expect(providerSettings(loadConfig(testSecrets()), "youtube").activeSyncMinutes).toBeNull();
    expect(() => read({ SPOTIFY_ACTIVE_SYNC_MINUTES: "0" })).toThrow(/SPOTIFY_ACTIVE_SYNC_MINUTES/);
  });
});

describe("a throwaway provider", () => {
  const acme = {
    id: "acme",
    name: "ACME Music",
    blurb: "mixtapes",
    brand: { color: "#123456", mark: "A" },
    snapshots: ["profile", "mixtapes"],
    countLabels: { mixtapes: "mixtapes" },
    mirror: { folder: "acme/covers", setting: { name: "MIRROR_ACME_COVERS", default: false, description: "d" } },
    settingsPrefix: "ACME",
    clientId: { default: "fake-acme-client", description: "d" },
    clientSecret: { description: "d", local: "fake-acme-secret" },
    baseUrls: { API: { default: "https://api.acme.example", description: "d" } },
    queue: {
      maxDispatchesPerSecond: 2,
      maxConcurrent: 4,
      maxAttempts: 3,
      minBackoffSeconds: 30,
      maxBackoffSeconds: 600,
    },
    refresh: { setting: "ACME_REFRESH_MARGIN_SECONDS", unit: "seconds", default: 120, description: "d" },
    legacy: { collections: [], storagePrefixes: [] },
  } as const satisfies CatalogEntry;

  it("when its entry is declared, then its settings follow from the entry alone, with their defaults and checks", () => {
    const specs = providerSettingSpecs(acme);
    expect(Object.keys(specs).sort()).toEqual(
      [
        "ACME_CLIENT_ID",
        "ACME_CLIENT_SECRET",
        "ACME_API_BASE_URL",
        "ACME_QUEUE_MAX_DISPATCHES_PER_SECOND",
        "ACME_QUEUE_MAX_CONCURRENT",
        "ACME_QUEUE_MAX_ATTEMPTS",
        "ACME_QUEUE_MIN_BACKOFF_SECONDS",
        "ACME_QUEUE_MAX_BACKOFF_SECONDS",
        "ACME_REFRESH_MARGIN_SECONDS",
        "MIRROR_ACME_COVERS",
      ].sort(),
    );
    expect(specs.ACME_CLIENT_SECRET).toMatchObject({ kind: "secret", local: "fake-acme-secret" });
    expect(specs.ACME_CLIENT_ID).toMatchObject({ kind: "string", default: "fake-acme-client", localDefault: true });
    expect(specs.ACME_QUEUE_MAX_ATTEMPTS!.default).toBe("3");
    expect(specs.ACME_API_BASE_URL!.schema.parse("https://api.acme.example/")).toBe("https://api.acme.example");
    expect(specs.MIRROR_ACME_COVERS!.schema.parse("false")).toBe(false);
    expect(specs.ACME_QUEUE_MAX_CONCURRENT!.schema.safeParse("0").success).toBe(false);
  });

  it("when it is one of the real ones, then its paths come from its entry too", () => {
    for (const e of CATALOG as readonly CatalogEntry[]) {
      if (e.mirror)
        expect(storagePaths.mirrorObject("u1", e.id as never, "x1", "jpg")).toBe(`u1/${e.mirror.folder}/x1.jpg`);
      else expect(() => storagePaths.mirrorObject("u1", e.id as never, "x1", "jpg")).toThrow(/mirrors no files/);
      expect(storagePaths.providerPrefix("u1", e.id as never)).toBe(`u1/${e.id}/`);
    }
  });
});

describe("queue lanes", () => {
  it("when a provider has own apps, then its own-apps lane is a queue of its own; others have one queue", () => {
    expect(laneFunctionName("spotify", "shared")).toBe("syncSpotify");
    expect(laneFunctionName("spotify", "own")).toBe("syncSpotifyOwnApps");
    expect(laneFunctionName("instagram", "own")).toBe("syncInstagram");
    expect(providersWithOwnApps()).toEqual(["spotify"]);
  });
});
