/**
 * Starts the Firebase emulator suite the way this project needs it, offline or online.
 *
 *   tsx scripts/emulators.ts exec -- <command …>   start the emulators, run the command inside, stop
 *   tsx scripts/emulators.ts start                 start the emulators and wait for Ctrl-C
 *
 * Emulators: Auth, Firestore, Functions, Tasks, Hosting (firebase-tools), Storage (in-process,
 * Admin SDK only). Refuses to start when a port is taken. Stops everything it started on exit.
 */
import {
  HarnessError,
  emulatorArgs,
  checkPorts,
  firebaseBin,
  harnessEnv,
  killLeftovers,
  resolveFirestoreEmulator,
  spawnGroup,
  startStorageEmulator,
  stopGroup,
} from "./lib/harness";

async function main(argv: string[]): Promise<number> {
  const [mode, ...rest] = argv;
  if (mode !== "exec" && mode !== "start") {
    process.stderr.write("usage: emulators.ts exec -- <command …> | start\n");
    return 2;
  }
  const command = rest[0] === "--" ? rest.slice(1) : rest;
  if (mode === "exec" && command.length === 0) {
    process.stderr.write("emulators.ts exec needs a command after --\n");
    return 2;
  }

  await checkPorts();
  const firestoreEnv = resolveFirestoreEmulator();
  const storage = await startStorageEmulator();
  const env = harnessEnv(firestoreEnv);

  const args = emulatorArgs(mode === "exec" ? { mode, command: command.map(shellQuote).join(" ") } : { mode });
  const child = spawnGroup(firebaseBin(), args, env);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n[emulators] ${signal}: stopping the emulators…\n`);
    await stopGroup(child);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  const code = await new Promise<number>((resolveExit) => {
    child.on("exit", (c, s) => resolveExit(c ?? (s ? 1 : 0)));
    child.on("error", (e) => {
      process.stderr.write(`[emulators] could not run firebase-tools: ${e.message}\n`);
      resolveExit(1);
    });
  });
  killLeftovers(child);
  await storage.stop();
  return code;
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:,@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof HarnessError) {
      process.stderr.write(`[emulators] ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  },
);
