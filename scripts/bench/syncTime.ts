/**
 * Bench 2 — time until everyone is synced: U users × every provider, the fake provider answering
 * every request after LATENCY ms, with a rolling app-wide rate limit (BUDGET API requests per
 * WINDOW seconds) on the providers whose fake models one (FakeBench.rollingRateLimit: the race
 * measures how much of that budget each design uses). Two designs, in the same run, on separate
 * but identical user sets (so both do first syncs):
 *
 * - fan-out: runFanOut enqueues one task per connection into per-provider queues that dispatch
 *   like Cloud Tasks with the product's queue settings (simQueue.ts); each task runs runSync.
 * - Option A (the seed's): one function that lists the due connections and runs runSync on each
 *   in turn.
 *
 * Every provider's connections are synced (the time is until everyone is synced), but the budget
 * is measured over the span in which the measured providers' connections were being synced: a
 * provider without a rolling limit may have a slower queue (a daily quota instead) that keeps
 * the run going after the last measured request.
 */
import { db } from "../../functions/src/admin";
import { type Config, providerSettings } from "../../functions/src/config";
import { tokenStoreFromConfig } from "../../functions/src/crypto/tokenStore";
import { CONNECTIONS, PROVIDERS, type Provider, parseConnectionPath } from "../../functions/src/paths";
import { queueFunctionName } from "../../functions/src/providers/catalog";
import { runFanOut } from "../../functions/src/sync/fanOut";
import { type SyncDeps, type SyncOutcome, runSync } from "../../functions/src/sync/runSync";
import { systemClock } from "../../functions/src/sync/ports";
import { type AccountSpec, FAKES, type RateLimitSpec, type Stats } from "../fake-providers";
import type { BenchFake } from "./fakeProcess";
import { benchSyncDeps, providerRequests } from "./deps";
import { newStorageCounts } from "./instrument";
import { type QueueSettings, SimQueue, simTaskQueue } from "./simQueue";
import { createUsers } from "./users";

/** API requests per provider, and the 429s of the measured providers (keys `<id>ApiRequests`, `<id>RateLimited`). */
type RequestCounts = { [P in Provider as `${P}ApiRequests`]: number } & {
  [P in Provider as `${P}RateLimited`]?: number;
};

export type DesignRun = {
  design: "fan-out" | "option-a";
  connections: number;
  seconds: number;
  /** Seconds until the last connection of the measured providers was synced (what the budget is measured over). */
  racedSeconds: number;
  outcomes: Partial<Record<SyncOutcome, number>>;
} & RequestCounts & {
    /** Accepted API requests of the measured providers / (budget × racedSeconds / window). */
    budgetUsed: number;
    /** Most accepted API requests of the measured providers seen in any window (sampled every 250 ms) / budget. */
    peakWindowShare: number;
    rateLimitedShare: number;
    queue?: Record<Provider, { dispatched: number; retried: number; gaveUp: number; peakConcurrent: number }>;
  };

export interface SyncTimeResult {
  users: number;
  accounts: Record<Provider, AccountSpec>;
  latencyMs: number;
  budget: number;
  windowSeconds: number;
  queueSettings: Record<Provider, QueueSettings>;
  fanOut: DesignRun;
  optionA: DesignRun;
  ratio: number;
  /** Option A's racedSeconds ÷ the fan-out's: how much longer the measured providers took. */
  racedRatio?: number;
}

const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);

/**
 * Small libraries (each fake's `bench.smallAccount`): the fake server renders each JPEG in about
 * 23 ms of CPU, so with the fake's default sizes it — not the design under test — would be the
 * bottleneck on a 2-core machine. The API requests per sync (what the rate budget counts) do not
 * depend on these sizes below 50 items.
 */
export const SMALL_ACCOUNTS = Object.fromEntries(PROVIDERS.map((p) => [p, FAKES[p].bench.smallAccount])) as Record<
  Provider,
  AccountSpec
>;

/** The providers the race measures: those whose fake has a rolling app-wide rate limit. */
export const RACED: readonly Provider[] = PROVIDERS.filter((p) => FAKES[p].bench.rollingRateLimit);

/**
 * The budget the race reports: the measured providers' limits together (one window: they must
 * share it), e.g. 1,500 API requests per rolling 30 s.
 */
