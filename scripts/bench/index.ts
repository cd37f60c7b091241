/**
 * `npm run bench` — the benchmark harness (run inside the emulators by scripts/bench/launch.ts).
 *
 *   npm run bench                      full run (N = 1,000 / 10,000 / 100,000; 200 users × every provider)
 *   npm run bench -- --quick           smaller N for CI-like runs (N = 1,000 / 5,000; 20 users × every provider)
 *   npm run bench -- --publish         also writes docs/bench-latest.json (for the README)
 *   npm run bench -- --only fanout,time,cost,sharing,history,import   (the default: all of them)
 *   npm run bench -- --only import     the streaming-history import (100,000 plays; --quick: 20,000)
 *   npm run bench -- --only fanout --fanout-sizes 10000,30000,100000 [--fanout-gc-ms 2000] [--fanout-ports tasks]
 *                                      the fan-out at other N; forced GCs to read the heap it holds (fanoutChild.ts)
 *
 * Prints a table to stdout and writes bench-results/latest.json (+ latest.md, the README tables).
 * The product's own logs go to bench-results/bench.log.
 */
import { LOG_FILE, RESULTS_DIR, logCounts, logEvents } from "./quiet";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "../lib/local-env";
import { requireEmulators, resetToDefault, setupEnv, useFakeProviders } from "./env";
import { type BenchResults, buildMetrics, buildTargets, machine, markdown, terminalTable } from "./report";

const LATENCY_MS = 100;

const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean" },
      publish: { type: "boolean" },
      only: { type: "string" },
      "fanout-sizes": { type: "string" },
      "fanout-gc-ms": { type: "string" },
      "fanout-ports": { type: "string" },
    },
  });
  const quick = values.quick ?? false;
  const only = new Set((values.only ?? "fanout,time,cost,sharing,history,import").split(","));
  requireEmulators();
  setupEnv();
  const started = performance.now();

  const { startFakeProcess } = await import("./fakeProcess");
  const fake = await startFakeProcess();
  useFakeProviders({ ...fake.baseUrls });
  const { loadConfig } = await import("../../functions/src/config");
  const { instrumentFirestore } = await import("./instrument");
  const { db } = await import("../../functions/src/admin");
  instrumentFirestore(db());
  const config = loadConfig();
  const tag = Date.now().toString(36);

  const results: BenchResults & { importHistory?: import("./import").ImportBenchResult } = {
    date: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    command: `npm run bench${quick ? " -- --quick" : ""}`,
    durationSeconds: 0,
    machine: machine(),
    metrics: [],
    targets: [],
    notes: [],
  };
  const savePartial = () => writeFileSync(join(RESULTS_DIR, "partial.json"), `${JSON.stringify(results, null, 2)}\n`);
  try {
    // Bench 2 first, on an empty emulator: its fan-out finds only its own connections. Its rate
    // budget is the providers' (each fake's bench.rollingRateLimit).
    if (only.has("time")) {
      const { benchSyncTime } = await import("./syncTime");
      results.syncTime = await benchSyncTime(fake, config, {
        users: quick ? 20 : 200,
        latencyMs: LATENCY_MS,
        tag,
        ceilingConnections: quick ? 20 : 100,
        adaptiveSlots: quick ? 4 : 12,
      });
      savePartial();
    }
    if (only.has("cost")) {
      const { benchSyncCost } = await import("./syncCost");
      results.syncCost = await benchSyncCost(fake, config, {
        usersPerProvider: quick ? 2 : 3,
        latencyMs: LATENCY_MS,
        tag,
      });
      savePartial();
    }
    if (only.has("sharing")) {
      const { benchSharing } = await import("./sharing");
      results.sharing = await benchSharing(fake, config, {
        users: quick ? 10 : 30,
        levels: quick ? [1, 10] : [1, 10, 30],
        latencyMs: LATENCY_MS,
        tag,
      });
      savePartial();
    }
    if (only.has("history")) {
      const { benchHistory } = await import("./history");
      results.history = await benchHistory(fake, config, { tag, heavyPlays: quick ? 5_000 : 40_000 });
      savePartial();
    }
    if (only.has("import")) {
      const { benchImport } = await import("./import");
      results.importHistory = await benchImport({ tag, plays: quick ? 20_000 : 100_000 });
      savePartial();
    }
    if (only.has("fanout")) {
      const { benchFanOut } = await import("./fanout");
      const sizes =
        values["fanout-sizes"]?.split(",").map(Number) ?? (quick ? [1_000, 5_000] : [1_000, 10_000, 100_000]);
      const ports = values["fanout-ports"]?.split(",") as ("tasks" | "delay20")[] | undefined;
      results.fanOut = await benchFanOut(sizes, { gcEveryMs: Number(values["fanout-gc-ms"] ?? 0), ports });
    }
  } finally {
    await fake.stop();
  }

  results.durationSeconds = Math.round((performance.now() - started) / 1000);
  results.metrics = buildMetrics(results);
  results.targets = buildTargets(results);
  if (results.importHistory) {
    const { importMetrics, importTargets } = await import("./import");
    results.metrics.push(...importMetrics(results.importHistory));
    results.targets.push(...importTargets(results.importHistory));
  }
  results.notes.push(
    `Settings as deployed: functions/.env.local's test values reset to their defaults: ${JSON.stringify(resetToDefault)}.`,
    `Product log lines during the run: ${logCounts.info} info, ${logCounts.warn} warn, ${logCounts.error} error (in ${LOG_FILE}); events: ${JSON.stringify(logEvents)}.`,
  );
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const md = `${markdown(results)}\n`;
  writeFileSync(join(RESULTS_DIR, "latest.json"), json);
  writeFileSync(join(RESULTS_DIR, "latest.md"), md);
  if (values.publish) {
    writeFileSync(join(ROOT, "docs", "bench-latest.json"), json);
    say("wrote docs/bench-latest.json");
  }
  process.stdout.write(`${terminalTable(results)}\n\n`);
  say(
    `${results.mode} run took ${results.durationSeconds} s; results in ${join(RESULTS_DIR, "latest.json")} and latest.md`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`[bench] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
