/**
 * Builds the web app into web/dist (what Hosting serves): web/public is copied as is, and
 * web/src/main.ts (TypeScript + the Firebase JS SDK) is bundled by esbuild into app.js.
 *
 *   tsx scripts/build-web.ts            minified bundle with a source map
 *   tsx scripts/build-web.ts --watch    rebuild on change (development)
 *
 * App Check: with APP_CHECK_SITE_KEY set (a reCAPTCHA Enterprise site key; APP_CHECK_PROVIDER=
 * recaptcha-v3 for a reCAPTCHA v3 key) the app initializes App Check in production. reCAPTCHA
 * loads a script and a frame from Google, so the build refuses a key while firebase.json's CSP
 * does not allow them (README, "App Check").
 */
import { cpSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { type BuildOptions, build, context } from "esbuild";
import { EMULATORS, PROJECT_ID, REGION, ROOT } from "./lib/local-env";

const out = join(ROOT, "web", "dist");

/** Sources reCAPTCHA needs in the app's CSP (Google's reCAPTCHA FAQ on Content Security Policy). */
const RECAPTCHA_SOURCES: Record<string, string[]> = {
  "script-src": ["https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/"],
  "frame-src": ["https://www.google.com/recaptcha/", "https://recaptcha.google.com/recaptcha/"],
};

function appCheckSetting(env: NodeJS.ProcessEnv = process.env) {
  const siteKey = env.APP_CHECK_SITE_KEY?.trim();
  if (!siteKey) return null;
  const provider = env.APP_CHECK_PROVIDER?.trim() || "recaptcha-enterprise";
  if (provider !== "recaptcha-enterprise" && provider !== "recaptcha-v3") {
    throw new Error(`APP_CHECK_PROVIDER is "${provider}"; use recaptcha-enterprise (the default) or recaptcha-v3.`);
  }
  const hosting = (
    JSON.parse(readFileSync(join(ROOT, "firebase.json"), "utf8")) as {
      hosting?: { headers?: { source?: string; headers?: { key: string; value: string }[] }[] };
    }
  ).hosting;
  const csp =
    hosting?.headers
      ?.find((h) => h.source === "**")
      ?.headers?.find((h) => h.key.toLowerCase() === "content-security-policy")?.value ?? "";
  const directives = new Map(
    csp.split(";").map((d) => {
      const [name = "", ...sources] = d.trim().split(/\s+/);
      return [name, sources] as const;
    }),
  );
  for (const [directive, sources] of Object.entries(RECAPTCHA_SOURCES)) {
    const missing = sources.filter((source) => !(directives.get(directive) ?? []).includes(source));
    if (missing.length > 0) {
      throw new Error(
        `APP_CHECK_SITE_KEY is set, but firebase.json's Content-Security-Policy does not allow reCAPTCHA: add ${missing.join(" ")} to ${directive} (README, "App Check").`,
      );
    }
  }
  return { siteKey, provider };
}

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
    __APP_CHECK__: "null", // replaced in main() when APP_CHECK_SITE_KEY is set
  },
};

async function main(): Promise<void> {
  const appCheck = appCheckSetting();
  options.define = { ...options.define, __APP_CHECK__: JSON.stringify(appCheck) };
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
  process.stdout.write(`web: built ${out} (app.js ${kb} KiB${appCheck ? `, App Check: ${appCheck.provider}` : ""})\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`web: build failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
