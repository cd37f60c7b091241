/**
 * `npm run cost-model` — dollars per 1,000 users per month for the scheduled sync, from the counts
 * the bench measured (docs/bench-latest.json, written by `npm run bench -- --publish`) and the
 * unit prices and assumptions in docs/unit-prices.json (the only place they live).
 *
 *   npm run cost-model              prints the model (Markdown)
 *   npm run cost-model -- --write   also rewrites docs/cost-model.md
 *
 * Measured inputs, per provider, per sync (mean over the bench's accounts): Firestore reads,
 * writes and deletes; Storage Class A operations and bytes written; billed function time
 * (the sync's wall time, rounded up to 100 ms). How often each provider syncs comes from its
 * catalog entry (`syncInterval`, else hourly). Per hour: one fan-out (reads ≈ the connections due
 * in that hour).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  PROVIDERS,
  type ProviderId as Provider,
  catalogEntry,
  providerName,
} from "../../functions/src/providers/catalog";
import { SETTINGS } from "../../functions/src/config";
import { ROOT } from "../lib/local-env";
import type { BenchResults } from "./report";
import { SYNC_TASK_CONCURRENCY } from "../../functions/src/sync/taskQueue";
import { instanceSharing } from "./sharing";
import type { PerSync, SyncKind } from "./syncCost";

/** The instance's provider-pause cache of a deployment (PROVIDER_PAUSE_CACHE_SECONDS' default). */
const PAUSE_CACHE_SECONDS = Number(SETTINGS.PROVIDER_PAUSE_CACHE_SECONDS.default);

interface Price {
  value: number;
  unit: string;
  source: string;
  read: string;
}
interface Inputs {
  prices: Record<string, Price>;
  scenario: {
    users: { value: number };
    providersPerUser: { value: Provider[] };
    syncsPerConnectionPerMonth: { value: number };
    shareOfSyncsWithChange: { value: Record<Provider, number> };
    /** Free but limited provider API quotas (units a day per project), by provider. */
    dailyApiQuotas?: {
      value: Partial<Record<Provider, { unitsPerDay: number; unitsPerApiRequest: number; source: string }>>;
    };
    functionMemoryGib: { value: number };
    functionVcpu: { value: number };
    /**
     * How many syncs share one instance's billed time: "measured" (from the bench's sharing rounds,
     * the queue settings and the functions' concurrency: sync/sharing.ts instanceSharing), or a number.
     */
    instanceSharing: { value: number | "measured" };
    /** Cloud Run's autoscaling target: it adds instances past this CPU utilization (bounds the sharing). */
    targetCpuUtilization?: { value: number };
    /**
     * Lists of a connection's mirror folder a day once the mirror keeps a manifest (unchanged syncs
     * list nothing; a daily reconciliation lists the folder); null: every sync lists, as measured.
     */
    mirrorListsPerConnectionPerDay?: { value: number | null };
    tasksOperationsPerSync: { value: number };
    firestoreStorageOverhead: { value: number };
    syncRunsKeptDays: { value: number };
    dashboardOpensPerUserPerMonth: { value: number };
  };
}

export interface LineItem {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  formula: string;
  usd: number;
}

const GIB = 1024 ** 3;

/**
 * SYNC_INTERVAL_MINUTES's default: the fan-out runs once a slot (hourly), and a provider without
 * a `syncInterval` of its own syncs in every slot — the scenario's 730 syncs a month.
 */
export const SLOT_MINUTES = 60;

/**
 * Minutes between two syncs of one connection of `provider`: its catalog entry's `syncInterval`
 * default, rounded up to whole slots and never below one (as config.ts's providerSettings does);
 * one slot for a provider without one.
 */
export function syncIntervalMinutes(provider: Provider): number {
  const own = catalogEntry(provider).syncInterval?.default;
  if (own === undefined || own <= SLOT_MINUTES) return SLOT_MINUTES;
  return Math.ceil(own / SLOT_MINUTES) * SLOT_MINUTES;
}

/** Syncs of one connection a month: the scenario's hourly count (730) × 60 ÷ the provider's interval. */
export function syncsPerConnectionPerMonth(provider: Provider, hourlyPerMonth: number): number {
  return (hourlyPerMonth * SLOT_MINUTES) / syncIntervalMinutes(provider);
}

