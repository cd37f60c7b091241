/**
 * Provider knowledge lives in provider folders: no source file elsewhere compares or spells a
 * provider id (`"spotify"`) or a provider settings prefix (`SPOTIFY_`). The same rule as the count
 * in CONTRIBUTING.md ("Adding a provider"), run over the working tree.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { CATALOG, PROVIDERS } from "../../src/providers/catalog";

const ROOT = join(__dirname, "..", "..", "..");
const SCANNED = ["functions/src", "web/src", "scripts", "storage.rules"];
const SKIPPED_DIRS = new Set(["node_modules", "lib", "dist", "test"]);

/** Where provider knowledge belongs: provider folders, the catalog and registries, the fake, the migration, demo data. */
function allowed(path: string): boolean {
  const ids = PROVIDERS.join("|");
  return (
    /\.test\.ts$/.test(path) ||
    /(^|\/)test\//.test(path) ||
    new RegExp(`/(${ids})/`).test(path) ||
    /^scripts\/fake-providers\//.test(path) ||
    /^scripts\/migrate\//.test(path) ||
    /^scripts\/local\/seed\.ts$/.test(path) ||
    /\/(registry|catalog)\.ts$/.test(path)
  );
}

/**
 * Files outside those places that may still spell an id, each with its reason. Empty: nothing
 * outside provider folders knows a provider by name.
 */
const EXCEPTIONS: Record<string, string> = {};

function files(path: string): string[] {
  const abs = join(ROOT, path);
  if (statSync(abs).isFile()) return [path];
  return readdirSync(abs, { withFileTypes: true }).flatMap((d) => {
    if (d.isDirectory()) return SKIPPED_DIRS.has(d.name) ? [] : files(join(path, d.name));
    return /\.(ts|rules)$/.test(d.name) ? [join(path, d.name)] : [];
  });
}

describe("provider ids outside provider folders", () => {
  it("when the product's sources are scanned, then only provider folders, the catalog, registries and the fake name a provider", () => {
    const ids = PROVIDERS.join("|");
    const prefixes = CATALOG.map((e) => e.settingsPrefix).join("|");
    const spelled = new RegExp(`["'\`](${ids})["'\`]|(${prefixes})_`);
    const offenders = SCANNED.flatMap(files)
      .map((p) => relative(ROOT, join(ROOT, p)))
      .filter((p) => !allowed(p) && !(p in EXCEPTIONS))
      .filter((p) => spelled.test(readFileSync(join(ROOT, p), "utf8")));
    expect(offenders).toEqual([]);
  });

  it("when a file spells an id, then the scan finds it (the check itself works)", () => {
    const spelled = new RegExp(`["'\`](${PROVIDERS.join("|")})["'\`]`);
    expect(spelled.test(`if (provider === "${PROVIDERS[0]}") {}`)).toBe(true);
    expect(allowed(`functions/src/providers/${PROVIDERS[0]}/index.ts`)).toBe(true);
    expect(allowed("functions/src/sync/runSync.ts")).toBe(false);
  });
});
