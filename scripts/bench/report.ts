/**
 * The bench's results: one JSON document (every number with what it measured and how) and the
 * same numbers as a terminal table and a Markdown table (for the README).
 */
import { cpus, release, totalmem } from "node:os";
import { PROVIDERS, type ProviderId, providerName } from "../../functions/src/providers/catalog";
import type { FanOutResult } from "./fanout";
import type { HistoryBenchResult } from "./history";
import type { SharingResult } from "./sharing";
import type { SyncCostResult } from "./syncCost";
import type { DesignRun, SyncTimeResult } from "./syncTime";

export interface Metric {
  section: "fan-out" | "sync time" | "sync cost" | "history";
  id: string;
  label: string;
  value: number;
  unit: string;
  what: string;
  how: string;
}

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface BenchResults {
  date: string;
  mode: "full" | "quick";
  command: string;
  durationSeconds: number;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; os: string };
  fanOut?: FanOutResult;
  syncTime?: SyncTimeResult;
  syncCost?: SyncCostResult;
  sharing?: SharingResult;
  history?: HistoryBenchResult;
  metrics: Metric[];
  targets: Target[];
  notes: string[];
}

export function machine(): BenchResults["machine"] {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model.trim() ?? "unknown",
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${process.platform} ${release()}`,
  };
}

/** The providers a time-race run measured (those with an `<id>RateLimited` count), their names, and their counts together. */
function raced(d: DesignRun) {
  const ids = PROVIDERS.filter((p) => d[`${p}RateLimited`] !== undefined);
  return {
    names: ids.map(providerName).join(" + "),
    api: ids.reduce((sum, p) => sum + d[`${p}ApiRequests`], 0),
    // The fake counts 429s for the whole app: each measured provider's field holds that count.
    rateLimited: ids.length > 0 ? d[`${ids[0]!}RateLimited`]! : 0,
  };
}

const fmt = (n: number) =>
  Number.isInteger(n) ? n.toLocaleString("en-US") : n.toLocaleString("en-US", { maximumFractionDigits: 2 });

/** "Spotify 334, Instagram 333, …": a count per provider, in catalog order. */
function perProvider(counts: Partial<Record<ProviderId, number>> | undefined): string {
  return PROVIDERS.filter((p) => counts?.[p] !== undefined)
    .map((p) => `${providerName(p)} ${fmt(counts![p]!)}`)
    .join(", ");
}

/** Each provider's queue settings, e.g. "Spotify 5/s, 10 concurrent; …" (they differ per provider). */
function queueText(t: SyncTimeResult): string {
  return PROVIDERS.filter((p) => t.queueSettings[p])
    .map(
      (p) =>
        `${providerName(p)} ${t.queueSettings[p].maxDispatchesPerSecond}/s, ${t.queueSettings[p].maxConcurrentDispatches} concurrent`,
    )
    .join("; ");
}

export function buildMetrics(r: Pick<BenchResults, "fanOut" | "syncTime" | "syncCost" | "history">): Metric[] {
  const m: Metric[] = [];
  if (r.fanOut) {
    for (const s of r.fanOut.seeding) {
      m.push({
        section: "fan-out",
        id: `fanout.seed.${s.n}`,
        label: `seed ${fmt(s.n)} connections (not counted)`,
        value: s.docsPerSecond,
        unit: "docs/s",
        what: "Seeding connection documents into the Firestore emulator before a fan-out run.",
        how: "BulkWriter (throttling off), wall time; excluded from every fan-out number.",
      });
    }
    for (const x of r.fanOut.runs) {
      const where = x.port === "tasks" ? "Tasks emulator" : "port +20 ms/call";
      m.push({
        section: "fan-out",
        id: `fanout.${x.port}.${x.n}.rate`,
        label: `N=${fmt(x.n)}, ${where}: tasks/s`,
        value: x.tasksPerSecond,
        unit: "tasks/s",
        what: `runFanOut finding ${fmt(x.due)} due connections and enqueueing them (${fmt(x.enqueued)} enqueued${x.byProvider ? `: ${perProvider(x.byProvider)}` : ""}; ${fmt(x.refused)} refused, ${fmt(x.failed)} failed) in ${fmt(x.ms)} ms.`,
        how:
          x.port === "tasks"
            ? "Fresh child process; firebaseTaskQueue into fresh Tasks-emulator queues (one per provider) that deliver to a local sink; enqueued ÷ wall time of runFanOut."
            : "Fresh child process; an enqueue port that resolves after setTimeout(20 ms); enqueued ÷ wall time of runFanOut.",
      });
      m.push({
        section: "fan-out",
        id: `fanout.${x.port}.${x.n}.rss`,
        label: `N=${fmt(x.n)}, ${where}: peak RSS`,
        value: x.peakRssMb,
        unit: "MB",
        what: `Peak resident memory of the fan-out process (baseline after loading ${x.baselineRssMb} MB; peak heap ${x.peakHeapMb} MB).`,
        how: "max(process.resourceUsage().maxRSS, RSS sampled every 20 ms) of the child process that ran only this fan-out.",
      });
    }
  }
  if (r.syncTime) {
    const t = r.syncTime;
    const providers = Object.keys(t.queueSettings).length;
    const budgetOf = raced(t.fanOut).names;
    const setup = `${t.users} users × ${providers} providers, fake latency ${t.latencyMs} ms, ${budgetOf} budget ${fmt(t.budget)} API requests per rolling ${t.windowSeconds} s; queues ${queueText(t)}`;
    for (const d of [t.fanOut, t.optionA]) {
      const name = d.design === "fan-out" ? "fan-out" : "Option A";
      const r = raced(d);
      m.push({
        section: "sync time",
        id: `synctime.${d.design}.seconds`,
        label: `${name}: time until all ${d.connections} synced`,
        value: d.seconds,
        unit: "s",
        what: `${setup}; outcomes ${JSON.stringify(d.outcomes)}.`,
        how:
          d.design === "fan-out"
            ? "runFanOut into in-process queues that dispatch like Cloud Tasks with the product's queue settings (token bucket, concurrency, retries), each task running runSync; wall time from the fan-out's start until every provider's queue is empty."
            : "One loop: the due-connections query, then runSync on each connection in turn; wall time.",
      });
      if (d.racedSeconds !== undefined)
        m.push({
          section: "sync time",
          id: `synctime.${d.design}.racedSeconds`,
          label: `${name}: time until the ${r.names} connections synced`,
          value: d.racedSeconds,
          unit: "s",
          what: `${setup}; the span the ${r.names} budget is measured over.`,
          how:
            d.design === "fan-out"
              ? `Wall time from the fan-out's start until the ${r.names} queues are empty.`
              : `Wall time from the loop's start until its last ${r.names} sync ended.`,
        });
      m.push({
        section: "sync time",
        id: `synctime.${d.design}.budget`,
        label: `${name}: ${r.names} budget used`,
        value: Math.round(d.budgetUsed * 1000) / 10,
        unit: "%",
        what: `Accepted ${r.names} API requests (${fmt(r.api - r.rateLimited)}) ÷ what the budget allows over the run; busiest ${t.windowSeconds} s window used ${Math.round(d.peakWindowShare * 1000) / 10}% of the budget.`,
        how: `Counted by the fake server: accepted ÷ (budget × seconds until the ${r.names} connections were synced ÷ ${t.windowSeconds}); busiest window from its counters sampled every 250 ms.`,
      });
      m.push({
        section: "sync time",
        id: `synctime.${d.design}.ratelimited`,
        label: `${name}: ${r.names} requests rate-limited`,
        value: Math.round(d.rateLimitedShare * 10000) / 100,
        unit: "%",
        what: `429 answers (${fmt(r.rateLimited)}) ÷ ${r.names} API requests (${fmt(r.api)}); nothing else uses the budget, so every 429 is ours.`,
        how: "Counted by the fake server's rolling-window limiter.",
      });
    }
    m.push({
      section: "sync time",
      id: "synctime.ratio",
      label: "Option A time ÷ fan-out time",
      value: t.ratio,
      unit: "×",
      what: "How many times longer one function syncing everyone in turn takes than the fan-out.",
      how: "The two wall times above, same run, identical user sets.",
    });
    if (t.racedRatio !== undefined)
      m.push({
        section: "sync time",
        id: "synctime.racedRatio",
        label: `Option A ÷ fan-out, until the ${budgetOf} connections synced`,
        value: t.racedRatio,
        unit: "×",
        what: `The same ratio over the time until the ${budgetOf} connections (the providers with a rate budget) were synced.`,
        how: "The two racedSeconds above, same run, identical user sets.",
      });
  }
  if (r.syncCost) {
    for (const row of r.syncCost.rows) {
      const id = `synccost.${row.provider}.${row.design}.${row.kind}`;
      const name = `${row.provider} ${row.kind}${row.design === "write-everything" ? " (write everything)" : ""}`;
      m.push({
        section: "sync cost",
        id,
        label: name,
        value: row.firestore.writes,
        unit: "Firestore writes/sync",
        what:
          `Per sync (mean of ${row.syncs}): Firestore ${row.firestore.reads} reads, ${row.firestore.writes} writes, ${row.firestore.deletes} deletes; ` +
          `Storage ${row.storage.saves} objects written (${fmt(row.storage.bytesWritten)} bytes), ${row.storage.classA} Class A ops; ` +
          `provider ${row.requests.api} API + ${row.requests.token} token + ${row.requests.cdn} CDN requests; ${row.snapshotsWritten} snapshots written; ${row.ms} ms.`,
        how: "Firestore: counted at the admin SDK's RPC funnel (Firestore.prototype.request/requestStream); Storage: counting BlobStore port; requests: the fake server's counters.",
      });
    }
  }
  if (r.history) {
    for (const row of r.history.rows) {
      m.push({
        section: "history",
        id: `history.sync.${row.newPlays}`,
        label: `Spotify sync with ${row.newPlays} new plays`,
        value: row.firestore.writes,
        unit: "Firestore writes/sync",
        what: `Firestore ${row.firestore.reads} reads, ${row.firestore.writes} writes (${JSON.stringify(row.writesByCollection)}), ${row.commits} commits; ${row.logged} plays logged; ${row.ms} ms.`,
        how: "One connection on the fake, runSync after the clocks moved one interval; plays added with the fake's listen op; counted at the admin SDK's RPC funnel.",
      });
    }
    const h = r.history.heavy;
    m.push({
      section: "history",
      id: "history.heavy.log",
      label: `${fmt(h.plays)} plays logged (a heavy listener's year)`,
      value: h.playsPerSecond,
      unit: "plays/s",
      what: `${h.transactions} commitPlays transactions in ${h.logSeconds} s; ${h.months} month documents, the largest ${fmt(h.largestMonthBytes)} bytes as JSON.`,
      how: "commitPlays 200 plays at a time on the Firestore emulator, as a sync logs them.",
    });
    m.push({
      section: "history",
      id: "history.heavy.rebuild",
      label: `rebuild-stats --check over ${fmt(h.plays)} plays`,
      value: h.rebuildSeconds,
      unit: "s",
      what: `The aggregates recomputed from the log and compared with the stored ones: ${h.rebuildMatches ? "equal" : "different"}.`,
      how: "rebuildStats(db, uid, { check: true }) on the Firestore emulator.",
    });
    const d = r.history.dashboard;
    if (d)
      m.push({
        section: "history",
        id: "history.dashboard.reads",
        label: `dashboard charts, ${d.range}`,
        value: d.documentsRead,
        unit: "documents read",
        what: `Documents the page's history store read for the charts; the first chart drawn ${d.renderMs} ms after the data arrived (${d.dataMs} ms after the page opened), the 365-day chart ${d.yearRenderMs} ms after the switch.`,
        how: "Chromium against Hosting on the emulators, signed in as the heavy listener.",
      });
  }
  return m;
}

