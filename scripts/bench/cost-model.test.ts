import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CATALOG, PROVIDERS } from "../../functions/src/providers/catalog";
import { costModel, syncIntervalMinutes, syncsPerConnectionPerMonth } from "./cost-model";
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
