/**
 * Bench 1 — fan-out: time and peak memory of runFanOut finding and enqueueing N due connections,
 * (a) into the Tasks emulator and (b) into an enqueue port that waits 20 ms per call.
 *
 * Connections are seeded cumulatively with a BulkWriter (timed apart, not counted), one per
 * provider per user in catalog order (every provider's connections due at once, whatever its
 * sync interval: the interval only sets the next sync after one has run), all due since
 * 2000-01-01 so nothing else in the emulator is due at the fan-out's clock. Each measurement runs
 * in a fresh child process (scripts/bench/fanoutChild.ts) so its peak RSS is its own.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { db } from "../../functions/src/admin";
import { newConnection } from "../../functions/src/connections/model";
import { PROVIDERS, type Provider, firestorePaths } from "../../functions/src/paths";
import { EMULATORS, PROJECT_ID, REGION, ROOT } from "../lib/local-env";
import { FANOUT_EPOCH_MS } from "./env";

export interface FanOutRun {
  n: number;
  port: "tasks" | "delay20";
  ms: number;
  tasksPerSecond: number;
  enqueued: number;
  due: number;
  failed: number;
  refused: number;
  pages: number;
  baselineRssMb: number;
  peakRssMb: number;
  peakHeapMb: number;
  /** Heap left after one full GC once runFanOut returned (what the run kept; null without --expose-gc). */
  heapAfterGcMb?: number | null;
  /** With `gcEveryMs`: the largest heap left after a forced full GC during the run (what it held). */
  retainedHeapMb?: number | null;
  /** Tasks enqueued per provider (delay port: calls; Tasks emulator: accepted). */
  byProvider?: Partial<Record<Provider, number>>;
  /** Tasks emulator only: tasks it delivered to the sink, and how long it took to drain after the fan-out. */
  delivered?: number;
  drainMs?: number;
}

export interface FanOutResult {
  seeding: { n: number; ms: number; docsPerSecond: number }[];
  runs: FanOutRun[];
  pageSize: number;
  concurrency: number;
  /** fanoutChild's --gc-every-ms (0: the children ran with V8's own GC only). */
  gcEveryMs?: number;
}

const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);

/**
 * FANOUT_PAGE_SIZE for these runs (the product's default is 500). The Firestore emulator has no
 * indexes: each cursor page of the fan-out's query scans every matching document, so 100,000
 * connections in pages of 500 cost 200 full scans and took over 6 minutes of emulator CPU (Java
 * at 100%) — a property of the emulator, not of the fan-out (production Firestore serves each
 * page from an index). Pages of 5,000 keep the emulator's share small; memory still holds at most
 * two pages of {name, nextSyncAt}.
 */
export const BENCH_FANOUT_PAGE_SIZE = 5000;

async function seed(from: number, to: number): Promise<number> {
  const t0 = performance.now();
  const writer = db().bulkWriter({ throttling: false });
  writer.onWriteError((e) => e.failedAttempts < 5);
  const at = new Date(FANOUT_EPOCH_MS);
  for (let i = from; i < to; i++) {
    // One user per PROVIDERS.length connections, one connection per provider, in catalog order.
    const uid = `bfo-${Math.floor(i / PROVIDERS.length)}`;
    const provider = PROVIDERS[i % PROVIDERS.length]!;
    const doc = newConnection({
      uid,
      provider,
      providerAccountId: null,
      providerAccountName: null,
      scopes: [],
      now: at,
    });
    void writer.set(db().doc(firestorePaths.connection(uid, provider)), doc); // due since `at`
  }
  await writer.close();
  return performance.now() - t0;
}

/** A local HTTP endpoint the Tasks emulator delivers the bench's tasks to (answers 204, counts). */
async function startSink(): Promise<{ url: string; count(): number; stop(): Promise<void> }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      n++;
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/task`,
    count: () => n,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const tasksBase = () => `http://${EMULATORS.tasks.host}:${EMULATORS.tasks.port}`;

