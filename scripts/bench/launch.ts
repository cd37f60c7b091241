/**
 * What `npm run bench` runs: takes the shared emulator lock (/tmp/metrics-emulators.lock, the one
 * the integration tests take, via flock(1) where it exists), builds, then runs the bench inside
 * the emulators (scripts/emulators.ts exec). Arguments are passed on to scripts/bench/index.ts.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../lib/local-env";

const LOCK = "/tmp/metrics-emulators.lock";
const args = process.argv.slice(2);
const q = (a: string) => (/^[A-Za-z0-9_./=:,@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
const tsx = join(ROOT, "node_modules", ".bin", "tsx");
const inner = [
  "npm run build",
  `${q(tsx)} scripts/emulators.ts exec -- ${q(tsx)} scripts/bench/index.ts ${args.map(q).join(" ")}`,
].join(" && ");

const hasFlock = spawnSync("flock", ["--version"], { stdio: "ignore" }).status === 0;
if (hasFlock)
  process.stderr.write(`[bench] waiting for ${LOCK} (held while integration tests or another bench run)…\n`);
else process.stderr.write("[bench] flock(1) not found: running without the shared emulator lock.\n");
const r = hasFlock
  ? spawnSync("flock", [LOCK, "sh", "-c", inner], { cwd: ROOT, stdio: "inherit" })
  : spawnSync("sh", ["-c", inner], { cwd: ROOT, stdio: "inherit" });
process.exit(r.status ?? 1);
