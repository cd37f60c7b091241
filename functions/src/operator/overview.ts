/**
 * The operator overview (the web app's Operator view, through the `operator` callable): what the
 * engine is doing across every person, without any person's data beyond a uid and a provider.
 *
 * - **connections**: counted by provider × status, with Firestore count aggregations (one
 *   index read per 1,000 connections, never the documents);
 * - **lastErrors**: the connections whose `lastError` is newest (uid, provider, status, code,
 *   message, at) — a successful sync clears `lastError`, so these are the errors that still stand;
 * - **pauses**: each provider's app-wide pause (`provider_state/{provider}`, providerPause.ts) and
 *   the other scalar fields stored there (the queue's state, whatever the fan-out records), and the
 *   pauses of people's own apps; lifting one is operator/actions.ts;
 * - **backlog**: per provider, the connections due now (status connected / error with
 *   nextSyncAt ≤ now) and the oldest of them, and the connections holding a `pendingTask` (a task
 *   the fan-out enqueued that has not started yet) and the oldest of those;
 * - **fanOuts**: the fan-out keeps no record of its own, so the last fan-outs are derived: the
 *   scheduled runs of `sync_runs` grouped by the fan-out slot (SYNC_TICK_MINUTES) they started in,
 *   with their outcomes, the quiet runs that wrote no row (outcome `unchanged`: each connection
 *   whose last run was quiet, `quietRuns` > 0, by the slot of its `lastSyncAt`), and the pending
 *   tasks grouped by the slot they were enqueued in;
 * - **recentRuns**: collectionGroup `sync_runs`, newest first.
 *
 * Every query is a collection-group query with a limit (or a count); firestore.indexes.json holds
 * their indexes. No tokens, no account names, no snapshot data.
 */
import { type DocumentData, type Firestore, Timestamp } from "firebase-admin/firestore";
import type { Config } from "../config";
import { CONNECTION_STATUSES, type ConnectionStatus } from "../connections/model";
import { CONNECTIONS, PROVIDERS, type Provider, SYNC_RUNS, firestorePaths, parseConnectionPath } from "../paths";
import { SYNCABLE_STATUSES } from "../sync/policy";
import { slotStart } from "../sync/ports";
import { describeOwnAppPauses, describeProviderPauses } from "../sync/providerPause";

/** Connections with an error shown (newest first). */
export const LAST_ERRORS = 20;
/** Runs shown (newest first). */
export const RECENT_RUNS = 50;
/** Scheduled runs and pending tasks read to derive the last fan-outs. */
export const FANOUT_SAMPLE = 500;
/** Fan-out slots shown (newest first). */
export const FANOUT_SLOTS = 12;
/** Own-app pauses shown per provider (active ones first). */
export const OWN_APP_PAUSES = 50;
/** Scalar fields of a provider_state document shown beside its pause. */
const STATE_FIELDS = 30;

export interface OverviewDeps {
  db: Firestore;
  now: () => Date;
  config: Pick<Config, "MAX_PAUSE_HOURS" | "SYNC_TICK_MINUTES">;
}

export interface PauseRow {
  pausedUntil: string;
  reason: string;
  since: string;
  active: boolean;
}

export interface OperatorOverview {
  generatedAt: string;
  connections: {
    total: number;
    /** provider → status → count (every provider and status present, 0 included). */
    byProvider: Record<string, Record<string, number>>;
  };
  lastErrors: Array<{ uid: string; provider: string; status: string; code: string; message: string; at: string }>;
  pauses: Array<{
    provider: string;
    pause: PauseRow | null;
    /** Other scalar fields of `provider_state/{provider}` (dotted keys one level deep), e.g. the queue's rate. */
    state: Record<string, string | number | boolean>;
    ownApps: Array<PauseRow & { clientId: string }>;
  }>;
  backlog: Array<{
    provider: string;
    dueNow: number;
    /** The oldest nextSyncAt among the due connections (null: none due). */
    oldestDueAt: string | null;
    pendingTasks: number;
    oldestPending: { uid: string; slot: string | null; enqueuedAt: string | null } | null;
  }>;
  fanOuts: Array<{
    slot: string;
    /** Scheduled runs that started in this slot, by outcome. */
    runs: number;
    outcomes: Record<string, number>;
    /** Tasks enqueued in this slot that have not started yet (connections' `pendingTask.slot`). */
    pending: number;
    providers: string[];
  }>;
  recentRuns: Array<{
    runId: string;
    uid: string;
    provider: string;
    reason: string;
    outcome: string;
    attempt: number | null;
    startedAt: string | null;
    finishedAt: string | null;
    ms: number | null;
    requests: number | null;
    willRetry: boolean;
    error: { code: string; message: string } | null;
  }>;
}

/** A Timestamp, Date, epoch ms or ISO string as an ISO string; null when it is none of those. */
export function isoOf(v: unknown): string | null {
  if (v instanceof Timestamp) return v.toDate().toISOString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (typeof v === "number" && Number.isFinite(v)) return new Date(v).toISOString();
  if (typeof v === "string" && v !== "") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : new Date(t).toISOString();
  }
  return null;
}