/** What one provider's connections add up to (its syncs; the fan-out and the scheduler are shared). */
export interface ProviderCost {
  provider: Provider;
  intervalMinutes: number;
  syncsPerConnection: number;
  syncs: number;
  reads: number;
  writes: number;
  deletes: number;
  classA: number;
  /** Billed instance seconds of its syncs: Σ wall time ÷ sharing. */
  seconds: number;
  /** Syncs one instance serves at once (the divisor of the billed time), and what bounds it. */
  sharing: number;
  sharingLimitedBy: string;
  /** Inputs of the sharing: mean wall s of a sync, CPU s of a sync (measured, null if not), the queue's rate. */
  syncSeconds: number;
  cpuSecondsPerSync: number | null;
  dispatchesPerSecond: number;
  maxConcurrentDispatches: number;
  /**
   * Provider-pause reads a sync makes with the instance's cache (PROVIDER_PAUSE_CACHE_SECONDS):
   * one per instance per cache period, instead of the measured one a sync (the bench runs uncached).
   */
  pauseReadsPerSync: number;
  /** Storage Class A: object writes and lists of the mirror folder. */
  classAWrites: number;
  classALists: number;
  firestoreBytes: number;
  storageBytes: number;
  usd: number;
}

/** A free but limited provider API quota, against the scenario's use of it. */
export interface QuotaUse {
  provider: Provider;
  unitsPerDay: number;
  source: string;
  apiRequestsPerSync: number;
  unitsPerSync: number;
  syncsPerDay: number;
  usedPerDay: number;
  /** Users one project's quota serves at this use. */
  usersPerProject: number;
}