export function raceBudget(): RateLimitSpec {
  const limits = RACED.map((p) => FAKES[p].bench.rollingRateLimit!);
  if (limits.length === 0) throw new Error("No provider's fake has a rolling rate limit (bench.rollingRateLimit).");
  const windowSeconds = limits[0]!.windowSeconds;
  if (limits.some((l) => l.windowSeconds !== windowSeconds)) {
    throw new Error("The providers with a rolling rate limit need the same window for the race's one budget.");
  }
  return { windowSeconds, budget: limits.reduce((sum, l) => sum + l.budget, 0) };
}

/** Accepted API requests of the measured providers (the fake counts 429s for the whole app: only they have a limit). */
function acceptedRaced(stats: Stats): { api: number; rateLimited: number; accepted: number } {
  const api = RACED.reduce((sum, p) => sum + providerRequests(stats, p).api, 0);
  return { api, rateLimited: stats.rateLimited, accepted: api - stats.rateLimited };
}

export function queueSettings(config: Config, provider: Provider): QueueSettings {
  // The same values triggers/sync.ts passes to onTaskDispatched (maxDoublings: 4).
  const q = providerSettings(config, provider).queue;
  return {
    maxDispatchesPerSecond: q.maxDispatchesPerSecond,
    maxConcurrentDispatches: q.maxConcurrent,
    maxAttempts: q.maxAttempts,
    minBackoffSeconds: q.minBackoffSeconds,
    maxBackoffSeconds: q.maxBackoffSeconds,
    maxDoublings: 4,
  };
}

/** Samples the fake's counters of the measured providers to find the busiest rolling window. */
function windowWatcher(fake: BenchFake, windowSeconds: number) {
  const samples: { t: number; accepted: number }[] = [];
  let peak = 0;
  let busy = false;
  const sample = async () => {
    if (busy) return;
    busy = true;
    const { accepted } = acceptedRaced(await fake.stats());
    busy = false;
    const t = Date.now();
    samples.push({ t, accepted });
    while (samples.length > 1 && samples[0]!.t < t - windowSeconds * 1000) samples.shift();
    peak = Math.max(peak, accepted - samples[0]!.accepted);
  };
  void sample();
  const timer = setInterval(() => void sample(), 250);
  return {
    async stop() {
      clearInterval(timer);
      await sample();
      return peak;
    },
  };
}

/**
 * Runs one design and measures it. `run` calls `racedDone` when the measured providers'
 * connections are synced (the last call counts; never called: the end of the run).
 */