const text = (v: unknown, max = 500): string => (typeof v === "string" ? v.slice(0, max) : "");
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The scalar fields of a provider_state document other than its pause, one level of maps flattened. */
export function stateFields(data: DocumentData | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const put = (key: string, v: unknown): boolean => {
    if (Object.keys(out).length >= STATE_FIELDS) return false;
    if (typeof v === "number" || typeof v === "boolean") out[key] = v;
    else if (typeof v === "string") out[key] = v.slice(0, 200);
    else if (v instanceof Timestamp) out[key] = v.toDate().toISOString();
    else return false;
    return true;
  };
  for (const [k, v] of Object.entries(data ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (k === "pausedUntil" || k === "reason" || k === "since") continue;
    if (put(k, v)) continue;
    if (v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Timestamp)) {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
        put(`${k}.${k2}`, v2);
    }
  }
  return out;
}

const pauseRow = (p: { pausedUntil: Date; reason: string; since: Date; active: boolean }): PauseRow => ({
  pausedUntil: p.pausedUntil.toISOString(),
  reason: p.reason,
  since: p.since.toISOString(),
  active: p.active,
});

async function connectionCounts(db: Firestore): Promise<OperatorOverview["connections"]> {
  const byProvider: Record<string, Record<string, number>> = {};
  let total = 0;
  await Promise.all(
    PROVIDERS.flatMap((p) =>
      CONNECTION_STATUSES.map(async (status: ConnectionStatus) => {
        const n = (
          await db.collectionGroup(CONNECTIONS).where("provider", "==", p).where("status", "==", status).count().get()
        ).data().count;
        (byProvider[p] ??= {})[status] = n;
        total += n;
      }),
    ),
  );
  // Stable key order for people and tests: the catalog's providers, the model's statuses.
  const ordered: Record<string, Record<string, number>> = {};
  for (const p of PROVIDERS)
    ordered[p] = Object.fromEntries(CONNECTION_STATUSES.map((s) => [s, byProvider[p]?.[s] ?? 0]));
  return { total, byProvider: ordered };
}

async function lastErrors(db: Firestore): Promise<OperatorOverview["lastErrors"]> {
  const snap = await db
    .collectionGroup(CONNECTIONS)
    .orderBy("lastError.at", "desc")
    .select("status", "lastError")
    .limit(LAST_ERRORS)
    .get();
  return snap.docs.flatMap((doc) => {
    const id = parseConnectionPath(doc.ref.path);
    const e = doc.get("lastError") as Record<string, unknown> | null | undefined;
    const at = isoOf(e?.at);
    if (!id || !e || !at) return [];
    return [{ ...id, status: text(doc.get("status"), 40), code: text(e.code, 80), message: text(e.message), at }];
  });
}

async function pauses(deps: OverviewDeps, now: Date): Promise<OperatorOverview["pauses"]> {
  const [stored, docs, own] = await Promise.all([
    describeProviderPauses(deps.db, now, deps.config),
    Promise.all(PROVIDERS.map((p) => deps.db.doc(firestorePaths.providerState(p)).get())),
    Promise.all(PROVIDERS.map((p) => describeOwnAppPauses(deps.db, p, now, deps.config))),
  ]);
  return PROVIDERS.map((p, i) => {
    const pause = stored[p];
    return {
      provider: p,
      pause: pause ? pauseRow(pause) : null,
      state: stateFields(docs[i]!.data()),
      ownApps: own[i]!.sort((a, b) => Number(b.active) - Number(a.active) || b.since.getTime() - a.since.getTime())
        .slice(0, OWN_APP_PAUSES)
        .map((a) => ({ clientId: a.clientId, ...pauseRow(a) })),
    };
  });
}

async function backlogOf(db: Firestore, p: Provider, now: Date): Promise<OperatorOverview["backlog"][number]> {
  const connections = db.collectionGroup(CONNECTIONS).where("provider", "==", p);
  const due = await Promise.all(
    SYNCABLE_STATUSES.map(async (status) => {
      const q = connections.where("status", "==", status).where("nextSyncAt", "<=", Timestamp.fromDate(now));
      const [count, oldest] = await Promise.all([
        q.count().get(),
        q.orderBy("nextSyncAt").select("nextSyncAt").limit(1).get(),
      ]);
      return { n: count.data().count, oldest: isoOf(oldest.docs[0]?.get("nextSyncAt")) };
    }),
  );
  const [pendingCount, pendingOldest] = await Promise.all([
    connections.where("pendingTask.enqueuedAt", "!=", null).count().get(),
    connections.orderBy("pendingTask.enqueuedAt").select("pendingTask").limit(1).get(),
  ]);
  const first = pendingOldest.docs[0];
  const task = first?.get("pendingTask") as Record<string, unknown> | undefined;
  const oldestDue = due
    .map((d) => d.oldest)
    .filter((d): d is string => d !== null)
    .sort()[0];
  return {
    provider: p,
    dueNow: due.reduce((a, d) => a + d.n, 0),
    oldestDueAt: oldestDue ?? null,
    pendingTasks: pendingCount.data().count,
    oldestPending:
      first && task
        ? {
            uid: parseConnectionPath(first.ref.path)?.uid ?? "",
            slot: isoOf(task.slot),
            enqueuedAt: isoOf(task.enqueuedAt),
          }
        : null,
  };
}

