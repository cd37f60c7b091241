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
 *
 * The machine must not set the pace (on 2 cores the emulators, the fake and the syncs compete):
 *
 * 1. ceiling: first syncs of the measured providers' connections, 40 at a time, no rate limit —
 *    the syncs per second this machine can run, and the API requests one sync makes;
 * 2. the race's budget is sized from it: at most BUDGET_SHARE_OF_CEILING of what the machine can
 *    do, and small enough that the measured providers' requests fill ≥ MIN_WINDOWS windows (a
 *    lower bound over fewer would be all burst); the machine's CPU (/proc/stat) is sampled during
 *    each run to show it was not busy;
 * 3. "known rate": the measured providers' queues dispatch at RATE_SHARE × budget ÷ window ÷
 *    requests per sync (the README's formula), with room to keep that many syncs in flight;
 * 4. adaptive: slots of SLOT_WINDOWS windows each, the queue's rate set before each slot by the
 *    product's controller (queueRate.ts nextQueueRate: AIMD) from whether the last slot saw an
 *    app-wide 429, starting from a tenth of the known rate (never below the bounds' minimum),
 *    never told the budget.
 */
import { db } from "../../functions/src/admin";
import { type Config, providerSettings } from "../../functions/src/config";
import { tokenStoreFromConfig } from "../../functions/src/crypto/tokenStore";
import { CONNECTIONS, PROVIDERS, type Provider, firestorePaths, parseConnectionPath } from "../../functions/src/paths";
import { queueFunctionName } from "../../functions/src/providers/catalog";
import { runFanOut } from "../../functions/src/sync/fanOut";
import { type SyncDeps, type SyncOutcome, runSync } from "../../functions/src/sync/runSync";
import { systemClock } from "../../functions/src/sync/ports";
import { type AccountSpec, FAKES, type RateLimitSpec, type Stats } from "../fake-providers";
import type { BenchFake } from "./fakeProcess";
import { benchSyncDeps, providerRequests } from "./deps";
import { newStorageCounts } from "./instrument";
import { readFileSync } from "node:fs";
import { mapPool } from "../../functions/src/sync/pool";
import { liftProviderPause } from "../../functions/src/sync/providerPause";
import type { TaskQueue } from "../../functions/src/sync/ports";
import { type QueueSettings, SimQueue, simTaskQueue } from "./simQueue";
import { createUsers } from "./users";
import { type QueueRateBounds, nextQueueRate } from "../../functions/src/sync/queueRate";

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
    /** Accepted API requests of the measured providers ÷ (budget ÷ window): the fastest the budget allows, s. */
    lowerBoundSeconds?: number;
    /** racedSeconds ÷ lowerBoundSeconds (target ≤ 1.1). */
    timeRatio?: number;
    /** The machine's CPU during the run (every core, /proc/stat): mean and busiest second. */
    machineCpu?: MachineCpu;
  };

export interface MachineCpu {
  meanBusy: number;
  peakBusy: number;
  seconds: number;
}

/** The syncs per second this machine can run (first syncs of the measured providers, many at once, no limit). */
export interface Ceiling {
  connections: number;
  concurrency: number;
  seconds: number;
  syncsPerSecond: number;
  apiRequestsPerSync: number;
  apiRequestsPerSecond: number;
  machineCpu: MachineCpu;
}

/** One slot of the adaptive rate's run. */
export interface AdaptiveSlot {
  slot: number;
  ratePerSecond: number;
  dispatched: number;
  accepted: number;
  rateLimited: number;
  /** From the fan-out until the slot's last sync ended. */
  seconds: number;
  /** Accepted ÷ (budget × seconds ÷ window). */
  budgetUsed: number;
}

export interface AdaptiveRun {
  controller: string;
  bounds: RateBounds;
  startRate: number;
  knownRate: number;
  slotSeconds: number;
  slots: AdaptiveSlot[];
  /** The first slot that saw an app-wide 429 (the rate reached the budget), 1-based; null: never. */
  convergedAtSlot: number | null;
  /** Mean budget used over the slots after it. */
  budgetUsedAfter: number | null;
  rateLimitedShareAfter: number | null;
}

/**
 * The adaptive rate's decision: a function of the product's shape, `nextQueueRate(current,
 * {appRateLimited}, bounds)` (functions/src/sync/queueRate.ts, pure), which the bench runs by default.
 */
export type RateBounds = QueueRateBounds;
export type RateController = (current: number, outcome: { appRateLimited: boolean }, bounds: RateBounds) => number;

/** The product's controller: what the fan-out calls each tick with QUEUE_RATE_ADAPTIVE on. */
export const PRODUCT_CONTROLLER = {
  name: "the product's nextQueueRate (functions/src/sync/queueRate.ts)",
  next: nextQueueRate satisfies RateController,
};

/**
 * The bench's bounds. The product's defaults (QUEUE_RATE_MIN 1, MAX 50, INCREASE 1, DECREASE 50%)
 * step 1 task/s per slot, too coarse against a budget this machine can serve (about 1 sync/s):
 * the bench steps a quarter of that, from a floor of 0.1/s, and halves after a 429 as they do.
 */
export const DEFAULT_RATE_BOUNDS: RateBounds = { min: 0.1, max: 50, increase: 0.25, decreaseFactor: 0.5 };

/** The race's budget: at most this share of the API requests per second the machine can make. */
export const BUDGET_SHARE_OF_CEILING = 0.5;
/** …and small enough that the measured requests fill at least this many windows. */
export const MIN_WINDOWS = 4;
/**
 * The race's rolling window: the fake's and Spotify's 30 s, which the product's rate gate knows
 * from the provider's descriptor (functions/src/http/rateGate.ts learns the budget in it).
 */
export const RACE_WINDOW_SECONDS = 30;
/** The known-rate queue dispatches at this share of the budget. */
export const RATE_SHARE = 0.95;
/** An adaptive slot lasts this many windows. */
export const SLOT_WINDOWS = 1;

/** The race's budget from the machine's ceiling and the requests to make (see the file comment). */
export function sizeBudget(x: {
  ceilingApiPerSecond: number;
  racedRequests: number;
  windowSeconds: number;
}): RateLimitSpec {
  const perSecond = Math.min(
    BUDGET_SHARE_OF_CEILING * x.ceilingApiPerSecond,
    x.racedRequests / (MIN_WINDOWS * x.windowSeconds),
  );
  return { windowSeconds: x.windowSeconds, budget: Math.max(1, Math.floor(perSecond * x.windowSeconds)) };
}

/** The machine's CPU busy share (all cores) sampled every second from /proc/stat; null where there is none. */
function cpuMeter(): { stop(): MachineCpu } {
  const read = (): { busy: number; total: number } | null => {
    try {
      const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
      const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
      return { busy: total - f[3]! - f[4]!, total };
    } catch {
      return null;
    }
  };
  const first = read();
  let last = first;
  let peak = 0;
  const t0 = Date.now();
  const timer = setInterval(() => {
    const now = read();
    if (now && last && now.total > last.total) peak = Math.max(peak, (now.busy - last.busy) / (now.total - last.total));
    last = now;
  }, 1000);
  return {
    stop() {
      clearInterval(timer);
      const end = read();
      const mean = first && end && end.total > first.total ? (end.busy - first.busy) / (end.total - first.total) : 0;
      return {
        meanBusy: round3(mean),
        peakBusy: round3(Math.max(peak, mean)),
        seconds: Math.round((Date.now() - t0) / 1000),
      };
    },
  };
}

export interface SyncTimeResult {
  /** The machine's own ceiling, measured apart before the race. */
  ceiling?: Ceiling;
  /** The measured providers' queue rate in the known-rate race (RATE_SHARE × budget ÷ window ÷ requests per sync). */
  knownRate?: number;
  adaptive?: AdaptiveRun;
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
  race: RateLimitSpec,
  run: (racedDone: () => void) => Promise<Partial<Record<SyncOutcome, number>>>,
): Promise<Omit<DesignRun, "design" | "connections" | "queue">> {
  // One budget for the measured providers together (the race has one: raceBudget).
  for (const p of RACED)
    await fake.rateLimit(p, { windowSeconds: race.windowSeconds, budget: Math.floor(race.budget / RACED.length) }); // also empties the window
  await fake.resetStats();
  const watcher = windowWatcher(fake, race.windowSeconds);
  const cpu = cpuMeter();
  const t0 = performance.now();
  let racedEnd: number | undefined;
  const outcomes = await run(() => (racedEnd = performance.now()));
  const seconds = (performance.now() - t0) / 1000;
  const racedSeconds = ((racedEnd ?? performance.now()) - t0) / 1000;
  const peak = await watcher.stop();
  const machineCpu = cpu.stop();
  const stats = await fake.stats();
  const raced = acceptedRaced(stats);
  const lowerBoundSeconds = raced.accepted / (race.budget / race.windowSeconds);
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
    lowerBoundSeconds: Math.round(lowerBoundSeconds * 10) / 10,
    timeRatio: lowerBoundSeconds > 0 ? Math.round((racedSeconds / lowerBoundSeconds) * 100) / 100 : 0,
    machineCpu,
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

class MovableClock {
  constructor(public t: number) {}
  now = () => new Date(this.t);
}

/** The machine's own ceiling: first syncs of `n` fresh connections of the measured providers, `concurrency` at once, no limit. */
async function measureCeiling(
  fake: BenchFake,
  deps: SyncDeps,
  opts: { n: number; concurrency: number; tag: string },
): Promise<Ceiling> {
  for (const p of RACED) await fake.rateLimit(p, null);
  const set = await createUsers(fake, tokenStoreFromConfig(), {
    prefix: `bst-c-${opts.tag}`,
    users: Math.ceil(opts.n / RACED.length),
    providers: RACED,
    now: new Date(),
    specs: SMALL_ACCOUNTS,
  });
  await fake.resetStats();
  const cpu = cpuMeter();
  const t0 = performance.now();
  await mapPool(set, opts.concurrency, (c) =>
    runSync(
      deps,
      { uid: c.uid, provider: c.provider, reason: "scheduled", requestedAt: Date.now() },
      { retryCount: 0, lastAttempt: true },
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const machineCpu = cpu.stop();
  const stats = await fake.stats();
  const api = RACED.reduce((sum, p) => sum + providerRequests(stats, p).api, 0);
  return {
    connections: set.length,
    concurrency: opts.concurrency,
    seconds: Math.round(seconds * 10) / 10,
    syncsPerSecond: Math.round((set.length / seconds) * 100) / 100,
    apiRequestsPerSync: Math.round((api / set.length) * 100) / 100,
    apiRequestsPerSecond: Math.round((api / seconds) * 10) / 10,
    machineCpu,
  };
}
export async function benchSyncTime(
  fake: BenchFake,
  config: Config,
  opts: {
    users: number;
    latencyMs: number;
    tag: string;
    ceilingConnections: number;
    adaptiveSlots: number;
    controller?: { name: string; next: RateController };
    bounds?: RateBounds;
  },
): Promise<SyncTimeResult> {
  const tokens = tokenStoreFromConfig();
  await fake.latency(opts.latencyMs);
  const perProvider = <T>(make: (p: Provider) => T) =>
    Object.fromEntries(PROVIDERS.map((p) => [p, make(p)])) as Record<Provider, T>;
  const deps: SyncDeps = benchSyncDeps(config, newStorageCounts());

  // --- The machine's ceiling, and the budget sized from it ----------------------------------------
  say(`sync time: the machine's ceiling (${opts.ceilingConnections} first syncs, 40 at once, no rate limit)…`);
  const ceiling = await measureCeiling(fake, deps, { n: opts.ceilingConnections, concurrency: 40, tag: opts.tag });
  say(`sync time: ceiling ${JSON.stringify(ceiling)}`);
  const race = sizeBudget({
    ceilingApiPerSecond: ceiling.apiRequestsPerSecond,
    racedRequests: opts.users * RACED.length * ceiling.apiRequestsPerSync,
    windowSeconds: RACE_WINDOW_SECONDS,
  });
  const knownRate =
    Math.round(((RATE_SHARE * race.budget) / race.windowSeconds / RACED.length / ceiling.apiRequestsPerSync) * 1000) /
    1000;
  const settings = perProvider((p) => queueSettings(config, p));
  for (const p of RACED) {
    // The README's formula; room for the syncs in flight at that rate (each takes a second or two).
    settings[p] = {
      ...settings[p],
      maxDispatchesPerSecond: knownRate,
      maxConcurrentDispatches: Math.max(settings[p].maxConcurrentDispatches, 50),
    };
  }
  say(`sync time: budget ${race.budget} per ${race.windowSeconds} s; known rate ${knownRate}/s`);

  // --- The fan-out design -------------------------------------------------------------------------
  say(`sync time: seeding ${opts.users} users × ${PROVIDERS.length} providers (fan-out set)`);
  const fanSet = await createUsers(fake, tokens, {
    prefix: `bst-f-${opts.tag}`,
    users: opts.users,
    providers: PROVIDERS,
    now: new Date(),
    specs: SMALL_ACCOUNTS,
  });
  const outcomesF: Partial<Record<SyncOutcome, number>> = {};
  const handler = async (payload: Parameters<typeof runSync>[1], a: { retryCount: number; id: string }) => {
    const r = await runSync(deps, payload, { retryCount: a.retryCount, taskId: a.id });
    outcomesF[r.outcome] = (outcomesF[r.outcome] ?? 0) + 1;
    return { retry: r.retry };
  };
  const queues = perProvider((p) => new SimQueue(queueFunctionName(p), settings[p], handler));
  say(`sync time: fan-out design (queues ${JSON.stringify(settings)})…`);
  const f = await measure(fake, race, async (racedDone) => {
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
  const a = await measure(fake, race, async (racedDone) => {
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

  // --- The adaptive rate: slots, never told the budget ---------------------------------------------
  const adaptive = await adaptiveRun(fake, config, {
    users: opts.users,
    tag: opts.tag,
    race,
    knownRate,
    slots: opts.adaptiveSlots,
    controller: opts.controller ?? PRODUCT_CONTROLLER,
    bounds: opts.bounds ?? DEFAULT_RATE_BOUNDS,
    settings: perProvider((p) => settings[p]),
  });
  for (const p of RACED) await fake.rateLimit(p, null);

  return {
    ceiling,
    knownRate,
    adaptive,
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

/**
 * The adaptive rate against the fake's budget: `slots` slots of SLOT_WINDOWS windows each. Before
 * a slot the clocks move 61 minutes (the connections synced last slot are due again, tokens
 * refreshed) and the fan-out enqueues the set's due connections into one queue per measured
 * provider that dispatches at the current rate; the slot ends after its time, once the syncs in
 * flight have ended; the tasks still waiting are dropped with their pending records (an hour-long
 * slot would have run them before the next one); the controller then sets the next rate from
 * whether an app-wide 429 came back. Only the set's own connections are enqueued.
 */
async function adaptiveRun(
  fake: BenchFake,
  config: Config,
  opts: {
    users: number;
    tag: string;
    race: RateLimitSpec;
    knownRate: number;
    slots: number;
    controller: { name: string; next: RateController };
    bounds: RateBounds;
    settings: Record<Provider, QueueSettings>;
  },
): Promise<AdaptiveRun> {
  const clock = new MovableClock(Date.now());
  const prefix = `bst-d-${opts.tag}`;
  const set = await createUsers(fake, tokenStoreFromConfig(), {
    prefix,
    users: opts.users,
    providers: RACED,
    now: clock.now(),
    specs: SMALL_ACCOUNTS,
  });
  const deps = benchSyncDeps(config, newStorageCounts(), clock);
  const slotSeconds = SLOT_WINDOWS * opts.race.windowSeconds;
  const startRate = Math.max(opts.bounds.min, Math.round((opts.knownRate / 10) * 1000) / 1000);
  let rate = startRate;
  const slots: AdaptiveSlot[] = [];
  // One queue per provider for the whole run; the controller changes its rate as updateQueue does.
  const queues = Object.fromEntries(
    RACED.map((p) => [
      p,
      new SimQueue(queueFunctionName(p), { ...opts.settings[p], maxDispatchesPerSecond: rate }, async (payload, a) => {
        const r = await runSync(deps, payload, { retryCount: a.retryCount, taskId: a.id });
        return { retry: r.retry };
      }),
    ]),
  ) as Record<Provider, SimQueue>;
  const own: TaskQueue = {
    enqueue: async (provider, payload, o) =>
      RACED.includes(provider) && payload.uid.startsWith(`${prefix}-`)
        ? queues[provider].enqueue(payload, o.id)
        : "enqueued",
  };
  for (const p of RACED)
    await fake.rateLimit(p, {
      windowSeconds: opts.race.windowSeconds,
      budget: Math.floor(opts.race.budget / RACED.length),
    });
  for (let k = 1; k <= opts.slots; k++) {
    // Between slots nothing is in flight (each queue stopped), so the clocks can move.
    const gap = 61 * 60_000;
    clock.t += gap;
    await fake.advanceClock(gap);
    await fake.resetStats();
    const dispatchedBefore = RACED.reduce((sum, p) => sum + queues[p].stats.dispatched, 0);
    for (const p of RACED) queues[p].setRate(rate);
    const t0 = Date.now();
    await runFanOut({ db: db(), queue: own, clock, config });
    await new Promise((r) => setTimeout(r, Math.max(0, slotSeconds * 1000 - (Date.now() - t0))));
    // The slot lasts until its last sync ends (a sync that met a 429 may wait in place first). A
    // real slot is an hour: the queue would dispatch the rest at this rate long before the next
    // one. The bench measures only the slot's first SLOT_WINDOWS windows, so it counts the rest as
    // run: drops them, and their pending records with them, or they would wait (and grow stale)
    // into the next slots that the clock reaches in seconds.
    for (const p of RACED) await queues[p].stop();
    const elapsed = (Date.now() - t0) / 1000;
    await Promise.all(
      set.map((c) => db().doc(firestorePaths.connection(c.uid, c.provider)).update({ pendingTask: null })),
    );
    const stats = await fake.stats();
    const raced = acceptedRaced(stats);
    const slot: AdaptiveSlot = {
      slot: k,
      ratePerSecond: rate,
      dispatched: RACED.reduce((sum, p) => sum + queues[p].stats.dispatched, 0) - dispatchedBefore,
      accepted: raced.accepted,
      rateLimited: raced.rateLimited,
      seconds: Math.round(elapsed * 10) / 10,
      budgetUsed: round3(raced.accepted / ((opts.race.budget * elapsed) / opts.race.windowSeconds)),
    };
    slots.push(slot);
    say(`sync time: adaptive slot ${k}: ${JSON.stringify(slot)}`);
    rate = opts.controller.next(rate, { appRateLimited: raced.rateLimited > 0 }, opts.bounds);
  }
  // A 429 paused the provider until a time on this run's clock, hours ahead of the real one.
  for (const p of RACED) await liftProviderPause(db(), p);
  const first = slots.find((x) => x.rateLimited > 0);
  const after = first ? slots.filter((x) => x.slot > first.slot) : [];
  const mean = (xs: number[]) => (xs.length ? round3(xs.reduce((a, b) => a + b, 0) / xs.length) : null);
  const apiAfter = after.reduce((a, x) => a + x.accepted + x.rateLimited, 0);
  return {
    controller: opts.controller.name,
    bounds: opts.bounds,
    startRate,
    knownRate: opts.knownRate,
    slotSeconds,
    slots,
    convergedAtSlot: first?.slot ?? null,
    budgetUsedAfter: mean(after.map((x) => x.budgetUsed)),
    rateLimitedShareAfter: after.length
      ? round3(after.reduce((a, x) => a + x.rateLimited, 0) / Math.max(1, apiAfter))
      : null,
  };
}
