/**
 * Builds the web app into web/dist (what Hosting serves). For now it copies web/public; the web
 * app issue adds the TypeScript bundle.
 */
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./lib/local-env";

const out = join(ROOT, "web", "dist");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(join(ROOT, "web", "public"), out, { recursive: true });
process.stdout.write(`web: built ${out}\n`);
