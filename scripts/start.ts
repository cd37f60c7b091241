/**
 * `npm start`: the whole system on this machine, with no network and no accounts.
 *
 *   tsx scripts/start.ts [--no-seed] [--interval <minutes>]
 *       fake providers + emulators + demo people; a fan-out at start, every <minutes> (default 5)
 *       and on the key `f`; a live summary; Ctrl-C (or `q`) stops everything.
 *   tsx scripts/start.ts exec [--no-seed] [--interval <minutes>] -- <command …>
 *       the same system, then runs the command inside it, stops, and exits with its code
 *       (the browser tests: `npm run test:e2e`).
 *
 * Refuses with one sentence when one of its ports is taken.
 */
import { spawn } from "node:child_process";
import { HarnessError } from "./lib/harness";
import { FAKE_PROVIDERS } from "./lib/local-env";
import { type FanOutRecord, fanOutOnce } from "./local/fanout";
import { DEMO_PASSWORD, DEMO_PEOPLE, type DemoOwnApp, seedDemo, seedOwnApp } from "./local/seed";
import { collectStats, fanOutLine, runsLine, statusLine, uptime } from "./local/summary";
import { EMULATOR_LOG, type LocalSystem, startLocalSystem } from "./local/system";

interface Args {
  mode: "interactive" | "exec";
  seed: boolean;
  intervalMinutes: number;
  command: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { mode: "interactive", seed: true, intervalMinutes: 5, command: [] };
  let i = 0;
  if (argv[0] === "exec") {
    args.mode = "exec";
    i = 1;
  }
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      args.command = argv.slice(i + 1);
      break;
    } else if (a === "--no-seed") args.seed = false;
    else if (a === "--interval") {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n <= 0) throw new HarnessError("--interval needs a positive number of minutes.");
      args.intervalMinutes = n;
    } else
      throw new HarnessError(
        `Unknown option ${a}. Usage: start.ts [exec] [--no-seed] [--interval <minutes>] [-- <command …>]`,
      );
  }
  if (args.mode === "exec" && args.command.length === 0)
    throw new HarnessError("start.ts exec needs a command after --.");
  return args;
}

const t0 = Date.now();
const say = (line: string) => process.stderr.write(`[start] ${line}\n`);

/** The demo own Spotify app (seeded runs only), shown in the header. */
let ownApp: DemoOwnApp | null = null;

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const system = await startLocalSystem({ say });
  let stopping = false;
  const stopAll = async (why: string) => {
    if (stopping) return;
    stopping = true;
    say(`${why}: stopping everything…`);
    await system.stop();
  };

  try {
    if (args.seed) {
      const n = await seedDemo(system.fake);
      ownApp = seedOwnApp(system.fake, system.appUrl);
      say(`seeded ${DEMO_PEOPLE.length} demo people, ${n} connections, and an own Spotify app on the fake`);
    }
    let lastFanOut: FanOutRecord | null = await fanOutOnce("start");
    say(`fan-out: ${fanOutLine(lastFanOut, null)}`);

    const intervalMs = args.intervalMinutes * 60_000;
    let nextFanOut = new Date(Date.now() + intervalMs);
    let fanOutRunning = false;
    const fanOut = async (trigger: FanOutRecord["trigger"]) => {
      if (fanOutRunning) return;
      fanOutRunning = true;
      lastFanOut = await fanOutOnce(trigger);
      nextFanOut = new Date(Date.now() + intervalMs);
      fanOutRunning = false;
    };
    const interval = setInterval(() => void fanOut("interval"), intervalMs);

    if (args.mode === "exec") {
      const code = await runInside(args.command, system);
      clearInterval(interval);
      await stopAll("command finished");
      return code;
    }

    // --- interactive ---------------------------------------------------------------------------
    const emails = new Map(DEMO_PEOPLE.map((p) => [p.uid, p.email]));
    const tty = Boolean(process.stdout.isTTY);
    let previous = "";
    let firstVisibleAt: Date | null = null;
    const draw = async () => {
      let body: string[];
      try {
        const stats = await collectStats(emails);
        if (stats.firstSuccessAt && !firstVisibleAt) {
          firstVisibleAt = stats.firstSuccessAt;
          say(`first synced data visible ${((firstVisibleAt.getTime() - t0) / 1000).toFixed(1)} s after start`);
        }
        body = [
          `Connections  ${statusLine(stats)}`,
          `Tasks run    ${runsLine(stats)}`,
          `Last fan-out ${fanOutLine(lastFanOut, nextFanOut)}`,
          `Errors       ${stats.errors.length ? stats.errors.slice(0, 4).join("\n             ") : "none"}`,
        ];
      } catch (e) {
        body = [`(summary unavailable: ${e instanceof Error ? e.message : String(e)})`];
      }
      if (tty) {
        process.stdout.write(
          `\x1b[H\x1b[2J${header(system, args, t0).join("\n")}\n\n${body.join("\n")}\n\n${footer(tty)}\n`,
        );
      } else {
        const text = body.join("\n");
        if (text !== previous) process.stdout.write(`${text}\n`);
        previous = text;
      }
    };
    if (!tty) process.stdout.write(`${header(system, args, t0).join("\n")}\n${footer(tty)}\n`);
    await draw();
    const ticker = setInterval(() => void draw(), 2000);

    const done = new Promise<number>((resolveDone) => {
      const quit = async (why: string) => {
        clearInterval(ticker);
        clearInterval(interval);
        if (process.stdin.isTTY) process.stdin.setRawMode(false);
        process.stdin.pause();
        await stopAll(why);
        resolveDone(0);
      };
      process.on("SIGINT", () => void quit("Ctrl-C"));
      process.on("SIGTERM", () => void quit("SIGTERM"));
      void system.exited.then(async (code) => {
        if (stopping) return;
        say(`the Firebase emulators stopped on their own (exit ${code}); see ${EMULATOR_LOG}`);
        await quit("emulators exited");
        resolveDone(1);
      });
      if (process.stdin.isTTY) {
        process.stdin.setRawMode(true);
        process.stdin.resume();
        process.stdin.on("data", (key: Buffer) => {
          const k = key.toString();
          if (k === "\u0003" || k === "q") void quit(k === "q" ? "q" : "Ctrl-C");
          else if (k === "f") void fanOut("key").then(draw);
          else void draw();
        });
      }
    });
    return await done;
  } catch (e) {
    await stopAll("error");
    throw e;
  }
}

