/**
 * Builds the web app into web/dist (what Hosting serves): web/public is copied as is, and
 * web/src/main.ts (TypeScript + the Firebase JS SDK) is bundled by esbuild into app.js.
 *
 *   tsx scripts/build-web.ts            minified bundle with a source map
 *   tsx scripts/build-web.ts --watch    rebuild on change (development)
 */
import { cpSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { type BuildOptions, build, context } from "esbuild";
import { EMULATORS, PROJECT_ID, REGION, ROOT } from "./lib/local-env";

const out = join(ROOT, "web", "dist");

const options: BuildOptions = {
  entryPoints: [join(ROOT, "web", "src", "main.ts")],
  outfile: join(out, "app.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  logLevel: "warning",
  // Where the app finds the emulators when served locally (from firebase.json / .firebaserc).
  define: {
    __LOCAL_FIREBASE__: JSON.stringify({
      projectId: PROJECT_ID,
      region: REGION,
      auth: EMULATORS.auth,
      firestore: EMULATORS.firestore,
      functions: EMULATORS.functions,
    }),
  },
};

async function main(): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  cpSync(join(ROOT, "web", "public"), out, { recursive: true });
  if (process.argv.includes("--watch")) {
    const ctx = await context({ ...options, logLevel: "info" });
    await ctx.watch();
    process.stdout.write(`web: watching web/src → ${out}\n`);
    return;
  }
  await build(options);
  const kb = (statSync(join(out, "app.js")).size / 1024).toFixed(0);
  process.stdout.write(`web: built ${out} (app.js ${kb} KiB)\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`web: build failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
