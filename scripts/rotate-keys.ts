/**
 * `npm run rotate-keys` — re-encrypts every OAuth token document with the current key of
 * TOKEN_ENCRYPTION_KEYS (the first key of the ring). Safe to run again: documents already under
 * the current key are left alone, so a run that stopped is resumed by running it again
 * (functions/src/crypto/rotate.ts explains why there is no checkpoint document).
 *
 *   npm run rotate-keys                                   against the emulators (FIRESTORE_EMULATOR_HOST set)
 *   npm run rotate-keys -- --project my-prod-project      against a real project, with ADC
 *
 * Options: --project ID, --page-size N (default 200), --concurrency N (default 16),
 *          --start-after PATH (skip documents up to PATH, as printed by a progress line),
 *          --dry-run (count what would change, write nothing).
 *
 * Keys: TOKEN_ENCRYPTION_KEYS from the environment. Against the emulators it falls back to
 * functions/.secret.local. For a real project, export it from Secret Manager first:
 *   TOKEN_ENCRYPTION_KEYS="$(gcloud secrets versions access latest --secret=TOKEN_ENCRYPTION_KEYS --project=ID)"
 *
 * Rotation, end to end: put the new key first in the secret (`new:…,old:…`), deploy, run this
 * until it reports 0 unreadable, then remove `old` from the secret and deploy again.
 *
 * Exit code: 0 when every document is readable, 1 when some are unreadable (listed), 2 on usage errors.
 */
import { SETTINGS, loadConfig } from "../functions/src/config";
import { db } from "../functions/src/admin";
import { ROTATE_DEFAULTS, rotateTokenKeys } from "../functions/src/crypto/rotate";
import { createVault } from "../functions/src/crypto/vault";
import { PROJECT_ID, emulatorEnv, localFunctionsEnv } from "./lib/local-env";

class UsageError extends Error {}

interface Args {
  project?: string;
  pageSize: number;
  concurrency: number;
  startAfter?: string;
  dryRun: boolean;
}

export function parseArgs(argv: readonly string[]): Args {
  const args: Args = { pageSize: ROTATE_DEFAULTS.pageSize, concurrency: ROTATE_DEFAULTS.concurrency, dryRun: false };
  const positive = (flag: string, v: string | undefined, max: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new UsageError(`${flag} needs a whole number from 1 to ${max}.`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value.`);
      return v;
    };
    if (flag === "--project") args.project = value();
    else if (flag === "--page-size") args.pageSize = positive(flag, value(), 1000);
    else if (flag === "--concurrency") args.concurrency = positive(flag, value(), 500);
    else if (flag === "--start-after") args.startAfter = value();
    else if (flag === "--dry-run") args.dryRun = true;
    else throw new UsageError(`Unknown option ${flag}.`);
  }
  return args;
}

/** Parses the key ring with config.ts's own checks (other secrets are not needed here). */
export function keyRingFrom(raw: string | undefined) {
  const env: Record<string, string | undefined> = {};
  for (const [name, spec] of Object.entries(SETTINGS)) if (spec.kind === "secret") env[name] = "unused-by-rotate-keys";
  env.TOKEN_ENCRYPTION_KEYS = raw;
  return loadConfig(env).TOKEN_ENCRYPTION_KEYS;
}

/** Decides where to run and with which keys; sets the environment firebase-admin reads. */
export function resolveTarget(
  args: Args,
  env: NodeJS.ProcessEnv,
): { project: string; emulated: boolean; keys: string | undefined } {
  const emulated = Boolean(env.FIRESTORE_EMULATOR_HOST);
  if (emulated) {
    const project = args.project ?? env.GCLOUD_PROJECT ?? PROJECT_ID;
    return { project, emulated, keys: env.TOKEN_ENCRYPTION_KEYS || localFunctionsEnv().TOKEN_ENCRYPTION_KEYS };
  }
  if (!args.project) {
    throw new UsageError(
      "No emulator (FIRESTORE_EMULATOR_HOST is unset): pass --project <id> to rotate a real project's tokens with your Application Default Credentials.",
    );
  }
  if (args.project.startsWith("demo-")) {
    throw new UsageError(
      `Project ${args.project} is a demo project, which exists only in the emulators: set FIRESTORE_EMULATOR_HOST.`,
    );
  }
  if (!env.TOKEN_ENCRYPTION_KEYS) {
    throw new UsageError(
      "TOKEN_ENCRYPTION_KEYS is not set: export it from Secret Manager (see the comment at the top of scripts/rotate-keys.ts).",
    );
  }
  return { project: args.project, emulated, keys: env.TOKEN_ENCRYPTION_KEYS };
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const target = resolveTarget(args, process.env);
  if (target.emulated) {
    for (const [k, v] of Object.entries(emulatorEnv())) if (process.env[k] === undefined) process.env[k] = v;
  }
  process.env.GCLOUD_PROJECT = target.project;
  process.env.GOOGLE_CLOUD_PROJECT = target.project;
  const vault = createVault(keyRingFrom(target.keys));
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(
    `rotate-keys: project ${target.project}${target.emulated ? ` (emulator ${process.env.FIRESTORE_EMULATOR_HOST})` : ""}; ` +
      `current key "${vault.currentKeyId}", ring [${vault.keyIds.join(", ")}]${args.dryRun ? "; dry run, nothing is written" : ""}`,
  );
  const result = await rotateTokenKeys(db(), vault, {
    pageSize: args.pageSize,
    concurrency: args.concurrency,
    startAfter: args.startAfter,
    dryRun: args.dryRun,
    onProgress: (p) =>
      say(
        `  page ${p.page}: scanned ${p.scanned} (re-encrypted ${p.reencrypted}, already current ${p.alreadyCurrent}, ` +
          `unreadable ${p.unreadable}); last ${p.lastPath}`,
      ),
  });
  for (const u of result.unreadable) say(`  unreadable: ${u.path} — ${u.code}: ${u.message}`);
  say(
    `rotate-keys: ${result.reencrypted} ${args.dryRun ? "would be re-encrypted" : "re-encrypted"}, ` +
      `${result.alreadyCurrent} already current, ${result.unreadable.length} unreadable` +
      `${result.vanished ? `, ${result.vanished} deleted meanwhile` : ""} (scanned ${result.scanned}).`,
  );
  if (result.unreadable.length > 0) {
    say("rotate-keys: keep every old key in the ring until the unreadable documents above are dealt with.");
    return 1;
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`rotate-keys: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(e instanceof UsageError ? 2 : 1);
    },
  );
}