async function fanOuts(deps: OverviewDeps): Promise<OperatorOverview["fanOuts"]> {
  const [runs, quiet, pending] = await Promise.all([
    deps.db
      .collectionGroup(SYNC_RUNS)
      .where("reason", "==", "scheduled")
      .orderBy("finishedAt", "desc")
      .select("provider", "outcome", "startedAt")
      .limit(FANOUT_SAMPLE)
      .get(),
    deps.db
      .collectionGroup(CONNECTIONS)
      .orderBy("lastSyncAt", "desc")
      .select("provider", "lastSyncAt", "quietRuns")
      .limit(FANOUT_SAMPLE)
      .get(),
    deps.db
      .collectionGroup(CONNECTIONS)
      .orderBy("pendingTask.enqueuedAt", "desc")
      .select("provider", "pendingTask")
      .limit(FANOUT_SAMPLE)
      .get(),
  ]);
  const slots = new Map<string, OperatorOverview["fanOuts"][number]>();
  const row = (slot: string) => {
    let r = slots.get(slot);
    if (!r) slots.set(slot, (r = { slot, runs: 0, outcomes: {}, pending: 0, providers: [] }));
    return r;
  };
  const addProvider = (r: OperatorOverview["fanOuts"][number], p: unknown) => {
    if (typeof p === "string" && !r.providers.includes(p)) r.providers.push(p);
  };
  for (const doc of runs.docs) {
    const started = isoOf(doc.get("startedAt"));
    if (!started) continue;
    const r = row(new Date(slotStart(new Date(started), deps.config.SYNC_TICK_MINUTES)).toISOString());
    r.runs++;
    const outcome = text(doc.get("outcome"), 40) || "unknown";
    r.outcomes[outcome] = (r.outcomes[outcome] ?? 0) + 1;
    addProvider(r, doc.get("provider"));
  }
  for (const doc of quiet.docs) {
    const count = doc.get("quietRuns");
    const at = isoOf(doc.get("lastSyncAt"));
    if (typeof count !== "number" || count <= 0 || !at) continue;
    const r = row(new Date(slotStart(new Date(at), deps.config.SYNC_TICK_MINUTES)).toISOString());
    r.runs++;
    r.outcomes.unchanged = (r.outcomes.unchanged ?? 0) + 1;
    addProvider(r, doc.get("provider"));
  }
  for (const doc of pending.docs) {
    const task = doc.get("pendingTask") as Record<string, unknown> | undefined;
    const slot = isoOf(task?.slot) ?? isoOf(task?.enqueuedAt);
    if (!slot) continue;
    const r = row(slot);
    r.pending++;
    addProvider(r, doc.get("provider"));
  }
  return [...slots.values()]
    .sort((a, b) => b.slot.localeCompare(a.slot))
    .slice(0, FANOUT_SLOTS)
    .map((r) => ({ ...r, providers: r.providers.sort() }));
}

async function recentRuns(db: Firestore): Promise<OperatorOverview["recentRuns"]> {
  const snap = await db
    .collectionGroup(SYNC_RUNS)
    .orderBy("finishedAt", "desc")
    .select(
      "runId",
      "uid",
      "provider",
      "reason",
      "outcome",
      "attempt",
      "startedAt",
      "finishedAt",
      "ms",
      "requests",
      "willRetry",
      "error",
    )
    .limit(RECENT_RUNS)
    .get();
  return snap.docs.map((doc) => {
    const d = doc.data();
    const e = d.error as Record<string, unknown> | null | undefined;
    return {
      runId: text(d.runId, 100) || doc.id,
      uid: text(d.uid, 128) || (doc.ref.parent.parent?.id ?? ""),
      provider: text(d.provider, 40),
      reason: text(d.reason, 40),
      outcome: text(d.outcome, 40),
      attempt: num(d.attempt),
      startedAt: isoOf(d.startedAt),
      finishedAt: isoOf(d.finishedAt),
      ms: num(d.ms),
      requests: num(d.requests),
      willRetry: d.willRetry === true,
      error: e && typeof e === "object" ? { code: text(e.code, 80), message: text(e.message) } : null,
    };
  });
}

/** Everything the Operator view shows, read at `deps.now()`. */
export async function operatorOverview(deps: OverviewDeps): Promise<OperatorOverview> {
  const now = deps.now();
  const [connections, errors, paused, backlog, slots, runs] = await Promise.all([
    connectionCounts(deps.db),
    lastErrors(deps.db),
    pauses(deps, now),
    Promise.all(PROVIDERS.map((p) => backlogOf(deps.db, p, now))),
    fanOuts(deps),
    recentRuns(deps.db),
  ]);
  return {
    generatedAt: now.toISOString(),
    connections,
    lastErrors: errors,
    pauses: paused,
    backlog,
    fanOuts: slots,
    recentRuns: runs,
  };
}