export function buildTargets(r: Pick<BenchResults, "fanOut" | "syncTime" | "syncCost" | "history" | "mode">): Target[] {
  const t: Target[] = [];
  if (r.fanOut && r.fanOut.runs.length > 0) {
    const delay = r.fanOut.runs.filter((x) => x.port === "delay20");
    const slowest = delay.reduce((a, b) => (b.tasksPerSecond < a.tasksPerSecond ? b : a), delay[0]!);
    t.push({
      name: "fan-out throughput with 20 ms per enqueue",
      target: "≥ 2,000 tasks/s at every N",
      measured: `${fmt(slowest.tasksPerSecond)} tasks/s (slowest, N=${fmt(slowest.n)})`,
      met: slowest.tasksPerSecond >= 2000,
    });
    const all = r.fanOut.runs;
    const maxN = Math.max(...all.map((x) => x.n));
    const minN = Math.min(...all.map((x) => x.n));
    const peakAt = (n: number) => Math.max(...all.filter((x) => x.n === n).map((x) => x.peakRssMb));
    t.push({
      name: "fan-out peak memory",
      target: `< 300 MB at N=${fmt(maxN)}, not growing with N (≤ 50 MB more than at N=${fmt(minN)})`,
      measured: `${peakAt(maxN)} MB at N=${fmt(maxN)}, ${peakAt(minN)} MB at N=${fmt(minN)}`,
      met: peakAt(maxN) < 300 && peakAt(maxN) - peakAt(minN) <= 50,
    });
    // What the run kept, per path: the heap after a full GC once runFanOut returned.
    const kept = all.filter((x) => typeof x.heapAfterGcMb === "number");
    if (kept.length > 0) {
      const span = (port: string) => {
        const xs = kept.filter((x) => x.port === port).map((x) => x.heapAfterGcMb!);
        return xs.length ? { min: Math.min(...xs), max: Math.max(...xs) } : null;
      };
      const spans = (["delay20", "tasks"] as const).map((p) => [p, span(p)] as const).filter(([, v]) => v);
      t.push({
        name: "fan-out holds nothing per connection",
        target: "heap after a full GC flat in N (within 5 MB) on both paths",
        measured: spans
          .map(([p, v]) => `${p === "tasks" ? "Tasks emulator" : "port"} ${v!.min}–${v!.max} MB`)
          .join(", "),
        met: spans.every(([, v]) => v!.max - v!.min <= 5),
      });
    }
  }
  if (r.syncTime) {
    const f = r.syncTime.fanOut;
    t.push({
      name: "fan-out uses the provider's rate budget",
      target: `≥ 90% of the ${raced(f).names} budget, within 1.1× of its lower bound`,
      measured: `${Math.round(f.budgetUsed * 1000) / 10}%, ${f.timeRatio ?? "?"}× (${f.racedSeconds} s against ${f.lowerBoundSeconds ?? "?"} s)`,
      met: f.budgetUsed >= 0.9 && (f.timeRatio ?? Infinity) <= 1.1,
    });
    if (f.machineCpu)
      t.push({
        name: "the machine is not the bottleneck",
        target: "CPU idle during the race (mean busy < 80% of both cores)",
        measured: `${Math.round(f.machineCpu.meanBusy * 100)}% busy on average, ${Math.round(f.machineCpu.peakBusy * 100)}% in the busiest second`,
        met: f.machineCpu.meanBusy < 0.8,
      });
    t.push({
      name: "requests rate-limited because of us",
      target: "≤ 1%",
      measured: `${Math.round(f.rateLimitedShare * 10000) / 100}%`,
      met: f.rateLimitedShare <= 0.01,
    });
  }
  if (r.syncCost) {
    const unchanged = r.syncCost.rows.filter((x) => x.design === "product" && x.kind === "unchanged");
    const snap = Math.max(...unchanged.map((x) => x.snapshotsWritten));
    const saves = Math.max(...unchanged.map((x) => x.storage.saves));
    t.push({
      name: "an unchanged sync writes no snapshot and no Storage object",
      target: "0 snapshot writes, 0 Storage writes",
      measured: `${snap} snapshot writes, ${saves} Storage writes per unchanged sync`,
      met: snap === 0 && saves === 0,
    });
  }
  if (r.history) t.push(...historyTargets(r.history));
  return t;
}

