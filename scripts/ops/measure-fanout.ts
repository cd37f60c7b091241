/**
 * Measures runFanOut against the Firestore emulator with an injected enqueue port that only
 * waits (simulated Cloud Tasks CreateTask latency), so the numbers show what the fan-out itself
 * costs: paging the due connections and driving the enqueue calls.
 *
 *   npx tsx scripts/emulators.ts exec -- npx tsx scripts/ops/measure-fanout.ts [N] [latencyMs] [pageSize] [concurrency]
 *
 * Seeds N due connections in a project of its own (demo-fanout-measure-…), runs one fan-out,
 * prints the summary and the rate.
 */
import { randomUUID } from "node:crypto";
import { db as adminDb } from "../../functions/src/admin";
import { newConnection } from "../../functions/src/connections/model";
import { PROVIDERS, firestorePaths } from "../../functions/src/paths";
import { runFanOut } from "../../functions/src/sync/fanOut";
import type { TaskQueue } from "../../functions/src/sync/ports";

async function main(): Promise<void> {
  if (!process.env.FIRESTORE_EMULATOR_HOST)
    throw new Error("Run inside the emulators (scripts/emulators.ts exec -- …).");
  const [n = 100_000, latencyMs = 30, pageSize = 500, concurrency = 100] = process.argv.slice(2).map(Number);
  const projectId = `demo-fanout-measure-${randomUUID().slice(0, 6)}`;
  // admin.ts builds its app from GCLOUD_PROJECT on first use: a project of its own, so counts are exact.
  process.env.GCLOUD_PROJECT = projectId;
  const db = adminDb();
  const past = new Date(Date.now() - 60_000);
  const t0 = Date.now();
  const writer = db.bulkWriter();
  for (let i = 0; i < n; i++) {
    const uid = `u${i}`;
    const provider = PROVIDERS[i % PROVIDERS.length]!;
    void writer.set(
      db.doc(firestorePaths.connection(uid, provider)),
      newConnection({ uid, provider, providerAccountId: null, providerAccountName: null, scopes: [], now: past }),
    );
  }
  await writer.close();
  process.stdout.write(`seeded ${n} connections in ${Date.now() - t0} ms\n`);

  let inFlight = 0;
  let peak = 0;
  const queue: TaskQueue = {
    async enqueue() {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, latencyMs));
      inFlight--;
      return "enqueued";
    },
  };
  const heap0 = process.memoryUsage().heapUsed;
  const summary = await runFanOut({
    db,
    queue,
    clock: { now: () => new Date() },
    config: {
      SYNC_INTERVAL_MINUTES: 60,
      FANOUT_PAGE_SIZE: pageSize,
      FANOUT_CONCURRENCY: concurrency,
      MAX_PAUSE_HOURS: 24,
    },
  });
  const heapMb = (process.memoryUsage().heapUsed - heap0) / 1e6;
  process.stdout.write(
    `${JSON.stringify({ n, latencyMs, pageSize, concurrency, ...summary, perSecond: Math.round((summary.enqueued / summary.ms) * 1000), peakInFlight: peak, heapDeltaMb: Number(heapMb.toFixed(1)) })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(1);
  },
);
