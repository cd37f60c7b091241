/**
 * Bench 3b — many syncs in one instance: the CPU time one sync costs when it runs alone and when
 * C syncs run at once in one process (what a sync task function with `concurrency` ≥ C does on one
 * instance), against the fake provider answering after `latencyMs`.
 *
 * Per provider: `users` connections with the fake's default account sizes get a first sync (not
 * measured), then one round of unchanged syncs per concurrency level, the sync's clock and the
 * fake's moving one sync interval + 1 minute before each round (so tokens that live an hour are
 * refreshed, as before every such sync in production). A round runs its syncs with at most C in
 * flight (mapPool) and reads this process's CPU time (process.cpuUsage, user + system) around
 * it. The fake and the emulators are other processes: their CPU is not counted — as a provider's
 * and Firestore's are not billed to the function.
 *
 * What the cost model takes from it (scripts/bench/cost-model.ts): the CPU seconds per sync at the
 * highest level (the share of a vCPU one sync in flight uses = CPU s ÷ wall s of one sync alone),
 * which bounds how many syncs one 1-vCPU instance can hold.
 */
import type { Config } from "../../functions/src/config";
import { providerSettings } from "../../functions/src/config";
import { tokenStoreFromConfig } from "../../functions/src/crypto/tokenStore";
import { PROVIDERS, type Provider } from "../../functions/src/paths";
import { db } from "../../functions/src/admin";
import { mapPool } from "../../functions/src/sync/pool";
import { liftProviderPause } from "../../functions/src/sync/providerPause";
import { runSync } from "../../functions/src/sync/runSync";
import type { BenchFake } from "./fakeProcess";
import { benchSyncDeps } from "./deps";
import { memorySampler, newStorageCounts } from "./instrument";
import { createUsers } from "./users";

export interface SharingRound {
  provider: Provider;
  /** Syncs in flight at most. */
  concurrency: number;
  syncs: number;
  /** Wall time of the whole round. */
  elapsedMs: number;
  /** Mean wall time of one sync in the round. */
  meanSyncMs: number;
  /** This process's CPU time (user + system) over the round ÷ syncs. */
  cpuMsPerSync: number;
  /** CPU time ÷ elapsed: the share of one core the round kept busy. */
  cpuUtilization: number;
  /** Peak heap of this process during the round (the bench process holds more than a sync, so an upper bound). */
  peakHeapMb: number;
  outcomes: Record<string, number>;
}

export interface SharingResult {
  usersPerProvider: number;
  latencyMs: number;
  levels: number[];
  rounds: SharingRound[];
}

const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);

class MovableClock {
  constructor(public t: number) {}
  now = () => new Date(this.t);
}

export async function benchSharing(
  fake: BenchFake,
  config: Config,
  opts: { users: number; levels: number[]; latencyMs: number; tag: string },
): Promise<SharingResult> {
  await fake.latency(opts.latencyMs);
  for (const provider of PROVIDERS) {
    await fake.rateLimit(provider, null);
    await liftProviderPause(db(), provider); // an earlier bench's 429s may have paused it
  }
  const clock = new MovableClock(Date.now());
  const deps = benchSyncDeps(config, newStorageCounts(), clock);
  const tokens = tokenStoreFromConfig();
  const rounds: SharingRound[] = [];
  for (const provider of PROVIDERS) {
    const conns = await createUsers(fake, tokens, {
      prefix: `bsh-${opts.tag}`,
      users: opts.users,
      providers: [provider],
      now: clock.now(),
    });
    const gapMs = (providerSettings(config, provider).syncIntervalMinutes + 1) * 60_000;
    const round = async (concurrency: number) => {
      const outcomes: Record<string, number> = {};
      let wall = 0;
      const mem = memorySampler(20);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await mapPool(conns, concurrency, async (c) => {
        const s0 = performance.now();
        const r = await runSync(
          deps,
          { uid: c.uid, provider, reason: "scheduled", requestedAt: clock.t },
          { retryCount: 0, lastAttempt: true },
        );
        wall += performance.now() - s0;
        outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      });
      const elapsedMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      return { elapsedMs, wall, cpuMs, outcomes, peakHeapMb: mem.stop().peakHeapMb };
    };
    await round(10); // the first syncs: not measured
    for (const concurrency of opts.levels) {
      clock.t += gapMs;
      await fake.advanceClock(gapMs);
      const r = await round(concurrency);
      const n = conns.length;
      const row: SharingRound = {
        provider,
        concurrency,
        syncs: n,
        elapsedMs: Math.round(r.elapsedMs),
        meanSyncMs: Math.round(r.wall / n),
        cpuMsPerSync: Math.round((r.cpuMs / n) * 10) / 10,
        cpuUtilization: Math.round((r.cpuMs / r.elapsedMs) * 1000) / 1000,
        peakHeapMb: r.peakHeapMb,
        outcomes: r.outcomes,
      };
      rounds.push(row);
      say(
        `sharing: ${provider} ×${n} at ${concurrency} in flight: ${row.elapsedMs} ms, ${row.meanSyncMs} ms a sync, ${row.cpuMsPerSync} ms CPU a sync (${Math.round(row.cpuUtilization * 100)}% of a core)`,
      );
    }
  }
  return { usersPerProvider: opts.users, latencyMs: opts.latencyMs, levels: opts.levels, rounds };
}

/**
 * How many syncs of a provider one instance serves at once, on average (the divisor of its billed
 * instance time), from Little's law and the limits on it:
 *
 *   sharing = max(1, min(dispatch rate × wall s of a sync,   (syncs in flight while its queue drains)
 *                        queue maxConcurrentDispatches,       (Cloud Tasks sends no more at once)
 *                        target × function concurrency,       (Cloud Run adds an instance past it)
 *                        target × vCPU ÷ (CPU s ÷ wall s of a sync)))   (a vCPU's room, same target)
 */
export function instanceSharing(x: {
  dispatchesPerSecond: number;
  syncSeconds: number;
  maxConcurrentDispatches: number;
  concurrency: number;
  cpuSecondsPerSync: number;
  vcpu: number;
  /** Cloud Run's autoscaling target (60% by default), for CPU and for concurrency alike. */
  targetUtilization: number;
}): { sharing: number; limitedBy: "rate" | "queue" | "concurrency" | "cpu" | "none" } {
  const bounds = {
    rate: x.dispatchesPerSecond * x.syncSeconds,
    queue: x.maxConcurrentDispatches,
    concurrency: x.targetUtilization * x.concurrency,
    cpu: x.cpuSecondsPerSync > 0 ? (x.targetUtilization * x.vcpu * x.syncSeconds) / x.cpuSecondsPerSync : Infinity,
  };
  let limitedBy: keyof typeof bounds = "rate";
  for (const k of Object.keys(bounds) as (keyof typeof bounds)[]) if (bounds[k] < bounds[limitedBy]) limitedBy = k;
  const s = bounds[limitedBy];
  return s <= 1 ? { sharing: 1, limitedBy: "none" } : { sharing: s, limitedBy };
}