/** Creates a queue in the Tasks emulator (its own HTTP API) that delivers to `uri` quickly. */
async function createQueue(name: string, uri: string): Promise<void> {
  const r = await fetch(`${tasksBase()}/projects/${PROJECT_ID}/locations/${REGION}/queues/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      rateLimits: { maxConcurrentDispatches: 1000, maxDispatchesPerSecond: 10_000 },
      retryConfig: { maxAttempts: 1 },
      defaultUri: uri,
    }),
  });
  if (!r.ok) throw new Error(`The Tasks emulator refused to create queue ${name}: ${r.status} ${await r.text()}`);
}

function runChild(args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, "node_modules", ".bin", "tsx"), [join(__dirname, "fanoutChild.ts"), ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        FANOUT_PAGE_SIZE: String(BENCH_FANOUT_PAGE_SIZE),
        // gc() for the child's heap-after-GC readings (no GC is forced unless --gc-every-ms).
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --expose-gc`.trim(),
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`fanoutChild ${args.join(" ")} exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()!) as Record<string, unknown>);
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

export interface FanOutOptions {
  /** Force a full GC in the child every this many ms and report the heap it leaves (0: never; see fanoutChild.ts). */
  gcEveryMs?: number;
  ports?: readonly FanOutRun["port"][];
}

export async function benchFanOut(sizes: number[], opts: FanOutOptions = {}): Promise<FanOutResult> {
  const result: FanOutResult = { seeding: [], runs: [], pageSize: 0, concurrency: 0, gcEveryMs: opts.gcEveryMs ?? 0 };
  const sink = await startSink();
  let seeded = 0;
  let slot = 0;
  try {
    for (const n of sizes) {
      say(`fan-out: seeding connections ${seeded}…${n}`);
      const ms = await seed(seeded, n);
      result.seeding.push({ n: n - seeded, ms: Math.round(ms), docsPerSecond: Math.round(((n - seeded) / ms) * 1000) });
      seeded = n;
      for (const port of opts.ports ?? (["delay20", "tasks"] as const)) {
        const args = ["--n", String(n), "--port", port, "--slot", String(slot++)];
        if (opts.gcEveryMs) args.push("--gc-every-ms", String(opts.gcEveryMs));
        const names = PROVIDERS.map((p) => `benchfanout-${n}-${p}`);
        if (port === "tasks") {
          for (const q of names) await createQueue(q, sink.url);
          args.push("--queues", names.join(","));
        }
        const before = sink.count();
        say(`fan-out: N=${n}, ${port === "tasks" ? "Tasks emulator" : "enqueue port +20 ms/call"}…`);
        const r = await runChild(args);
        const s = r.summary as {
          due: number;
          enqueued: number;
          skippedDuplicates: number;
          failed: number;
          pages: number;
        };
        const run: FanOutRun = {
          n,
          port,
          ms: r.ms as number,
          tasksPerSecond: r.tasksPerSecond as number,
          enqueued: s.enqueued,
          due: s.due,
          failed: s.failed,
          // Fresh queues and a fresh slot: any "duplicate" is the emulator refusing a task (its queues hold ≤ 10,000).
          refused: s.skippedDuplicates,
          pages: s.pages,
          baselineRssMb: r.baselineRssMb as number,
          peakRssMb: r.peakRssMb as number,
          peakHeapMb: r.peakHeapMb as number,
          heapAfterGcMb: r.heapAfterGcMb as number | null,
          retainedHeapMb: r.retainedHeapMb as number | null,
          byProvider: r.byProvider as Partial<Record<Provider, number>>,
        };
        result.pageSize = r.pageSize as number;
        result.concurrency = r.concurrency as number;
        if (port === "tasks") {
          const t0 = performance.now();
          const deadline = Date.now() + 180_000;
          while (sink.count() - before < s.enqueued && Date.now() < deadline)
            await new Promise((w) => setTimeout(w, 200));
          run.delivered = sink.count() - before;
          run.drainMs = Math.round(performance.now() - t0);
        }
        say(
          `fan-out: N=${n} ${port}: ${run.enqueued} enqueued in ${run.ms} ms (${run.tasksPerSecond}/s), peak RSS ${run.peakRssMb} MB, heap ${run.peakHeapMb} MB peak / ${run.heapAfterGcMb} MB after GC${run.retainedHeapMb ? ` / ${run.retainedHeapMb} MB retained at most` : ""}`,
        );
        result.runs.push(run);
      }
    }
  } finally {
    await sink.stop();
  }
  return result;
}