export function costModel(bench: BenchResults, inputs: Inputs, design: PerSync["design"] = "product") {
  if (!bench.syncCost)
    throw new Error("docs/bench-latest.json has no sync-cost results: run `npm run bench -- --publish` first.");
  const p = (k: string) => {
    const v = inputs.prices[k];
    if (!v) throw new Error(`docs/unit-prices.json has no price "${k}".`);
    return v.value;
  };
  const s = inputs.scenario;
  const users = s.users.value;
  const hourlyPerMonth = s.syncsPerConnectionPerMonth.value;
  const providers = s.providersPerUser.value;
  const row = (provider: Provider, kind: SyncKind) => {
    const r = bench.syncCost!.rows.find((x) => x.provider === provider && x.design === design && x.kind === kind);
    if (!r) throw new Error(`docs/bench-latest.json has no ${design} ${kind} sync for ${provider}.`);
    return r;
  };
  // A scheduled sync's mix: unchanged syncs and small changes, per provider.
  const mix = (provider: Provider, f: (r: PerSync) => number) => {
    const c = s.shareOfSyncsWithChange.value[provider];
    if (c === undefined) throw new Error(`docs/unit-prices.json has no shareOfSyncsWithChange for ${provider}.`);
    return c * f(row(provider, "small-change")) + (1 - c) * f(row(provider, "unchanged"));
  };
  const billedSeconds = (r: PerSync) => Math.ceil(r.ms / 100) / 10;
  const stored = bench.syncCost.stored;
  const daysPerMonth = hourlyPerMonth / 24;
  const listsPerDay = s.mirrorListsPerConnectionPerDay?.value ?? null;
  const sharingOf = (provider: Provider, syncSeconds: number) => {
    const q = catalogEntry(provider).queue;
    const rounds = bench.sharing?.rounds.filter((x) => x.provider === provider) ?? [];
    // The CPU a sync costs with the most syncs in flight the bench ran.
    const busiest = rounds.reduce<(typeof rounds)[number] | undefined>(
      (a, x) => (!a || x.concurrency > a.concurrency ? x : a),
      undefined,
    );
    const cpuSecondsPerSync = busiest ? busiest.cpuMsPerSync / 1000 : null;
    const base = {
      cpuSecondsPerSync,
      dispatchesPerSecond: q.maxDispatchesPerSecond,
      maxConcurrentDispatches: q.maxConcurrent,
    };
    if (s.instanceSharing.value !== "measured")
      return { ...base, sharing: s.instanceSharing.value, limitedBy: "assumed" };
    if (cpuSecondsPerSync === null) return { ...base, sharing: 1, limitedBy: "not measured" };
    const r = instanceSharing({
      dispatchesPerSecond: q.maxDispatchesPerSecond,
      syncSeconds,
      maxConcurrentDispatches: q.maxConcurrent,
      concurrency: SYNC_TASK_CONCURRENCY,
      cpuSecondsPerSync,
      vcpu: s.functionVcpu.value,
      targetUtilization: s.targetCpuUtilization?.value ?? 0.6,
    });
    return { ...base, sharing: r.sharing, limitedBy: r.limitedBy };
  };
  const perProvider: ProviderCost[] = providers.map((provider) => {
    const intervalMinutes = syncIntervalMinutes(provider);
    const syncsPerConnection = syncsPerConnectionPerMonth(provider, hourlyPerMonth);
    const n = users * syncsPerConnection;
    const b = stored.find((x) => x.provider === provider);
    // sync_runs documents a connection keeps: its syncs a day × the TTL in days × the rows a sync
    // writes (measured: a quiet run, scheduled and unchanged, writes none; older benches: one each).
    const runsKept = ((24 * 60) / intervalMinutes) * s.syncRunsKeptDays.value * mix(provider, (r) => r.runRows ?? 1);
    const syncSeconds = mix(provider, (r) => r.ms / 1000);
    const sh = sharingOf(provider, syncSeconds);
    // Billed instance time: alone, each sync rounded up to 100 ms; shared, the instance's busy time.
    const seconds = sh.sharing > 1 ? (n * syncSeconds) / sh.sharing : n * mix(provider, billedSeconds);
    // The pause read: once per instance per cache period. Instances at once = syncs in flight
    // (rate × W) ÷ sharing; syncs a period = rate × TTL; the bench measures it uncached.
    const instances = Math.max(1, Math.ceil((sh.dispatchesPerSecond * syncSeconds) / sh.sharing));
    const pauseReadsPerSync =
      PAUSE_CACHE_SECONDS > 0 ? Math.min(1, instances / (sh.dispatchesPerSecond * PAUSE_CACHE_SECONDS)) : 1;
    const measuredPauseReads = mix(provider, (r) => r.pauseReads ?? 0);
    const classAWrites = n * mix(provider, (r) => r.storage.saves);
    // With a manifest: one list (a page per 1,000 objects) a connection a day, for a provider that mirrors.
    const mirrors = (b?.storageObjects ?? 0) > 0;
    const classALists =
      listsPerDay === null
        ? n * mix(provider, (r) => r.storage.classA - r.storage.saves)
        : mirrors
          ? users * daysPerMonth * listsPerDay * Math.max(1, Math.ceil((b?.storageObjects ?? 0) / 1000))
          : 0;
    return {
      provider,
      intervalMinutes,
      syncsPerConnection,
      syncs: n,
      reads: n * (mix(provider, (r) => r.firestore.reads) - measuredPauseReads * (1 - pauseReadsPerSync)),
      pauseReadsPerSync: measuredPauseReads > 0 ? pauseReadsPerSync : 0,
      writes: n * mix(provider, (r) => r.firestore.writes),
      deletes: n * mix(provider, (r) => r.firestore.deletes),
      classA: classAWrites + classALists,
      classAWrites,
      classALists,
      seconds,
      sharing: sh.sharing,
      sharingLimitedBy: sh.limitedBy,
      syncSeconds,
      cpuSecondsPerSync: sh.cpuSecondsPerSync,
      dispatchesPerSecond: sh.dispatchesPerSecond,
      maxConcurrentDispatches: sh.maxConcurrentDispatches,
      firestoreBytes:
        users * (b ? b.firestoreDocBytes + runsKept * b.syncRunBytes : 0) * s.firestoreStorageOverhead.value,
      storageBytes: users * (b?.storageBytes ?? 0),
      usd: 0,
    };
  });
  // What one provider's syncs cost at these prices (every item but the fan-out and the scheduler).
  for (const c of perProvider) {
    c.usd =
      (c.syncs / 1e6) * p("functionsRequestsPerMillion") +
      c.seconds * s.functionVcpu.value * p("functionsVcpuSecond") +
      c.seconds * s.functionMemoryGib.value * p("functionsGibSecond") +
      ((c.syncs * s.tasksOperationsPerSync.value) / 1e6) * p("tasksOperationsPerMillion") +
      (c.reads / 1e5) * p("firestoreReadsPer100k") +
      (c.writes / 1e5) * p("firestoreWritesPer100k") +
      (c.deletes / 1e5) * p("firestoreDeletesPer100k") +
      (c.firestoreBytes / GIB) * p("firestoreStorageGibMonth") +
      (c.classA / 1000) * p("storageClassAPer1000") +
      (c.storageBytes / GIB) * p("storageGibMonth");
  }
  const sum = (f: (c: ProviderCost) => number) => perProvider.reduce((a, c) => a + f(c), 0);
  const syncs = sum((c) => c.syncs);
  let reads = sum((c) => c.reads);
  let writes = sum((c) => c.writes);
  const deletes = sum((c) => c.deletes);
  const classA = sum((c) => c.classA);
  let seconds = sum((c) => c.seconds);
  const firestoreBytes = sum((c) => c.firestoreBytes);
  const storageBytes = sum((c) => c.storageBytes);

  // The fan-out: once a slot, reading one document per connection due in that slot (a provider
  // with a longer interval has 60 ÷ interval of its connections due in each), one for the empty
  // "error" query, the app-wide pause document of every provider (sync/providerPause.ts) and one
  // retention query per provider with a maximum data age (sync/retention.ts; empty in a steady
  // state: one read). Run time from the bench's 20 ms-per-enqueue runs.
  const duePerRun = users * providers.reduce((a, pr) => a + SLOT_MINUTES / syncIntervalMinutes(pr), 0);
  const fanOutExtraReads = 1 + PROVIDERS.length + PROVIDERS.filter((pr) => catalogEntry(pr).dataPolicy).length;
  const fanOutRuns = hourlyPerMonth;
  const delay = bench.fanOut?.runs.filter((r) => r.port === "delay20") ?? [];
  const rate = delay.length > 0 ? Math.min(...delay.map((r) => r.tasksPerSecond)) : 2000;
  const fanOutSeconds = Math.ceil((duePerRun / rate) * 10) / 10 + 0.1;
  const fanOutReads = fanOutRuns * (duePerRun + fanOutExtraReads);
  reads += fanOutReads;
  // Backlog control (sync/backlog.ts): the fan-out records each task it enqueues on its
  // connection (`pendingTask`, one document write each; the lease that takes it clears it in the
  // lease's own write).
  const fanOutWrites = fanOutRuns * duePerRun;
  writes += fanOutWrites;
  seconds += fanOutRuns * fanOutSeconds;

  const items: LineItem[] = [];
  // `seconds`: the syncs' billed instance time (already ÷ their sharing) + the fan-out's (it runs alone).
  const vcpuSeconds = seconds * s.functionVcpu.value;
  const gibSeconds = seconds * s.functionMemoryGib.value;
  const invocations = syncs + fanOutRuns;
  items.push(
    {
      service: "Cloud Functions",
      item: "invocations",
      quantity: invocations,
      unit: "requests",
      formula: "(syncs + fan-out runs) × price/1M",
      usd: (invocations / 1e6) * p("functionsRequestsPerMillion"),
    },
    {
      service: "Cloud Functions",
      item: "CPU",
      quantity: vcpuSeconds,
      unit: "vCPU-s",
      formula: "Σ_p S_p × wall s_p ÷ sharing_p × vCPU × price (+ fan-out s)",
      usd: vcpuSeconds * p("functionsVcpuSecond"),
    },
    {
      service: "Cloud Functions",
      item: "memory",
      quantity: gibSeconds,
      unit: "GiB-s",
      formula: "Σ_p S_p × wall s_p ÷ sharing_p × GiB × price (+ fan-out s)",
      usd: gibSeconds * p("functionsGibSecond"),
    },
  );
  const ops = syncs * s.tasksOperationsPerSync.value;
  items.push({
    service: "Cloud Tasks",
    item: "operations",
    quantity: ops,
    unit: "operations",
    formula: "syncs × ops/sync × price/1M",
    usd: (ops / 1e6) * p("tasksOperationsPerMillion"),
  });
  items.push(
    {
      service: "Firestore",
      item: "reads",
      quantity: reads,
      unit: "reads",
      formula: `syncs × reads/sync + fan-outs × (due connections + ${fanOutExtraReads})`,
      usd: (reads / 1e5) * p("firestoreReadsPer100k"),
    },
    {
      service: "Firestore",
      item: "writes",
      quantity: writes,
      unit: "writes",
      formula: "(syncs × writes/sync + fan-outs × due connections, the pendingTask records) × price/100k",
      usd: (writes / 1e5) * p("firestoreWritesPer100k"),
    },
    {
      service: "Firestore",
      item: "deletes",
      quantity: deletes,
      unit: "deletes",
      formula: "syncs × deletes/sync × price/100k",
      usd: (deletes / 1e5) * p("firestoreDeletesPer100k"),
    },
  );
  items.push({
    service: "Firestore",
    item: "storage",
    quantity: firestoreBytes / GIB,
    unit: "GiB-month",
    formula:
      "users × Σ_p (snapshot+connection+token docs + syncs a day × TTL days × sync_runs rows a sync × sync_runs doc) × overhead",
    usd: (firestoreBytes / GIB) * p("firestoreStorageGibMonth"),
  });
  items.push(
    {
      service: "Cloud Storage",
      item: "Class A operations",
      quantity: classA,
      unit: "operations",
      formula:
        listsPerDay === null
          ? "syncs × (list pages + object writes)/sync × price/1k"
          : `syncs × object writes/sync + connections that mirror × ${listsPerDay} list/day × ${Math.round(daysPerMonth * 100) / 100} days, × price/1k`,
      usd: (classA / 1000) * p("storageClassAPer1000"),
    },
    {
      service: "Cloud Storage",
      item: "storage",
      quantity: storageBytes / GIB,
      unit: "GiB-month",
      formula: "users × mirrored bytes per user × price",
      usd: (storageBytes / GIB) * p("storageGibMonth"),
    },
    {
      service: "Cloud Storage",
      item: "egress (sync)",
      quantity: 0,
      unit: "GiB",
      formula: "the sync only writes into Storage (ingress and same-region traffic are free)",
      usd: 0,
    },
  );
  items.push({
    service: "Cloud Scheduler",
    item: "fan-out job",
    quantity: 1,
    unit: "job",
    formula: "one job per project (not per user; 3 free per billing account)",
    usd: p("schedulerJobMonth"),
  });
  const total = items.reduce((a, b) => a + b.usd, 0);
  // The fan-out and the scheduler job serve every provider.
  const sharedUsd =
    (fanOutRuns / 1e6) * p("functionsRequestsPerMillion") +
    fanOutRuns * fanOutSeconds * s.functionVcpu.value * p("functionsVcpuSecond") +
    fanOutRuns * fanOutSeconds * s.functionMemoryGib.value * p("functionsGibSecond") +
    (fanOutReads / 1e5) * p("firestoreReadsPer100k") +
    (fanOutWrites / 1e5) * p("firestoreWritesPer100k") +
    p("schedulerJobMonth");

  // Free but limited provider quotas: what the scenario's syncs use of them.
  const quotas: QuotaUse[] = [];
  for (const provider of providers) {
    const q = s.dailyApiQuotas?.value[provider];
    if (!q) continue;
    const apiRequestsPerSync = mix(provider, (r) => r.requests.api);
    const unitsPerSync = apiRequestsPerSync * q.unitsPerApiRequest;
    const syncsPerDay = (24 * 60) / syncIntervalMinutes(provider);
    const usedPerDay = users * syncsPerDay * unitsPerSync;
    quotas.push({
      provider,
      unitsPerDay: q.unitsPerDay,
      source: q.source,
      apiRequestsPerSync,
      unitsPerSync,
      syncsPerDay,
      usedPerDay,
      usersPerProject: unitsPerSync > 0 ? Math.floor(q.unitsPerDay / (syncsPerDay * unitsPerSync)) : Infinity,
    });
  }

  // Reading it back (not the sync): dashboard opens.
  const opens = users * s.dashboardOpensPerUserPerMonth.value;
  // Each provider's snapshot documents (its catalog entry) and its connection document.
  const snapshotDocs = providers.reduce((a, pr) => a + catalogEntry(pr).snapshots.length + 1, 0);
  const dashboard = {
    opens,
    readsUsd: ((opens * snapshotDocs) / 1e5) * p("firestoreReadsPer100k"),
    egressUsd: ((opens * storageBytes) / users / GIB) * p("egressGib"),
    classBUsd:
      ((opens *
        (storageBytes > 0
          ? providers.reduce((a, pr) => a + (stored.find((x) => x.provider === pr)?.storageObjects ?? 0), 0)
          : 0)) /
        1000) *
      p("storageClassBPer1000"),
  };
  return {
    items,
    total,
    syncs,
    fanOutSeconds,
    duePerRun,
    fanOutExtraReads,
    perProvider,
    sharedUsd,
    quotas,
    dashboard,
  };
}