function header(system: LocalSystem, args: Args, started: number): string[] {
  const width = Math.max(...DEMO_PEOPLE.map((p) => p.email.length));
  return [
    `Metrics sync — the whole system, locally                 up ${uptime(Date.now() - started)}`,
    ``,
    `Web app      ${system.appUrl}`,
    ...(args.seed
      ? [
          `Sign in as   (password for all: ${DEMO_PASSWORD})`,
          ...DEMO_PEOPLE.map((p) => `             ${p.email.padEnd(width)}  ${p.summary}`),
        ]
      : [`Sign in      create an account in the app (started with --no-seed)`]),
    `Providers    fake Spotify + Instagram + YouTube at http://${FAKE_PROVIDERS.host}:${FAKE_PROVIDERS.port} (Connect opens its consent page)`,
    ...(ownApp
      ? [
          `Own app      a Spotify app of your own on the fake: client id ${ownApp.clientId}`,
          `             secret ${ownApp.clientSecret} — paste both under "Your own Spotify app",`,
          `             then "Connect with my own app" and pick "${ownApp.accountName}" on the consent page`,
        ]
      : []),
    `Fan-out      at start, every ${args.intervalMinutes} min, and on the key f`,
  ];
}

function footer(tty: boolean): string {
  return tty
    ? `Keys: f = fan-out now · q or Ctrl-C = stop everything          emulator log: ${EMULATOR_LOG}`
    : `Stop with Ctrl-C. Emulator log: ${EMULATOR_LOG}`;
}

/** Runs the command with the system's environment; forwards Ctrl-C to it. */
function runInside(command: string[], system: LocalSystem): Promise<number> {
  return new Promise((resolveRun) => {
    const child = spawn(command[0]!, command.slice(1), {
      stdio: "inherit",
      env: { ...process.env, APP_URL: system.appUrl, FAKE_PROVIDERS_URL: system.fake.url, LOCAL_SYSTEM: "1" },
    });
    child.on("exit", (c, s) => resolveRun(c ?? (s ? 1 : 0)));
    child.on("error", (e) => {
      say(`could not run ${command[0]}: ${e.message}`);
      resolveRun(1);
    });
  });
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof HarnessError) {
      say(e.message);
      process.exit(1);
    }
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