async function measure(
  fake: BenchFake,
  run: (racedDone: () => void) => Promise<Partial<Record<SyncOutcome, number>>>,
): Promise<Omit<DesignRun, "design" | "connections" | "queue">> {
  const race = raceBudget();
  for (const p of RACED) await fake.rateLimit(p, FAKES[p].bench.rollingRateLimit!); // also empties the window
  await fake.resetStats();
  const watcher = windowWatcher(fake, race.windowSeconds);
  const t0 = performance.now();
  let racedEnd: number | undefined;
  const outcomes = await run(() => (racedEnd = performance.now()));
  const seconds = (performance.now() - t0) / 1000;
  const racedSeconds = ((racedEnd ?? performance.now()) - t0) / 1000;
  const peak = await watcher.stop();
  const stats = await fake.stats();
  const raced = acceptedRaced(stats);
  const counts: Record<string, number> = {};
  for (const p of PROVIDERS) {
    counts[`${p}ApiRequests`] = providerRequests(stats, p).api;
    if (RACED.includes(p)) counts[`${p}RateLimited`] = stats.rateLimited;
  }
  return {
    seconds: Math.round(seconds * 10) / 10,
    racedSeconds: Math.round(racedSeconds * 10) / 10,
    outcomes,
    ...(counts as RequestCounts),
    budgetUsed: round3(raced.accepted / ((race.budget * racedSeconds) / race.windowSeconds)),
    peakWindowShare: round3(peak / race.budget),
    rateLimitedShare: round3(raced.api > 0 ? raced.rateLimited / raced.api : 0),
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The due connections of one user set, as a single function would list them (same query as the fan-out). */
async function dueConnections(prefix: string, now: Date): Promise<{ uid: string; provider: Provider }[]> {
  const out: { uid: string; provider: Provider }[] = [];
  const snap = await db()
    .collectionGroup(CONNECTIONS)
    .where("status", "==", "connected")
    .where("nextSyncAt", "<=", now)
    .orderBy("nextSyncAt")
    .select("nextSyncAt")
    .get();
  for (const d of snap.docs) {
    const t = parseConnectionPath(d.ref.path);
    if (t && t.uid.startsWith(`${prefix}-`)) out.push(t);
  }
  return out;
}

export async function benchSyncTime(
  fake: BenchFake,
  config: Config,
  opts: { users: number; latencyMs: number; tag: string },
): Promise<SyncTimeResult> {
  const tokens = tokenStoreFromConfig();
  await fake.latency(opts.latencyMs);
  const race = raceBudget();
  const perProvider = <T>(make: (p: Provider) => T) =>
    Object.fromEntries(PROVIDERS.map((p) => [p, make(p)])) as Record<Provider, T>;
  const settings = perProvider((p) => queueSettings(config, p));

  // --- The fan-out design -------------------------------------------------------------------------
  say(`sync time: seeding ${opts.users} users × ${PROVIDERS.length} providers (fan-out set)`);
  const fanSet = await createUsers(fake, tokens, {
    prefix: `bst-f-${opts.tag}`,
    users: opts.users,
    providers: PROVIDERS,
    now: new Date(),
    specs: SMALL_ACCOUNTS,
  });
  const deps: SyncDeps = benchSyncDeps(config, newStorageCounts());
  const outcomesF: Partial<Record<SyncOutcome, number>> = {};
  const handler = async (payload: Parameters<typeof runSync>[1], a: { retryCount: number; id: string }) => {
    const r = await runSync(deps, payload, { retryCount: a.retryCount, taskId: a.id });
    outcomesF[r.outcome] = (outcomesF[r.outcome] ?? 0) + 1;
    return { retry: r.retry };
  };
  const queues = perProvider((p) => new SimQueue(queueFunctionName(p), settings[p], handler));
  say(`sync time: fan-out design (queues ${JSON.stringify(settings)})…`);
  const f = await measure(fake, async (racedDone) => {
    await runFanOut({ db: db(), queue: simTaskQueue(queues), clock: systemClock, config });
    await Promise.all(RACED.map((p) => queues[p].idle()));
    racedDone();
    await Promise.all(PROVIDERS.map((p) => queues[p].idle()));
    return outcomesF;
  });
  const fanOut: DesignRun = {
    design: "fan-out",
    connections: fanSet.length,
    ...f,
    queue: perProvider((p) => ({ ...queues[p].stats })),
  };
  say(
    `sync time: fan-out ${fanOut.seconds} s (measured providers ${fanOut.racedSeconds} s), outcomes ${JSON.stringify(fanOut.outcomes)}`,
  );

  // --- Option A: one function syncing every user in turn -----------------------------------------
  say(`sync time: seeding ${opts.users} users × ${PROVIDERS.length} providers (Option A set)`);
  const prefixA = `bst-a-${opts.tag}`;
  const setA = await createUsers(fake, tokens, {
    prefix: prefixA,
    users: opts.users,
    providers: PROVIDERS,
    now: new Date(),
    specs: SMALL_ACCOUNTS,
  });
  say("sync time: Option A (one function, every connection in turn)…");
  const a = await measure(fake, async (racedDone) => {
    const outcomes: Partial<Record<SyncOutcome, number>> = {};
    for (const c of await dueConnections(prefixA, new Date())) {
      const r = await runSync(
        deps,
        { uid: c.uid, provider: c.provider, reason: "scheduled", requestedAt: Date.now() },
        { retryCount: 0, lastAttempt: true },
      );
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      if (RACED.includes(c.provider)) racedDone();
    }
    return outcomes;
  });
  const optionA: DesignRun = { design: "option-a", connections: setA.length, ...a };
  say(
    `sync time: Option A ${optionA.seconds} s (measured providers ${optionA.racedSeconds} s), outcomes ${JSON.stringify(optionA.outcomes)}`,
  );
  for (const p of RACED) await fake.rateLimit(p, null);

  return {
    users: opts.users,
    accounts: SMALL_ACCOUNTS,
    latencyMs: opts.latencyMs,
    budget: race.budget,
    windowSeconds: race.windowSeconds,
    queueSettings: settings,
    fanOut,
    optionA,
    ratio: Math.round((optionA.seconds / fanOut.seconds) * 10) / 10,
    racedRatio: Math.round((optionA.racedSeconds / fanOut.racedSeconds) * 10) / 10,
  };
}