/** The issue's history targets: 0 writes for 0 new plays, ≤ 2 commits for 20, ≤ 400 reads for a year. */
function historyTargets(h: HistoryBenchResult): Target[] {
  const t: Target[] = [];
  const history = (row: HistoryBenchResult["rows"][number]) =>
    (row.writesByCollection.plays ?? 0) + (row.writesByCollection.play_stats ?? 0);
  const none = h.rows.find((x) => x.newPlays === 0);
  if (none)
    t.push({
      name: "an hourly sync with no new play",
      target: "0 play and 0 aggregate writes",
      measured: `${history(none)} play/aggregate writes (${none.firestore.writes} writes in all)`,
      met: history(none) === 0,
    });
  const twenty = h.rows.find((x) => x.newPlays === 20);
  if (twenty) {
    const extra = twenty.commits - (none?.commits ?? 0);
    t.push({
      name: "a sync with 20 new plays",
      target: "the 20 plays and their aggregates in ≤ 2 commits",
      measured: `${twenty.writesByCollection.plays ?? 0} plays, ${twenty.writesByCollection.play_stats ?? 0} aggregate writes, ${extra} more commits than a sync with none`,
      met: (twenty.writesByCollection.plays ?? 0) === 20 && extra <= 2,
    });
  }
  if (h.dashboard)
    t.push({
      name: `a heavy listener's dashboard (${fmt(h.heavy.plays)} plays, ${h.dashboard.range})`,
      target: "≤ 400 document reads; charts drawn ≤ 1 s after the data",
      measured: `${fmt(h.dashboard.documentsRead)} reads; drawn ${fmt(h.dashboard.renderMs)} ms after the data (365 days: ${fmt(h.dashboard.yearRenderMs)} ms after the switch)`,
      met: h.dashboard.documentsRead <= 400 && h.dashboard.renderMs <= 1000 && h.dashboard.yearRenderMs <= 1000,
    });
  t.push({
    name: "aggregates equal what the log implies",
    target: "rebuild-stats --check finds no difference",
    measured: h.heavy.rebuildMatches ? "no difference" : "differences",
    met: h.heavy.rebuildMatches,
  });
  return t;
}

