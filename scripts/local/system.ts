/**
 * The whole system on one machine: the fake provider server and the Storage emulator in this
 * process, the firebase emulators (Auth, Firestore, Functions, Tasks, Hosting) as a child process
 * group, demo data, and the local fan-out (the emulator does not fire schedules).
 * Used by `npm start` (scripts/start.ts) and by the browser tests (`npm run test:e2e`).
 */
import type { ChildProcess } from "node:child_process";
import { type WriteStream, createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  EMULATOR_LIST,
  HarnessError,
  checkPorts,
  emulatorArgs,
  firebaseBin,
  harnessEnv,
  killLeftovers,
  resolveFirestoreEmulator,
  spawnGroup,
  startStorageEmulator,
  stopGroup,
} from "../lib/harness";
import { EMULATORS, FAKE_PROVIDERS, WORK_DIR } from "../lib/local-env";
import { type FakeProviders, startFakeProviders } from "../fake-providers";
import { useLocalEnv } from "./env";

export const APP_URL = `http://${EMULATORS.hosting.host}:${EMULATORS.hosting.port}`;
export const EMULATOR_LOG = join(WORK_DIR, "start.log");

export interface LocalSystem {
  fake: FakeProviders;
  appUrl: string;
  /** Milliseconds from startLocalSystem() until the functions were loaded. */
  readyMs: number;
  /** Resolves with the emulators' exit code if they stop on their own. */
  exited: Promise<number>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Progress lines ("fake providers up", …). */
  say: (line: string) => void;
  /** How long to wait for the emulators, in ms. */
  readyTimeoutMs?: number;
}

/** Waits for "All emulators ready" (printed once every emulator, functions included, is loaded). */
function waitReady(child: ChildProcess, log: WriteStream, timeoutMs: number): Promise<void> {
  return new Promise((resolveReady, reject) => {
    let tail = "";
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      tail = (tail + chunk.toString("utf8")).slice(-4000);
      if (/All emulators ready/.test(tail)) {
        cleanup();
        resolveReady();
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      const last = tail.trim().split("\n").slice(-8).join("\n");
      reject(new HarnessError(`The Firebase emulators stopped while starting (exit ${code}). Last lines:\n${last}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new HarnessError(`The Firebase emulators were not ready after ${timeoutMs / 1000} s; see ${EMULATOR_LOG}.`),
      );
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.off("exit", onExit);
      // Keep logging after readiness.
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.stdout?.on("data", (c: Buffer) => log.write(c));
      child.stderr?.on("data", (c: Buffer) => log.write(c));
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
  });
}

export async function startLocalSystem(opts: StartOptions): Promise<LocalSystem> {
  const t0 = Date.now();
  const { say } = opts;
  await checkPorts({ "fake providers": FAKE_PROVIDERS });
  const firestoreEnv = resolveFirestoreEmulator();
  useLocalEnv();

  const stack: (() => Promise<void>)[] = [];
  const unwind = async () => {
    for (const stop of stack.reverse()) await stop().catch(() => undefined);
  };
  try {
    const fake = await startFakeProviders({ host: FAKE_PROVIDERS.host, port: FAKE_PROVIDERS.port });
    stack.push(() => fake.stop());
    say(`fake providers: ${fake.url}`);

    const storage = await startStorageEmulator();
    stack.push(() => storage.stop());

    mkdirSync(WORK_DIR, { recursive: true });
    const log = createWriteStream(EMULATOR_LOG, { flags: "w" });
    stack.push(() => new Promise<void>((r) => log.end(() => r())));
    const child = spawnGroup(firebaseBin(), emulatorArgs({ mode: "start" }), harnessEnv(firestoreEnv), "pipe");
    stack.push(async () => {
      await stopGroup(child);
      killLeftovers(child);
    });
    const exited = new Promise<number>((r) => child.once("exit", (c, s) => r(c ?? (s ? 1 : 0))));
    say(`firebase emulators starting (${EMULATOR_LIST}); log: ${EMULATOR_LOG}`);
    await waitReady(child, log, opts.readyTimeoutMs ?? 120_000);
    const readyMs = Date.now() - t0;
    say(`emulators ready, functions loaded (${(readyMs / 1000).toFixed(1)} s)`);

    let stopped = false;
    return {
      fake,
      appUrl: APP_URL,
      readyMs,
      exited,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await unwind();
      },
    };
  } catch (e) {
    await unwind();
    throw e;
  }
}
