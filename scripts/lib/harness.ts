/**
 * The emulator harness: preflight checks, the Firestore emulator binary, the Storage emulator
 * (started in-process because the CLI cannot start it offline), and the firebase-tools child.
 *
 * Online machines with Java 11+ need none of the workarounds: firebase-tools downloads what it
 * needs. Offline machines with Google Cloud CLI's Firestore emulator get a manifest-only
 * wrapper jar that points at the installed jar (built under .emulators/, never committed).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { EMULATORS, FAKE_PROVIDERS, PROJECT_ID, ROOT, WORK_DIR, emulatorEnv, ensureDevSecrets } from "./local-env";

export class HarnessError extends Error {}

const say = (msg: string) => process.stderr.write(`[emulators] ${msg}\n`);

// --- Ports ---------------------------------------------------------------------------------------

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once("error", () => resolvePort(false));
    server.once("listening", () => server.close(() => resolvePort(true)));
    server.listen(port, host);
  });
}

/** Refuses to start when any port the harness needs is taken (a previous run still up, or another app). */
export async function checkPorts(extra: Record<string, { host: string; port: number }> = {}): Promise<void> {
  const wanted = { ...EMULATORS, ...extra };
  const taken: string[] = [];
  for (const [name, { host, port }] of Object.entries(wanted)) {
    if (!(await portFree(host, port))) taken.push(`${name} ${host}:${port}`);
  }
  if (taken.length > 0) {
    throw new HarnessError(
      `Port${taken.length > 1 ? "s" : ""} ${taken.join(", ")} ${taken.length > 1 ? "are" : "is"} already in use — ` +
        `another emulator run (npm start or npm test) is probably still up; stop it first (Ctrl-C, or kill the process holding the port).`,
    );
  }
}

// --- Java and the Firestore emulator -------------------------------------------------------------

export function javaMajorVersion(): number | undefined {
  // `java -version` prints to stderr.
  const r = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (r.error) return undefined;
  return parseJavaVersion(`${r.stdout}${r.stderr}`);
}

function parseJavaVersion(text: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major;
}

function gcloudFirestoreJar(): string | undefined {
  const roots: string[] = [];
  try {
    const root = execFileSync("gcloud", ["info", "--format=value(installation.sdk_root)"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 20_000,
    }).trim();
    if (root) roots.push(root);
  } catch {
    // gcloud missing: try the usual install places
  }
  roots.push("/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", join(homedir(), "google-cloud-sdk"));
  for (const root of roots) {
    const jar = join(root, "platform", "cloud-firestore-emulator", "cloud-firestore-emulator.jar");
    if (existsSync(jar)) return jar;
  }
  return undefined;
}

function cachedFirestoreJar(): string | undefined {
  const dir = join(homedir(), ".cache", "firebase", "emulators");
  if (!existsSync(dir)) return undefined;
  const jar = readdirSync(dir).find((f) => /^cloud-firestore-emulator-v.*\.jar$/.test(f));
  return jar ? join(dir, jar) : undefined;
}

/**
 * A jar that holds the Firestore emulator (FIRESTORE_EMULATOR_BINARY_PATH, firebase-tools' cache,
 * or the Google Cloud CLI's), for running one outside firebase-tools (chaos tests restart one).
 * Run it as `java -cp <jar> ${FIRESTORE_EMULATOR_MAIN} --host=… --port=…`.
 */
export function firestoreEmulatorJar(): string | undefined {
  return process.env.FIRESTORE_EMULATOR_BINARY_PATH || cachedFirestoreJar() || gcloudFirestoreJar();
}

export const FIRESTORE_EMULATOR_MAIN = "com.google.cloud.datastore.emulator.firestore.CloudFirestore";

