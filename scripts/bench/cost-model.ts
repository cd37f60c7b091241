/**
 * `npm run cost-model` — dollars per 1,000 users per month for the hourly sync, from the counts
 * the bench measured (docs/bench-latest.json, written by `npm run bench -- --publish`) and the
 * unit prices and assumptions in docs/unit-prices.json (the only place they live).
 *
 *   npm run cost-model              prints the model (Markdown)
 *   npm run cost-model -- --write   also rewrites docs/cost-model.md
 *
 * Measured inputs, per provider, per sync (mean over the bench's accounts): Firestore reads,
 * writes and deletes; Storage Class A operations and bytes written; billed function time
 * (the sync's wall time, rounded up to 100 ms). Per hour: one fan-out (reads ≈ due connections).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type ProviderId as Provider, catalogEntry, providerName } from "../../functions/src/providers/catalog";
import { ROOT } from "../lib/local-env";
import type { BenchResults } from "./report";
import type { PerSync, SyncKind } from "./syncCost";

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
    functionMemoryGib: { value: number };
    functionVcpu: { value: number };
    instanceSharing: { value: number };
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
  const perMonth = s.syncsPerConnectionPerMonth.value;
  const row = (provider: Provider, kind: SyncKind) => {
    const r = bench.syncCost!.rows.find((x) => x.provider === provider && x.design === design && x.kind === kind);
    if (!r) throw new Error(`docs/bench-latest.json has no ${design} ${kind} sync for ${provider}.`);
    return r;
  };
  // The hourly sync's mix: unchanged syncs and small changes, per provider.
  const mix = (provider: Provider, f: (r: PerSync) => number) => {
    const c = s.shareOfSyncsWithChange.value[provider];
    return c * f(row(provider, "small-change")) + (1 - c) * f(row(provider, "unchanged"));
  };
  const billedSeconds = (r: PerSync) => Math.ceil(r.ms / 100) / 10;
  const items: LineItem[] = [];
  let syncs = 0;
  let reads = 0;
  let writes = 0;
  let deletes = 0;
  let classA = 0;
  let seconds = 0;
  for (const provider of s.providersPerUser.value) {
    const n = users * perMonth;
    syncs += n;
    reads += n * mix(provider, (r) => r.firestore.reads);
    writes += n * mix(provider, (r) => r.firestore.writes);
    deletes += n * mix(provider, (r) => r.firestore.deletes);
    classA += n * mix(provider, (r) => r.storage.classA);
    seconds += n * mix(provider, billedSeconds);
  }
  // The fan-out: once per hour, one read per due connection (+ the empty "error" query), run time
  // from the bench's 20 ms-per-enqueue runs.
  const connections = users * s.providersPerUser.value.length;
  const fanOutRuns = perMonth;
  const delay = bench.fanOut?.runs.filter((r) => r.port === "delay20") ?? [];
  const rate = delay.length > 0 ? Math.min(...delay.map((r) => r.tasksPerSecond)) : 2000;
  const fanOutSeconds = Math.ceil((connections / rate) * 10) / 10 + 0.1;
  reads += fanOutRuns * (connections + 1);
  seconds += fanOutRuns * fanOutSeconds;

  const share = s.instanceSharing.value;
  const vcpuSeconds = (seconds * s.functionVcpu.value) / share;
  const gibSeconds = (seconds * s.functionMemoryGib.value) / share;
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
      formula: "Σ billed s × vCPU ÷ sharing × price",
      usd: vcpuSeconds * p("functionsVcpuSecond"),
    },
    {
      service: "Cloud Functions",
      item: "memory",
      quantity: gibSeconds,
      unit: "GiB-s",
      formula: "Σ billed s × GiB ÷ sharing × price",
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
      formula: "syncs × reads/sync + fan-outs × (connections + 1)",
      usd: (reads / 1e5) * p("firestoreReadsPer100k"),
    },
    {
      service: "Firestore",
      item: "writes",
      quantity: writes,
      unit: "writes",
      formula: "syncs × writes/sync × price/100k",
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
  const stored = bench.syncCost.stored;
  const runsKept = 24 * s.syncRunsKeptDays.value;
  const firestoreBytes =
    users *
    s.providersPerUser.value.reduce((sum, pr) => {
      const b = stored.find((x) => x.provider === pr);
      return sum + (b ? b.firestoreDocBytes + runsKept * b.syncRunBytes : 0);
    }, 0) *
    s.firestoreStorageOverhead.value;
  items.push({
    service: "Firestore",
    item: "storage",
    quantity: firestoreBytes / GIB,
    unit: "GiB-month",
    formula: "users × (snapshot+connection+token docs + 24 × TTL days × sync_runs doc) × overhead",
    usd: (firestoreBytes / GIB) * p("firestoreStorageGibMonth"),
  });
  const storageBytes =
    users *
    s.providersPerUser.value.reduce((sum, pr) => sum + (stored.find((x) => x.provider === pr)?.storageBytes ?? 0), 0);
  items.push(
    {
      service: "Cloud Storage",
      item: "Class A operations",
      quantity: classA,
      unit: "operations",
      formula: "syncs × (list pages + object writes)/sync × price/1k",
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

  // Reading it back (not the sync): dashboard opens.
  const opens = users * s.dashboardOpensPerUserPerMonth.value;
  // Each provider's snapshot documents (its catalog entry) and its connection document.
  const snapshotDocs = s.providersPerUser.value.reduce((sum, pr) => sum + catalogEntry(pr).snapshots.length + 1, 0);
  const dashboard = {
    opens,
    readsUsd: ((opens * snapshotDocs) / 1e5) * p("firestoreReadsPer100k"),
    egressUsd: ((opens * storageBytes) / users / GIB) * p("egressGib"),
    classBUsd:
      ((opens *
        (storageBytes > 0
          ? s.providersPerUser.value.reduce(
              (sum, pr) => sum + (stored.find((x) => x.provider === pr)?.storageObjects ?? 0),
              0,
            )
          : 0)) /
        1000) *
      p("storageClassBPer1000"),
  };
  return { items, total, syncs, fanOutSeconds, dashboard };
}

const usd = (x: number) => (x >= 1 ? `$${x.toFixed(2)}` : x >= 0.01 ? `$${x.toFixed(3)}` : `$${x.toFixed(4)}`);
const qty = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: x < 10 ? 2 : 0 });

export function render(bench: BenchResults, inputs: Inputs): string {
  const m = costModel(bench, inputs, "product");
  const w = costModel(bench, inputs, "write-everything");
  const s = inputs.scenario;
  const byService = new Map<string, number>();
  for (const i of m.items) byService.set(i.service, (byService.get(i.service) ?? 0) + i.usd);
  const out: string[] = [];
  out.push(
    "# Cost model: the hourly sync, per 1,000 users per month",
    "",
    "Generated by `npm run cost-model -- --write` (scripts/bench/cost-model.ts) from the counts `npm run bench` measured",
    `(docs/bench-latest.json, ${bench.date.slice(0, 10)}, ${bench.mode} run) and the unit prices and assumptions in`,
    "docs/unit-prices.json — change a price or an assumption there and run it again; do not edit the numbers here.",
    "",
    "## Formula",
    "",
    `For each provider p (every user connected ${s.providersPerUser.value.map(providerName).join(" and ")}), with S = users × 730 hourly syncs a month and`,
    "c_p = the share of syncs that find a small change (the rest are unchanged):",
    "",
    "```",
    "per-sync count x_p   = c_p × x(small change, measured) + (1 − c_p) × x(unchanged, measured)",
    "Firestore            = Σ_p S × (reads_p × $/read + writes_p × $/write + deletes_p × $/delete)",
    "                     + 730 fan-outs × (connections + 1) reads × $/read",
    "                     + stored GiB × overhead × $/GiB-month   (snapshots, connection, tokens, 720 sync_runs per connection)",
    "Cloud Functions      = (Σ_p S + 730) × $/request",
    "                     + Σ billed seconds × (vCPU × $/vCPU-s + GiB × $/GiB-s) ÷ instance sharing",
    "                       (billed seconds = the sync's measured wall time rounded up to 100 ms; fan-out: connections ÷ tasks/s)",
    "Cloud Tasks          = Σ_p S × 2 operations (create + delivery) × $/operation",
    "Cloud Storage        = Σ_p S × Class A ops_p × $/op + mirrored GiB × $/GiB-month (the sync has no egress)",
    "Cloud Scheduler      = 1 job × $/job-month (per project, not per user)",
    "```",
    "",
    `Assumptions (docs/unit-prices.json → scenario): change shares ${JSON.stringify(s.shareOfSyncsWithChange.value)}; ${s.functionVcpu.value} vCPU, ${s.functionMemoryGib.value} GiB per instance, instance sharing ${s.instanceSharing.value} (every sync billed alone: an upper bound — v2 functions serve up to 80 requests per instance); ${s.tasksOperationsPerSync.value} Cloud Tasks operations per sync; Firestore storage overhead ×${s.firestoreStorageOverhead.value}. List prices beyond free tiers (the free tiers — e.g. 2 M function requests, 1 M task operations, 50,000 Firestore reads a day — would absorb most of a 1,000-user bill). The sync's wall time includes the fake provider's 100 ms per request, i.e. it assumes providers answer in about 100 ms.`,
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
    `Against "write everything every time" (the single-tenant way: every snapshot set, every image downloaded and stored each hour; measured the same way): **${usd(w.total)}** per 1,000 users per month (Firestore writes ${usd(w.items.find((i) => i.item === "writes")!.usd)} vs ${usd(m.items.find((i) => i.item === "writes")!.usd)}, Storage Class A ${usd(w.items.find((i) => i.item === "Class A operations")!.usd)} vs ${usd(m.items.find((i) => i.item === "Class A operations")!.usd)}). That variant writes no connection status or run log, so its Firestore writes per sync can be lower than the product's when the data is small; its Storage writes are not.`,
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
