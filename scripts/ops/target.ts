/**
 * Which project an operator command talks to, and the environment that goes with it.
 *
 * - No --project (or a `demo-…` project): the local emulators. The command sees exactly what the
 *   emulated functions see (functions/.env.local + .secret.local via scripts/lib/local-env.ts).
 * - --project <real id>: that project, with Application Default Credentials. Settings come from
 *   the environment (defaults otherwise); secrets the command needs must be exported first, e.g.
 *   TOKEN_ENCRYPTION_KEYS="$(gcloud secrets versions access latest --secret=TOKEN_ENCRYPTION_KEYS --project=ID)".
 *
 * Call selectTarget() before the first use of functions/src/admin (it reads process.env lazily).
 *
 * Output: a command's result is the only thing on stdout (printResult: one JSON document, or
 * printText for a human summary), so `npm run -s sync -- … | jq .outcome` works. Everything else
 * written to stdout — firebase-functions' logger, console.log — goes to stderr once runMain starts.
 */
import { parseArgs } from "node:util";
import { SETTINGS, type Config, loadConfig } from "../../functions/src/config";
import { PROJECT_ID, emulatorEnv, localFunctionsEnv } from "../lib/local-env";

export class UsageError extends Error {}

export interface Target {
  projectId: string;
  emulated: boolean;
}

const EMULATOR_VARS = [
  "FIRESTORE_EMULATOR_HOST",
  "FIREBASE_AUTH_EMULATOR_HOST",
  "FIREBASE_STORAGE_EMULATOR_HOST",
  "STORAGE_EMULATOR_HOST",
  "CLOUD_TASKS_EMULATOR_HOST",
];

export function isDemoProject(id: string): boolean {
  return id.startsWith("demo-");
}

export function selectTarget(project: string | undefined): Target {
  const projectId = project ?? PROJECT_ID;
  if (!/^[a-z][a-z0-9-]{4,61}[a-z0-9]$/.test(projectId))
    throw new UsageError(`--project ${projectId} is not a project id.`);
  if (isDemoProject(projectId)) {
    for (const [k, v] of Object.entries(localFunctionsEnv())) {
      if (v !== undefined && process.env[k] === undefined) process.env[k] = v;
    }
    Object.assign(process.env, emulatorEnv(), { GCLOUD_PROJECT: projectId, GOOGLE_CLOUD_PROJECT: projectId });
    return { projectId, emulated: true };
  }
  const set = EMULATOR_VARS.filter((k) => process.env[k]);
  if (set.length > 0) {
    throw new UsageError(`--project ${projectId} is a real project but ${set.join(", ")} is set; unset it first.`);
  }
  Object.assign(process.env, { GCLOUD_PROJECT: projectId, GOOGLE_CLOUD_PROJECT: projectId });
  return { projectId, emulated: false };
}

/**
 * The config for a command that reads no secrets (fan-out, status): secrets missing from the
 * environment get placeholders that nothing reads.
 */
export function configWithoutSecrets(): Config {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [name, spec] of Object.entries(SETTINGS)) {
    if (spec.kind !== "secret" || env[name]) continue;
    env[name] = name === "TOKEN_ENCRYPTION_KEYS" ? `unused:${Buffer.alloc(32).toString("base64")}` : "unused";
  }
  return loadConfig(env);
}

/** Parses `--name value` options (strict: unknown options are usage errors). */
export function parseOptions<T extends Record<string, { type: "string" | "boolean" }>>(
  argv: string[],
  options: T,
): {
  values: { [K in keyof T]?: T[K]["type"] extends "boolean" ? boolean : string } & { project?: string };
  positionals: string[];
} {
  try {
    const r = parseArgs({
      args: argv,
      options: { ...options, project: { type: "string" } },
      allowPositionals: true,
      strict: true,
    });
    return r as never;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The real stdout, captured before runMain points process.stdout.write at stderr. */
const writeStdout: typeof process.stdout.write = process.stdout.write.bind(process.stdout);

/**
 * From now on, whatever is written to process.stdout goes to stderr. The functions' logger writes
 * through console (hence process.stdout.write, looked up at each call), so log lines of the
 * functions code a command runs land on stderr and stdout keeps only the result.
 */
export function routeLogsToStderr(): void {
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
}

/** Writes a command's result to the real stdout as one JSON document. */
export function printResult(value: unknown): void {
  writeStdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes a command's human-readable result (lines) to the real stdout. */
export function printText(lines: readonly string[]): void {
  writeStdout(`${lines.join("\n")}\n`);
}

/**
 * Runs a command's main() with log output routed to stderr (see routeLogsToStderr): usage errors
 * exit 2 with the message, other errors exit 1.
 */
export function runMain(main: () => Promise<number>): void {
  routeLogsToStderr();
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(e instanceof UsageError ? 2 : 1);
    },
  );
}