const usd = (x: number) => (x >= 1 ? `$${x.toFixed(2)}` : x >= 0.01 ? `$${x.toFixed(3)}` : `$${x.toFixed(4)}`);
const qty = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: x < 10 ? 2 : 0 });

export function render(bench: BenchResults, inputs: Inputs): string {
  const m = costModel(bench, inputs, "product");
  const w = costModel(bench, inputs, "write-everything");
  const s = inputs.scenario;
  const listsPerDay = s.mirrorListsPerConnectionPerDay?.value ?? null;
  const byService = new Map<string, number>();
  for (const i of m.items) byService.set(i.service, (byService.get(i.service) ?? 0) + i.usd);
  const out: string[] = [];
  const hourly = s.syncsPerConnectionPerMonth.value;
  const ttl = s.syncRunsKeptDays.value;
  const names = (xs: string[]) => (xs.length < 2 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs.at(-1)!}`);
  const intervals = m.perProvider
    .map(
      (c) =>
        `${providerName(c.provider)} every ${c.intervalMinutes} min → ${c.syncsPerConnection.toLocaleString("en-US", { maximumFractionDigits: 2 })}`,
    )
    .join(", ");
  out.push(
    "# Cost model: the scheduled sync, per 1,000 users per month",
    "",
    "Generated by `npm run cost-model -- --write` (scripts/bench/cost-model.ts) from the counts `npm run bench` measured",
    `(docs/bench-latest.json, ${bench.date.slice(0, 10)}, ${bench.mode} run) and the unit prices and assumptions in`,
    "docs/unit-prices.json — change a price or an assumption there and run it again; do not edit the numbers here.",
    "",
    "## Formula",
    "",
    `For each provider p (every user connected ${names(s.providersPerUser.value.map(providerName))}), with S_p = users × ${hourly} × ${SLOT_MINUTES} ÷ interval_p syncs a month — syncs per provider follow each provider's interval: interval_p = its catalog entry's \`syncInterval\` default in minutes, else every ${SLOT_MINUTES} (hourly, ${hourly} a month); per connection: ${intervals} —`,
    "and c_p = the share of syncs that find a small change (the rest are unchanged):",
    "",
    "```",
    "per-sync count x_p   = c_p × x(small change, measured) + (1 − c_p) × x(unchanged, measured)",
    `S_p                  = users × ${hourly} × ${SLOT_MINUTES} ÷ interval_p`,
    "Firestore            = Σ_p S_p × (reads_p × $/read + writes_p × $/write + deletes_p × $/delete)",
    `                       reads_p: the measured reads, its provider-pause read replaced by instances_p ÷ (rate_p × ${PAUSE_CACHE_SECONDS} s)`,
    `                       (PROVIDER_PAUSE_CACHE_SECONDS: an instance reads the pause once per ${PAUSE_CACHE_SECONDS} s; instances_p = ⌈rate_p × W_p ÷ sharing_p⌉)`,
    `                     + ${hourly} fan-outs × (due + ${m.fanOutExtraReads}) reads × $/read`,
    `                       (due = users × Σ_p ${SLOT_MINUTES} ÷ interval_p connections an hour; + the empty "error" query, each provider's pause document, each retention query)`,
    `                     + ${hourly} fan-outs × due writes × $/write   (each enqueued task recorded on its connection: pendingTask, sync/backlog.ts)`,
    `                     + stored GiB × overhead × $/GiB-month   (snapshots, connection, tokens; sync_runs: 1,440 ÷ interval_p × ${ttl} days × rows a sync, per connection)`,
    `Cloud Functions      = (Σ_p S_p + ${hourly}) × $/request`,
    "                     + Σ_p S_p × W_p ÷ sharing_p × (vCPU × $/vCPU-s + GiB × $/GiB-s)   (billed instance time)",
    "                     + fan-outs × fan-out s × (vCPU × $/vCPU-s + GiB × $/GiB-s)",
    "                       W_p = the sync's measured wall time (the unchanged / small-change mix); fan-out s = due ÷ tasks/s",
    "sharing_p            = max(1, min(rate_p × W_p, maxConcurrent_p, util × concurrency, util × vCPU × W_p ÷ cpu_p))",
    "                       (Little's law: syncs in flight while the queue drains at its dispatch rate; Cloud Tasks sends at most",
    "                        maxConcurrent_p at once; Cloud Run adds an instance past `util` (60%) of its concurrency or of its CPU;",
    "                        cpu_p = measured CPU s of one sync with many in flight; sharing 1: each sync billed alone, rounded up to 100 ms)",
    `Cloud Tasks          = Σ_p S_p × ${s.tasksOperationsPerSync.value} operations (create + delivery) × $/operation`,
    listsPerDay === null
      ? "Cloud Storage        = Σ_p S_p × Class A ops_p × $/op + mirrored GiB × $/GiB-month (the sync has no egress)"
      : `Cloud Storage        = (Σ_p S_p × object writes_p + users × ${listsPerDay} list/day × ${Math.round((hourly / 24) * 100) / 100} days per mirroring provider) × $/op + mirrored GiB × $/GiB-month`,
    "Cloud Scheduler      = 1 job × $/job-month (per project, not per user)",
    "```",
    "",
    `Assumptions (docs/unit-prices.json → scenario): change shares ${JSON.stringify(s.shareOfSyncsWithChange.value)}; ${s.functionVcpu.value} vCPU, ${s.functionMemoryGib.value} GiB per instance; instance sharing ${s.instanceSharing.value === "measured" ? `measured (concurrency ${SYNC_TASK_CONCURRENCY} per instance, functions/src/sync/taskQueue.ts; Cloud Run's autoscaling target ${s.targetCpuUtilization?.value ?? 0.6} CPU)` : `${s.instanceSharing.value} (assumed)`}; ${listsPerDay === null ? "every sync lists the mirror folder (as measured)" : `the mirror keeps a manifest: an unchanged sync lists nothing, a daily reconciliation lists the folder (${listsPerDay} a connection a day; the measured lists per sync are not used)`}; ${s.tasksOperationsPerSync.value} Cloud Tasks operations per sync; Firestore storage overhead ×${s.firestoreStorageOverhead.value}. List prices beyond free tiers (the free tiers — e.g. 2 M function requests, 1 M task operations, 50,000 Firestore reads a day — would absorb most of a 1,000-user bill). The sync's wall time includes the fake provider's 100 ms per request, i.e. it assumes providers answer in about 100 ms.`,
    "",
    "## Syncs per instance (the sharing)",
    "",
    "| provider | W (wall s a sync) | CPU s a sync (measured, many in flight) | queue rate × W | maxConcurrent | sharing | bounded by | billed instance s a month | pause reads a sync |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ...m.perProvider.map(
      (c) =>
        `| ${providerName(c.provider)} | ${c.syncSeconds.toFixed(3)} | ${c.cpuSecondsPerSync === null ? "–" : c.cpuSecondsPerSync.toFixed(4)} | ${c.dispatchesPerSecond} × ${c.syncSeconds.toFixed(2)} = ${(c.dispatchesPerSecond * c.syncSeconds).toFixed(2)} | ${c.maxConcurrentDispatches} | ${c.sharing.toFixed(2)} | ${c.sharingLimitedBy} | ${qty(c.seconds)} | ${c.pauseReadsPerSync.toFixed(3)} |`,
    ),
    "",
    "The queue rate and maxConcurrent are the catalog defaults (`<PROVIDER>_QUEUE_MAX_DISPATCHES_PER_SECOND`, `…_MAX_CONCURRENT`): a faster queue keeps more syncs in flight and so shares more, until concurrency or CPU bounds it.",
    "",
    "## Per 1,000 users per month",
    "",
    "| service | item | quantity | formula | USD |",
    "| --- | --- | ---: | --- | ---: |",
  );
  for (const i of m.items)
    out.push(`| ${i.service} | ${i.item} | ${qty(i.quantity)} ${i.unit} | ${i.formula} | ${usd(i.usd)} |`);
  out.push(`| **total** | | ${qty(m.syncs)} syncs | | **${usd(m.total)}** |`, "");
  out.push("## Where the cost goes", "", "| service | USD | share |", "| --- | ---: | ---: |");
  for (const [k, v] of [...byService].sort((a, b) => b[1] - a[1]))
    out.push(`| ${k} | ${usd(v)} | ${Math.round((v / m.total) * 1000) / 10}% |`);
  out.push(
    "",
    `Against "write everything every time" (the single-tenant way: every snapshot set, every image downloaded and stored on every sync; measured the same way): **${usd(w.total)}** per 1,000 users per month (Firestore writes ${usd(w.items.find((i) => i.item === "writes")!.usd)} vs ${usd(m.items.find((i) => i.item === "writes")!.usd)}, Storage Class A ${usd(w.items.find((i) => i.item === "Class A operations")!.usd)} vs ${usd(m.items.find((i) => i.item === "Class A operations")!.usd)}). That variant writes no connection status or run log, so its Firestore writes per sync can be lower than the product's when the data is small; its Storage writes are not.`,
  );
  const pct = (v: number) => `${Math.round((v / m.total) * 1000) / 10}%`;
  out.push(
    "",
    "## By provider",
    "",
    "Each provider's syncs (function time and invocations, task operations, their Firestore reads, writes, deletes and stored documents, their Storage operations and bytes); the hourly fan-out and the scheduler job serve them all.",
    "",
    "| provider | interval | syncs a month | USD | share |",
    "| --- | ---: | ---: | ---: | ---: |",
  );
  for (const c of m.perProvider)
    out.push(
      `| ${providerName(c.provider)} | ${c.intervalMinutes} min | ${qty(c.syncs)} | ${usd(c.usd)} | ${pct(c.usd)} |`,
    );
  out.push(
    `| fan-out + scheduler (shared) | ${SLOT_MINUTES} min | ${qty(s.syncsPerConnectionPerMonth.value)} runs | ${usd(m.sharedUsd)} | ${pct(m.sharedUsd)} |`,
  );
  if (m.quotas.length > 0) {
    out.push("", "## Provider API quotas: free, but limited", "");
    for (const q of m.quotas)
      out.push(
        `${providerName(q.provider)}: its API costs nothing, but its quota is limited to ${qty(q.unitsPerDay)} units a day per project (${q.source}; docs/unit-prices.json → scenario.dailyApiQuotas). At the measured ${qty(q.apiRequestsPerSync)} API requests (${qty(q.unitsPerSync)} units) per sync and ${qty(q.syncsPerDay)} syncs a day, ${qty(s.users.value)} users use ${qty(q.usedPerDay)} units a day, ${Math.round((q.usedPerDay / q.unitsPerDay) * 100)}% of it${q.usedPerDay > q.unitsPerDay ? " (more than one project's quota allows)" : ""}: one project's quota serves about ${qty(q.usersPerProject)} such users (larger libraries cost more units per sync). Beyond that the limit is not money: a longer sync interval, or more quota from the provider.`,
        "",
      );
    out.pop();
  }
  out.push(
    "",
    "## Not the sync: people reading their data",
    "",
    `If each user opens the dashboard ${s.dashboardOpensPerUserPerMonth.value} times a month and every open reads the snapshot and connection documents and downloads every mirrored image (no browser cache): ${qty(m.dashboard.opens)} opens → Firestore reads ${usd(m.dashboard.readsUsd)}, Storage Class B ${usd(m.dashboard.classBUsd)}, egress ${usd(m.dashboard.egressUsd)} per 1,000 users per month.`,
    "",
    "## Unit prices used",
    "",
    "| price | value | source | read |",
    "| --- | ---: | --- | --- |",
  );
  for (const [k, v] of Object.entries(inputs.prices))
    out.push(`| ${k} | ${v.value} ${v.unit} | ${v.source} | ${v.read} |`);
  return `${out.join("\n")}\n`;
}

if (require.main === module) {
  const { values } = parseArgs({ options: { write: { type: "boolean" }, bench: { type: "string" } } });
  const bench = JSON.parse(
    readFileSync(values.bench ?? join(ROOT, "docs", "bench-latest.json"), "utf8"),
  ) as BenchResults;
  const inputs = JSON.parse(readFileSync(join(ROOT, "docs", "unit-prices.json"), "utf8")) as Inputs;
  const md = render(bench, inputs);
  process.stdout.write(md);
  if (values.write) writeFileSync(join(ROOT, "docs", "cost-model.md"), md);
}
