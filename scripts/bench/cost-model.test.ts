import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CATALOG, PROVIDERS } from "../../functions/src/providers/catalog";
import { SYNC_TASK_CONCURRENCY } from "../../functions/src/sync/taskQueue";
import { costModel, syncIntervalMinutes, syncsPerConnectionPerMonth } from "./cost-model";
import { instanceSharing } from "./sharing";
import type { BenchResults } from "./report";
import type { PerSync, SyncKind } from "./syncCost";

const inputs = JSON.parse(readFileSync(join(__dirname, "..", "..", "docs", "unit-prices.json"), "utf8")) as Parameters<
  typeof costModel
>[1];

/** A bench result with the same counts for every provider and kind: only the intervals differ. */
function bench(): BenchResults {
  const rows: PerSync[] = PROVIDERS.flatMap((provider) =>
    (["first", "unchanged", "small-change"] as SyncKind[]).flatMap((kind) =>
      (["product", "write-everything"] as const).map((design) => ({
        provider,
        design,
        kind,
        syncs: 1,
        firestore: { reads: 10, writes: 4, deletes: 0 },
        storage: { classA: 1, saves: 0, bytesWritten: 0, deletes: 0 },
        requests: { api: 4, token: 1, cdn: 0 },
        snapshotsWritten: 0,
        ms: 450,
        outcomes: ["success"],
      })),
    ),
  );
  return {
    date: "2026-12-01T00:00:00.000Z",
    mode: "quick",
    command: "npm run bench -- --quick",
    durationSeconds: 0,
    machine: { cpus: 2, cpuModel: "test", memoryGb: 1, node: "v20", os: "test" },
    syncCost: { usersPerProvider: 1, latencyMs: 100, rows, stored: [] },
    metrics: [],
    targets: [],
    notes: [],
  };
}

describe("the cost model's syncs per provider", () => {
  it("when a catalog entry has a syncInterval, then its syncs a month are 730 × 60 ÷ that interval; else 730", () => {
    for (const e of CATALOG) {
      const own = "syncInterval" in e ? e.syncInterval.default : undefined;
      expect(syncIntervalMinutes(e.id)).toBe(own ?? 60);
      expect(syncsPerConnectionPerMonth(e.id, 730)).toBeCloseTo((730 * 60) / (own ?? 60));
    }
  });

  it("when every provider is in the scenario, then the model's syncs add up each provider's interval", () => {
    const scenario = { ...inputs.scenario, providersPerUser: { value: [...PROVIDERS] } };
    const m = costModel(bench(), { ...inputs, scenario });
    const users = scenario.users.value;
    const expected = PROVIDERS.reduce((a, p) => a + users * syncsPerConnectionPerMonth(p, 730), 0);
    expect(m.syncs).toBeCloseTo(expected);
    expect(m.perProvider.map((c) => c.provider)).toEqual([...PROVIDERS]);
    // One fan-out an hour finds the connections due in that hour.
    expect(m.duePerRun).toBeCloseTo(PROVIDERS.reduce((a, p) => a + (users * 60) / syncIntervalMinutes(p), 0));
    // The providers' own costs and the shared fan-out and scheduler make up the total.
    expect(m.perProvider.reduce((a, c) => a + c.usd, 0) + m.sharedUsd).toBeCloseTo(m.total, 6);
  });
});

describe("the syncs one instance serves at once", () => {
  const base = {
    dispatchesPerSecond: 5,
    syncSeconds: 1.2,
    maxConcurrentDispatches: 10,
    concurrency: 40,
    cpuSecondsPerSync: 0.03,
    vcpu: 1,
    targetUtilization: 0.6,
  };
  it("when the queue drains at its rate, then the syncs in flight are rate × wall time (Little's law)", () => {
    expect(instanceSharing(base)).toEqual({ sharing: 6, limitedBy: "rate" });
  });
  it("when the rate would put more in flight than the queue dispatches at once, then maxConcurrent bounds it", () => {
    expect(instanceSharing({ ...base, dispatchesPerSecond: 50 })).toEqual({ sharing: 10, limitedBy: "queue" });
  });
  it("when the syncs are CPU-heavy, then 60% of a vCPU bounds it", () => {
    // 0.6 × 1 vCPU × 1.2 s ÷ 0.24 CPU s = 3 syncs
    expect(instanceSharing({ ...base, cpuSecondsPerSync: 0.24 })).toEqual({ sharing: 3, limitedBy: "cpu" });
  });
  it("when fewer than one sync is in flight on average, then each sync is billed alone", () => {
    expect(instanceSharing({ ...base, dispatchesPerSecond: 0.5 }).sharing).toBe(1);
  });
});

describe("the cost model with measured sharing and a mirror manifest", () => {
  const withSharing = (b: BenchResults): BenchResults => ({
    ...b,
    sharing: {
      usersPerProvider: 10,
      latencyMs: 100,
      levels: [1, 10],
      rounds: PROVIDERS.map((provider) => ({
        provider,
        concurrency: 10,
        syncs: 10,
        elapsedMs: 500,
        meanSyncMs: 450,
        cpuMsPerSync: 20,
        cpuUtilization: 0.4,
        peakHeapMb: 50,
        outcomes: { success: 10 },
      })),
    },
  });

  it("when sharing is measured, then a provider's billed time is its syncs × wall time ÷ its sharing", () => {
    const scenario = {
      ...inputs.scenario,
      providersPerUser: { value: [...PROVIDERS] },
      instanceSharing: { value: "measured" as const },
    };
    const alone = costModel(bench(), { ...inputs, scenario: { ...scenario, instanceSharing: { value: 1 } } });
    const m = costModel(withSharing(bench()), { ...inputs, scenario });
    for (const c of m.perProvider) {
      const q = CATALOG.find((e) => e.id === c.provider)!.queue;
      const expected = instanceSharing({
        dispatchesPerSecond: q.maxDispatchesPerSecond,
        syncSeconds: 0.45,
        maxConcurrentDispatches: q.maxConcurrent,
        concurrency: SYNC_TASK_CONCURRENCY,
        cpuSecondsPerSync: 0.02,
        vcpu: 1,
        targetUtilization: 0.6,
      }).sharing;
      expect(c.sharing).toBeCloseTo(expected);
      expect(c.seconds).toBeCloseTo(expected > 1 ? (c.syncs * 0.45) / expected : c.syncs * 0.5);
    }
    expect(m.total).toBeLessThan(alone.total);
  });

  it("when the mirror keeps a manifest, then Storage lists are one a day per mirroring connection, not one a sync", () => {
    const b = bench();
    b.syncCost!.stored = [
      { provider: "spotify", firestoreDocBytes: 1000, syncRunBytes: 200, storageBytes: 5000, storageObjects: 12 },
    ];
    const scenario = { ...inputs.scenario, providersPerUser: { value: [...PROVIDERS] } };
    const daily = costModel(b, { ...inputs, scenario: { ...scenario, mirrorListsPerConnectionPerDay: { value: 1 } } });
    const every = costModel(b, {
      ...inputs,
      scenario: { ...scenario, mirrorListsPerConnectionPerDay: { value: null } },
    });
    const users = scenario.users.value;
    for (const c of daily.perProvider)
      expect(c.classALists).toBeCloseTo(c.provider === "spotify" ? users * (730 / 24) : 0);
    // Measured: every sync of the fixture lists once (classA 1, saves 0).
    for (const c of every.perProvider) expect(c.classALists).toBeCloseTo(c.syncs);
  });
});