function rows(m: Metric[]): string[][] {
  return m.map((x) => [x.section, x.label, `${fmt(x.value)} ${x.unit}`]);
}

export function terminalTable(r: BenchResults): string {
  const body = rows(r.metrics);
  const w = [0, 1, 2].map((i) => Math.max(...body.map((row) => row[i]!.length), 8));
  const line = (row: string[]) => row.map((c, i) => (i === 2 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join("  ");
  const out = [line(["section", "measurement", "value"]), w.map((n) => "-".repeat(n)).join("  "), ...body.map(line)];
  out.push("", "targets:");
  for (const x of r.targets)
    out.push(`  [${x.met ? "met" : "NOT MET"}] ${x.name}: ${x.target} — measured ${x.measured}`);
  return out.join("\n");
}

/** The README's tables: fan-out, sync time, sync cost, targets. */
export function markdown(r: BenchResults): string {
  const out: string[] = [];
  if (r.fanOut) {
    out.push("**Fan-out** (find + enqueue N due connections; one fresh process per run)", "");
    out.push(
      "| N | enqueue into | time | tasks/s | peak RSS | peak heap | heap after GC | notes |",
      "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    );
    for (const x of r.fanOut.runs) {
      const notes = [
        x.refused ? `${fmt(x.refused)} refused by the emulator` : "",
        x.failed ? `${fmt(x.failed)} failed` : "",
        x.delivered !== undefined ? `emulator delivered ${fmt(x.delivered)} in ${fmt(x.drainMs ?? 0)} ms more` : "",
        x.retainedHeapMb
          ? `at most ${x.retainedHeapMb} MB heap held (full GC every ${fmt(r.fanOut!.gcEveryMs ?? 0)} ms)`
          : "",
      ]
        .filter(Boolean)
        .join("; ");
      out.push(
        `| ${fmt(x.n)} | ${x.port === "tasks" ? "Tasks emulator" : "port, +20 ms/call"} | ${fmt(x.ms)} ms | ${fmt(x.tasksPerSecond)} | ${x.peakRssMb} MB | ${x.peakHeapMb} MB | ${x.heapAfterGcMb ?? "–"} MB | ${notes} |`,
      );
    }
    const split = r.fanOut.runs
      .filter((x) => x.port === "delay20" && x.byProvider)
      .map((x) => `N = ${fmt(x.n)}: ${perProvider(x.byProvider)}`);
    out.push(
      "",
      `Seeding (not counted): ${r.fanOut.seeding.map((s) => `${fmt(s.n)} docs at ${fmt(s.docsPerSecond)}/s`).join(", ")}. FANOUT_PAGE_SIZE ${r.fanOut.pageSize}, FANOUT_CONCURRENCY ${r.fanOut.concurrency}.`,
      ...(split.length > 0
        ? [`Tasks enqueued per provider (one connection per provider per user): ${split.join("; ")}.`]
        : []),
      "",
    );
  }
  if (r.syncTime) {
    const t = r.syncTime;
    const names = raced(t.fanOut).names;
    out.push(
      `**Time until everyone is synced** (${t.users} users × ${Object.keys(t.queueSettings).length} providers with small libraries (${JSON.stringify(t.accounts)}), fake latency ${t.latencyMs} ms, ${names} budget ${fmt(t.budget)} API requests per rolling ${t.windowSeconds} s, measured over the time until the ${names} connections were synced; queues: ${queueText(t)})`,
      "",
    );
    out.push(
      `| design | everyone synced | ${names} synced | ${names} budget used | busiest ${t.windowSeconds} s window | rate-limited | outcomes |`,
      "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    );
    for (const d of [t.fanOut, t.optionA]) {
      const c = raced(d);
      out.push(
        `| ${d.design === "fan-out" ? "fan-out (queues)" : "Option A (one loop)"} | ${d.seconds} s | ${d.racedSeconds ?? d.seconds} s | ${Math.round(d.budgetUsed * 1000) / 10}% | ${Math.round(d.peakWindowShare * 1000) / 10}% | ${Math.round(d.rateLimitedShare * 10000) / 100}% (${c.rateLimited}/${fmt(c.api)}) | ${Object.entries(
          d.outcomes,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")} |`,
      );
    }
    out.push(
      "",
      `Option A takes **${t.ratio}×** as long as the fan-out${t.racedRatio !== undefined ? ` (${t.racedRatio}× until the ${names} connections are synced)` : ""}.`,
      "",
    );
    if (t.ceiling) {
      const c = t.ceiling;
      const cpu = (m?: { meanBusy: number; peakBusy: number }) =>
        m ? `${Math.round(m.meanBusy * 100)}% (busiest second ${Math.round(m.peakBusy * 100)}%)` : "–";
      out.push(
        `The machine's own ceiling (measured apart): **${c.syncsPerSecond} ${names} syncs/s** (${fmt(c.connections)} first syncs, ${c.concurrency} at once, no rate limit, ${c.seconds} s; ${c.apiRequestsPerSync} API requests per sync = ${c.apiRequestsPerSecond} requests/s; CPU of both cores busy ${cpu(c.machineCpu)}). The race's budget is sized below it: ${fmt(t.budget)} requests per ${t.windowSeconds} s (${Math.round((t.budget / t.windowSeconds) * 10) / 10}/s, ${Math.round((t.budget / t.windowSeconds / c.apiRequestsPerSecond) * 100)}% of the ceiling's), and the known-rate queue dispatches ${t.knownRate}/s (0.95 × budget ÷ window ÷ requests per sync).`,
        "",
        `| design | ${names} synced | lower bound (requests ÷ budget per s) | × lower bound | budget used | rate-limited | CPU busy (2 cores) |`,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
      );
      for (const d of [t.fanOut, t.optionA])
        out.push(
          `| ${d.design === "fan-out" ? "fan-out, known rate" : "Option A (one loop)"} | ${d.racedSeconds} s | ${d.lowerBoundSeconds ?? "–"} s | ${d.timeRatio ?? "–"}× | ${Math.round(d.budgetUsed * 1000) / 10}% | ${Math.round(d.rateLimitedShare * 10000) / 100}% | ${cpu(d.machineCpu)} |`,
        );
      out.push("");
    }
    if (t.adaptive) {
      const a = t.adaptive;
      out.push(
        `Adaptive rate (${a.controller}; bounds ${JSON.stringify(a.bounds)}), from ${a.startRate}/s (a tenth of the known ${a.knownRate}/s, at least the minimum), slots of ${a.slotSeconds} s, never told the budget: ${a.convergedAtSlot ? `first app-wide 429 (the budget found) in slot **${a.convergedAtSlot}**; after it ${a.budgetUsedAfter !== null ? `${Math.round(a.budgetUsedAfter * 1000) / 10}%` : "–"} of the budget used, ${a.rateLimitedShareAfter !== null ? `${Math.round(a.rateLimitedShareAfter * 10000) / 100}%` : "–"} of requests rate-limited` : "it never reached the budget"}.`,
        "",
        "| slot | rate /s | dispatched | accepted | rate-limited | slot length | budget used |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ...a.slots.map(
          (x) =>
            `| ${x.slot} | ${x.ratePerSecond} | ${x.dispatched} | ${x.accepted} | ${x.rateLimited} | ${x.seconds} s | ${Math.round(x.budgetUsed * 1000) / 10}% |`,
        ),
        "",
      );
    }
  }
  if (r.syncCost) {
    const gaps = r.syncCost.roundGapMinutes
      ? `; syncs of one connection ${perProvider(r.syncCost.roundGapMinutes)} minutes apart (its sync interval + 1)`
      : "";
    out.push(
      `**What one sync costs** (mean per sync over ${r.syncCost.usersPerProvider} accounts per provider; fake latency ${r.syncCost.latencyMs} ms${gaps})`,
      "",
    );
    out.push(
      "| provider | sync | design | Firestore reads / writes / deletes | Storage Class A ops | Storage writes (bytes) | provider API + token + CDN requests | time |",
      "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const x of r.syncCost.rows) {
      out.push(
        `| ${x.provider} | ${x.kind} | ${x.design === "product" ? "product" : "write everything"} | ${x.firestore.reads} / ${x.firestore.writes} / ${x.firestore.deletes} | ${x.storage.classA} | ${x.storage.saves} (${fmt(x.storage.bytesWritten)}) | ${x.requests.api} + ${x.requests.token} + ${x.requests.cdn} | ${fmt(x.ms)} ms |`,
      );
    }
    out.push("");
  }
  if (r.sharing) {
    const sh = r.sharing;
    out.push(
      `**Many syncs in one process** (unchanged syncs of ${sh.usersPerProvider} connections per provider, fake latency ${sh.latencyMs} ms, at most C in flight; this process's CPU time, user + system)`,
      "",
      "| provider | C | round | mean sync | CPU per sync | CPU ÷ round time | peak heap | outcomes |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    );
    for (const x of sh.rounds)
      out.push(
        `| ${x.provider} | ${x.concurrency} | ${fmt(x.elapsedMs)} ms | ${fmt(x.meanSyncMs)} ms | ${x.cpuMsPerSync} ms | ${Math.round(x.cpuUtilization * 1000) / 10}% | ${x.peakHeapMb} MB | ${Object.entries(
          x.outcomes,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")} |`,
      );
    out.push("");
  }
  out.push("**Targets**", "", "| target | wanted | measured | met |", "| --- | --- | --- | --- |");
  for (const x of r.targets) out.push(`| ${x.name} | ${x.target} | ${x.measured} | ${x.met ? "yes" : "**no**"} |`);
  return out.join("\n");
}
