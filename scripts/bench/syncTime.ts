/**
 * Bench 2 — time until everyone is synced: U users × 2 providers, the fake provider answering
 * every request after LATENCY ms, with a Spotify-like rolling rate limit (BUDGET API requests per
 * WINDOW seconds for the app) on Spotify. Two designs, in the same run, on separate but identical
 * user sets (so both do first syncs):
 *
 * - fan-out: runFanOut enqueues one task per connection into per-provider queues that dispatch
 *   like Cloud Tasks with the product's queue settings (simQueue.ts); each task runs runSync.
 * - Option A (the seed's): one function that lists the due connections and runs runSync on each
 *   in turn.
 */
import { db } from "../../functions/src/admin";
import { type Config, providerSettings } from "../../functions/src/config";
import { tokenStoreFromConfig } from "../../functions/src/crypto/tokenStore";
import { CONNECTIONS, PROVIDERS, type Provider, parseConnectionPath } from "../../functions/src/paths";
import { runFanOut } from "../../functions/src/sync/fanOut";
import { type SyncDeps, type SyncOutcome, runSync } from "../../functions/src/sync/runSync";
import { systemClock } from "../../functions/src/sync/ports";
import type { BenchFake } from "./fakeProcess";
import { benchSyncDeps, providerRequests } from "./deps";
import { newStorageCounts } from "./instrument";
import { type QueueSettings, SimQueue, simTaskQueue } from "./simQueue";
import { createUsers } from "./users";

export interface DesignRun {
  design: "fan-out" | "option-a";
  connections: number;
  seconds: number;
  outcomes: Partial<Record<SyncOutcome, number>>;
  spotifyApiRequests: number;
  spotifyRateLimited: number;
  instagramApiRequests: number;
  /** Accepted Spotify API requests / (budget × seconds / window). */
  budgetUsed: number;
  /** Most accepted Spotify API requests seen in any window (sampled every 250 ms) / budget. */
  peakWindowShare: number;
  rateLimitedShare: number;
  queue?: Record<Provider, { dispatched: number; retried: number; gaveUp: number; peakConcurrent: number }>;
}

export interface SyncTimeResult {
  users: number;
  accounts: typeof SMALL_ACCOUNTS;
  latencyMs: number;
  budget: number;
  windowSeconds: number;
  queueSettings: Record<Provider, QueueSettings>;
  fanOut: DesignRun;
  optionA: DesignRun;
  ratio: number;
}

const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);

/**
 * Small libraries (3 playlists, 3 single-image posts): the fake server renders each JPEG in about
 * 23 ms of CPU, so with the fake's default sizes (12 playlists, 15 posts with carousels) it — not
 * the design under test — would be the bottleneck on a 2-core machine. The API requests per sync
 * (what the rate budget counts) do not depend on these sizes below 50 items.
 */
export const SMALL_ACCOUNTS = { spotify: { playlists: 3 }, instagram: { media: 3, carousels: false } };

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

/** Samples the fake's Spotify counters to find the busiest rolling window. */
function windowWatcher(fake: BenchFake, windowSeconds: number) {
  const samples: { t: number; accepted: number }[] = [];
  let peak = 0;
  let busy = false;
  const sample = async () => {
    if (busy) return;
    busy = true;
    const r = providerRequests(await fake.stats(), "spotify");
    busy = false;
    const t = Date.now();
    const accepted = r.api - r.rateLimited;
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

async function measure(
  fake: BenchFake,
  opts: { budget: number; windowSeconds: number },
  run: () => Promise<Partial<Record<SyncOutcome, number>>>,
): Promise<Omit<DesignRun, "design" | "connections" | "queue">> {
  await fake.rateLimit("spotify", { windowSeconds: opts.windowSeconds, budget: opts.budget }); // also empties the window
  await fake.resetStats();
  const watcher = windowWatcher(fake, opts.windowSeconds);
  const t0 = performance.now();
  const outcomes = await run();
  const seconds = (performance.now() - t0) / 1000;
  const peak = await watcher.stop();
  const stats = await fake.stats();
  const sp = providerRequests(stats, "spotify");
  const ig = providerRequests(stats, "instagram");
  const accepted = sp.api - sp.rateLimited;
  return {
    seconds: Math.round(seconds * 10) / 10,
    outcomes,
    spotifyApiRequests: sp.api,
    spotifyRateLimited: sp.rateLimited,
    instagramApiRequests: ig.api,
    budgetUsed: round3(accepted / ((opts.budget * seconds) / opts.windowSeconds)),
    peakWindowShare: round3(peak / opts.budget),
    rateLimitedShare: round3(sp.api > 0 ? sp.rateLimited / sp.api : 0),
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
  opts: { users: number; latencyMs: number; budget: number; windowSeconds: number; tag: string },
): Promise<SyncTimeResult> {
  const tokens = tokenStoreFromConfig();
  await fake.latency(opts.latencyMs);
  const settings = { spotify: queueSettings(config, "spotify"), instagram: queueSettings(config, "instagram") };

  // --- The fan-out design -------------------------------------------------------------------------
  say(`sync time: seeding ${opts.users} users × 2 providers (fan-out set)`);
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
  const queues = {
    spotify: new SimQueue("syncSpotify", settings.spotify, handler),
    instagram: new SimQueue("syncInstagram", settings.instagram, handler),
  };
  say(`sync time: fan-out design (queues ${JSON.stringify(settings.spotify)})…`);
  const f = await measure(fake, opts, async () => {
    await runFanOut({ db: db(), queue: simTaskQueue(queues), clock: systemClock, config });
    await Promise.all([queues.spotify.idle(), queues.instagram.idle()]);
    return outcomesF;
  });
  const fanOut: DesignRun = {
    design: "fan-out",
    connections: fanSet.length,
    ...f,
    queue: {
      spotify: { ...queues.spotify.stats },
      instagram: { ...queues.instagram.stats },
    },
  };
  say(`sync time: fan-out ${fanOut.seconds} s, outcomes ${JSON.stringify(fanOut.outcomes)}`);

  // --- Option A: one function syncing every user in turn -----------------------------------------
  say(`sync time: seeding ${opts.users} users × 2 providers (Option A set)`);
  const prefixA = `bst-a-${opts.tag}`;
  const setA = await createUsers(fake, tokens, {
    prefix: prefixA,
    users: opts.users,
    providers: PROVIDERS,
    now: new Date(),
    specs: SMALL_ACCOUNTS,
  });
  say("sync time: Option A (one function, every connection in turn)…");
  const a = await measure(fake, opts, async () => {
    const outcomes: Partial<Record<SyncOutcome, number>> = {};
    for (const c of await dueConnections(prefixA, new Date())) {
      const r = await runSync(
        deps,
        { uid: c.uid, provider: c.provider, reason: "scheduled", requestedAt: Date.now() },
        { retryCount: 0, lastAttempt: true },
      );
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    }
    return outcomes;
  });
  const optionA: DesignRun = { design: "option-a", connections: setA.length, ...a };
  say(`sync time: Option A ${optionA.seconds} s, outcomes ${JSON.stringify(optionA.outcomes)}`);
  await fake.rateLimit("spotify", null);

  return {
    users: opts.users,
    accounts: SMALL_ACCOUNTS,
    latencyMs: opts.latencyMs,
    budget: opts.budget,
    windowSeconds: opts.windowSeconds,
    queueSettings: settings,
    fanOut,
    optionA,
    ratio: Math.round((optionA.seconds / fanOut.seconds) * 10) / 10,
  };
}
