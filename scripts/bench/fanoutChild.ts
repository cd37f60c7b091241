/**
 * One fan-out measurement in a fresh process (so its peak memory is its own): runs the product's
 * runFanOut over the connections the parent seeded and prints one JSON line.
 *
 *   tsx scripts/bench/fanoutChild.ts --n N --port tasks|delay20 --slot K [--queues Q1,Q2,…] [--gc-every-ms MS]
 *
 * `--queues`: one Tasks-emulator queue per provider, in catalog order (PROVIDERS).
 * `--gc-every-ms`: with node's --expose-gc (the parent passes it), force a full GC every MS during
 * the run and record the heap left after it — what the fan-out really holds, as opposed to
 * garbage V8 has not collected yet (which is what peak RSS mostly measures). 0 = no forced GC.
 * Whatever it is, the child reports the heap after one full GC once runFanOut has returned.
 */
import "./quiet";
import { parseArgs } from "node:util";
import { FANOUT_EPOCH_MS, requireEmulators, setupEnv } from "./env";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: "string" },
      port: { type: "string" },
      slot: { type: "string" },
      queues: { type: "string" },
      "gc-every-ms": { type: "string" },
    },
  });
  requireEmulators();
  setupEnv();
  const { loadConfig } = await import("../../functions/src/config");
  const { db, taskQueueService } = await import("../../functions/src/admin");
  const { runFanOut } = await import("../../functions/src/sync/fanOut");
  const { firebaseTaskQueue } = await import("../../functions/src/sync/taskQueue");
  const { memorySampler, mb, retainedHeapSampler } = await import("./instrument");
  const { PROVIDERS } = await import("../../functions/src/paths");
  const config = loadConfig();

  let calls = 0;
  // Tasks enqueued per provider (every provider's connections are seeded).
  const byProvider: Record<string, number> = Object.fromEntries(PROVIDERS.map((p) => [p, 0]));
  const queue =
    values.port === "delay20"
      ? {
          async enqueue(provider: (typeof PROVIDERS)[number]) {
            calls++;
            byProvider[provider] = (byProvider[provider] ?? 0) + 1;
            await new Promise((r) => setTimeout(r, 20));
            return "enqueued" as const;
          },
        }
      : (() => {
          const names = (values.queues ?? "").split(",").filter(Boolean);
          if (names.length !== PROVIDERS.length)
            throw new Error(`--queues needs one queue per provider (${PROVIDERS.join(",")}) with --port tasks`);
          const byName = Object.fromEntries(PROVIDERS.map((p, i) => [p, names[i]!])) as Record<
            (typeof PROVIDERS)[number],
            string
          >;
          // The bench's connections are all on the operator's app: one queue per provider.
          const inner = firebaseTaskQueue(taskQueueService(), (p) => byName[p]);
          return {
            enqueue: async (...args: Parameters<typeof inner.enqueue>) => {
              calls++;
              const r = await inner.enqueue(...args);
              if (r === "enqueued") byProvider[args[0]] = (byProvider[args[0]] ?? 0) + 1;
              return r;
            },
          };
        })();

  // Every run gets its own hour slot (so task ids never repeat across runs); the seeded
  // connections are due since FANOUT_EPOCH_MS, long before any real connection.
  const now = new Date(FANOUT_EPOCH_MS + (Number(values.slot) + 1) * 3_600_000);
  await db().collection("bench-warmup").limit(1).get(); // open the channel before measuring
  const baselineRssMb = mb(process.memoryUsage().rss);
  const gc = (globalThis as { gc?: () => void }).gc;
  const gcEveryMs = Number(values["gc-every-ms"] ?? 0);
  const retained = retainedHeapSampler(gc, gcEveryMs);
  const sampler = memorySampler(20);
  const t0 = performance.now();
  const summary = await runFanOut({ db: db(), queue, clock: { now: () => now }, config });
  const ms = performance.now() - t0;
  const mem = sampler.stop();
  const kept = retained.stop();
  process.stdout.write(
    `${JSON.stringify({
      n: Number(values.n),
      port: values.port,
      summary,
      ms: Math.round(ms),
      calls,
      byProvider,
      tasksPerSecond: Math.round((summary.enqueued / ms) * 1000),
      baselineRssMb,
      ...mem,
      ...kept,
      pageSize: config.FANOUT_PAGE_SIZE,
      concurrency: config.FANOUT_CONCURRENCY,
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`fanoutChild: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