/** A zip holding only META-INF/MANIFEST.MF (stored, uncompressed): a jar whose Class-Path points elsewhere. */
function manifestOnlyJar(manifest: string): Buffer {
  const name = Buffer.from("META-INF/MANIFEST.MF");
  const data = Buffer.from(manifest);
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt32LE(crc >>> 0, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc >>> 0, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(name.length, 28);
  const centralOffset = local.length + name.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

/**
 * Decides how the Firestore emulator is found. Returns extra environment for firebase-tools.
 * Throws a HarnessError with one sentence saying what is missing when nothing can work.
 */
export function resolveFirestoreEmulator(): Record<string, string> {
  const java = javaMajorVersion();
  if (java === undefined) {
    throw new HarnessError(
      "Java is missing: the Firestore emulator needs Java 11 or newer on PATH (Debian: apt-get install openjdk-17-jre-headless).",
    );
  }
  if (java < 11) throw new HarnessError(`Java ${java} is too old: the Firestore emulator needs Java 11 or newer.`);
  if (process.env.FIRESTORE_EMULATOR_BINARY_PATH) {
    say(`Firestore emulator: FIRESTORE_EMULATOR_BINARY_PATH=${process.env.FIRESTORE_EMULATOR_BINARY_PATH}`);
    return {};
  }
  const cached = cachedFirestoreJar();
  if (cached) {
    say(`Firestore emulator: firebase-tools cache (${cached})`);
    return {};
  }
  const installed = gcloudFirestoreJar();
  if (installed) {
    mkdirSync(WORK_DIR, { recursive: true });
    const wrapper = join(WORK_DIR, "firestore-emulator-wrapper.jar");
    const manifest =
      "Manifest-Version: 1.0\r\n" +
      `Main-Class: ${FIRESTORE_EMULATOR_MAIN}\r\n` +
      `Class-Path: file:${installed}\r\n\r\n`;
    writeFileSync(wrapper, manifestOnlyJar(manifest));
    say(`Firestore emulator: Google Cloud CLI's ${installed} (via ${wrapper})`);
    return { FIRESTORE_EMULATOR_BINARY_PATH: wrapper };
  }
  say(
    "Firestore emulator: none installed locally; firebase-tools will download it (this needs internet access). " +
      "Offline, install Debian's google-cloud-cli-firestore-emulator or set FIRESTORE_EMULATOR_BINARY_PATH.",
  );
  return {};
}

// --- Storage emulator (in-process, rules runtime disabled) ---------------------------------------

export interface RunningStorage {
  stop(): Promise<void>;
}

/**
 * Starts firebase-tools' Storage emulator in this process with its rules runtime disabled.
 * The Admin SDK works against it; requests that need rules (the web SDK) are denied, because
 * storage.rules cannot be evaluated without the rules runtime jar, which is not available offline.
 * Uses an internal module of the pinned firebase-tools version.
 */
export async function startStorageEmulator(): Promise<RunningStorage> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { StorageEmulator } = require("firebase-tools/lib/emulator/storage/index.js") as {
    StorageEmulator: new (args: Record<string, unknown>) => {
      start(): Promise<void>;
      stop(): Promise<void>;
      _rulesRuntime: { start(): Promise<void>; stop(): Promise<void> };
      _rulesManager: unknown;
    };
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { EmulatorRegistry } = require("firebase-tools/lib/emulator/registry.js") as {
    EmulatorRegistry: { start(e: unknown): Promise<void>; stop(name: string): Promise<void> };
  };
  const emu = new StorageEmulator({
    projectId: PROJECT_ID,
    host: EMULATORS.storage.host,
    port: EMULATORS.storage.port,
    rules: [],
    auto_download: false,
  });
  emu._rulesRuntime.start = async () => {};
  emu._rulesRuntime.stop = async () => {};
  emu._rulesManager = {
    start: async () => {},
    stop: async () => {},
    getRuleset: () => undefined,
  };
  // Registering it lets the emulator build its own URLs (bucket metadata links).
  await EmulatorRegistry.start(emu);
  say(
    `Storage emulator: ${EMULATORS.storage.host}:${EMULATORS.storage.port} (Admin SDK only; rules not evaluated here)`,
  );
  return { stop: () => EmulatorRegistry.stop("storage") };
}

// --- Param values for the emulator --------------------------------------------------------------

/**
 * firebase-tools asks interactively for every param that no dotenv file sets, even when the param
 * has a default, and a run without a terminal then hangs. So the harness writes every non-secret
 * setting's default to `functions/.env.<project>` (git-ignored, generated); `.env.local` still
 * overrides it, and secrets come from `.secret.local`.
 */
export function writeEmulatorParamDefaults(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SETTINGS } = require("../../functions/src/config") as {
    SETTINGS: Record<string, { kind: string; default?: string }>;
  };
  const lines = ["# Generated by scripts/lib/harness.ts for emulator runs: every setting's default. Do not edit."];
  for (const [name, spec] of Object.entries(SETTINGS)) {
    if (spec.kind !== "secret" && spec.default !== undefined) lines.push(`${name}=${spec.default}`);
  }
  const file = join(ROOT, "functions", `.env.${PROJECT_ID}`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

// --- firebase-tools ------------------------------------------------------------------------------

export const EMULATOR_LIST = "auth,firestore,functions,tasks,hosting";

/**
 * firebase-tools' arguments for the emulator suite: `start`, or `exec` with a command line. Always
 * `--non-interactive`: a prompt (see writeEmulatorParamDefaults) must fail, not wait for a terminal.
 */
export function emulatorArgs(run: { mode: "start" } | { mode: "exec"; command: string }): string[] {
  const common = ["--non-interactive", "--project", PROJECT_ID, "--only", EMULATOR_LIST];
  return run.mode === "exec" ? ["emulators:exec", ...common, run.command] : ["emulators:start", ...common];
}

export function firebaseBin(): string {
  return join(ROOT, "node_modules", ".bin", "firebase");
}

/** Environment for firebase-tools and everything it runs. */
export function harnessEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  ensureDevSecrets();
  writeEmulatorParamDefaults();
  const e = emulatorEnv();
  return {
    ...process.env,
    // Storage is started by the harness; the functions emulator passes these to its workers.
    FIREBASE_STORAGE_EMULATOR_HOST: e.FIREBASE_STORAGE_EMULATOR_HOST,
    STORAGE_EMULATOR_HOST: e.STORAGE_EMULATOR_HOST,
    STORAGE_BUCKET: e.STORAGE_BUCKET,
    FAKE_PROVIDERS_URL: `http://${FAKE_PROVIDERS.host}:${FAKE_PROVIDERS.port}`,
    // Never let a local run pick up real credentials.
    GOOGLE_APPLICATION_CREDENTIALS: "",
    METADATA_SERVER_DETECTION: e.METADATA_SERVER_DETECTION,
    ...extra,
  };
}

/**
 * Spawns a child in its own process group, so stopping it stops everything it started.
 * `stdio: "pipe"` lets the caller read its output (npm start writes it to a log file).
 */
export function spawnGroup(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdio: "inherit" | "pipe" = "inherit",
): ChildProcess {
  return spawn(cmd, args, {
    cwd: ROOT,
    env,
    stdio: stdio === "pipe" ? ["ignore", "pipe", "pipe"] : "inherit",
    detached: true,
  });
}

/** SIGINT the group, then SIGKILL what is left after `graceMs`. */
export async function stopGroup(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const pid = child.pid;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    process.kill(-pid, "SIGINT");
  } catch {
    return;
  }
  const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), graceMs).unref());
  await Promise.race([exited, timer]);
  killLeftovers(child);
}

/** Kills whatever is left in the child's process group (e.g. a Java emulator orphaned by a crash). */
export function killLeftovers(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // the group is already empty
  }
}
