/**
 * The live one-screen summary of `npm start`: connections by status, tasks run, last fan-out,
 * errors. Reads the emulated Firestore with the Admin SDK (local only; small data).
 */
import { db } from "../../functions/src/admin";
import { CONNECTIONS, SYNC_RUNS, parseConnectionPath } from "../../functions/src/paths";
import type { FanOutRecord } from "./fanout";

/** firebase-admin's Timestamp, structurally (firebase-admin resolves from functions/, not from scripts/). */
interface Timestamp {
  toMillis(): number;
  toDate(): Date;
}

export interface Stats {
  byStatus: Record<string, number>;
  runs: Record<string, number>;
  runsTotal: number;
  /** First successful sync seen (for the "synced data visible" measurement). */
  firstSuccessAt: Date | null;
  errors: string[];
}

const ORDER = ["connected", "syncing", "needs_reauth", "rate_limited", "error", "paused", "disconnected"];

export async function collectStats(emails: Map<string, string>): Promise<Stats> {
  const now = Date.now();
  const [conns, runs] = await Promise.all([
    db().collectionGroup(CONNECTIONS).get(),
    db().collectionGroup(SYNC_RUNS).select("outcome", "finishedAt").get(),
  ]);
  const byStatus: Record<string, number> = {};
  const errors: string[] = [];
  let quiet = 0;
  for (const d of conns.docs) {
    const c = d.data() as {
      status?: string;
      lease?: { expiresAt?: Timestamp } | null;
      rateLimitedUntil?: Timestamp | null;
      lastError?: { message?: string; at?: Timestamp } | null;
      lastSuccessAt?: Timestamp | null;
      reauthReason?: string | null;
      quietRuns?: unknown;
    };
    // Scheduled runs that found nothing new are counted on the connection, not in sync_runs.
    if (typeof c.quietRuns === "number" && c.quietRuns > 0) quiet += c.quietRuns;
    const leased = c.lease?.expiresAt && c.lease.expiresAt.toMillis() > now;
    const limited = c.rateLimitedUntil && c.rateLimitedUntil.toMillis() > now;
    const key = leased ? "syncing" : c.status === "connected" && limited ? "rate_limited" : (c.status ?? "unknown");
    byStatus[key] = (byStatus[key] ?? 0) + 1;
    const who = parseConnectionPath(d.ref.path);
    const name = who ? `${emails.get(who.uid) ?? who.uid} ${who.provider}` : d.ref.path;
    const failedSinceSuccess =
      c.lastError?.at && (!c.lastSuccessAt || c.lastError.at.toMillis() > c.lastSuccessAt.toMillis());
    if (c.status === "connected" && failedSinceSuccess) {
      errors.push(`${name}: last attempt failed, will retry (${c.lastError?.message ?? "error"})`);
    }
    if (c.status === "needs_reauth" || c.status === "error") {
      errors.push(
        `${name}: ${c.status === "needs_reauth" ? (c.reauthReason ?? "needs re-auth") : (c.lastError?.message ?? "error")}`,
      );
    }
  }
  const runsBy: Record<string, number> = {};
  let firstSuccessAt: Date | null = null;
  for (const r of runs.docs) {
    const outcome = String(r.get("outcome") ?? "unknown");
    runsBy[outcome] = (runsBy[outcome] ?? 0) + 1;
    const fin = r.get("finishedAt") as Timestamp | undefined;
    if (outcome === "success" && fin && (!firstSuccessAt || fin.toDate() < firstSuccessAt))
      firstSuccessAt = fin.toDate();
  }
  if (quiet > 0) runsBy["unchanged"] = quiet;
  return { byStatus, runs: runsBy, runsTotal: runs.size + quiet, firstSuccessAt, errors };
}

export function statusLine(s: Stats): string {
  const keys = [...ORDER, ...Object.keys(s.byStatus).filter((k) => !ORDER.includes(k))];
  const parts = keys.filter((k) => s.byStatus[k] || ["connected", "syncing", "needs_reauth", "error"].includes(k));
  return parts.map((k) => `${s.byStatus[k] ?? 0} ${k.replace("_", " ")}`).join(" · ") || "none";
}

export function runsLine(s: Stats): string {
  if (s.runsTotal === 0) return "none yet";
  return `${s.runsTotal} (${Object.entries(s.runs)
    .map(([k, v]) => `${v} ${k.replace("_", " ")}`)
    .join(", ")})`;
}

const hhmmss = (d: Date) => d.toTimeString().slice(0, 8);

export function fanOutLine(f: FanOutRecord | null, next: Date | null): string {
  const nextText = next ? ` · next at ${hhmmss(next)}` : "";
  if (!f) return `not yet${nextText}`;
  if (f.error) return `${hhmmss(f.at)} (${f.trigger}) FAILED: ${f.error}${nextText}`;
  const s = f.summary!;
  return `${hhmmss(f.at)} (${f.trigger}): ${s.due} due, ${s.enqueued} enqueued, ${s.skippedDuplicates} already queued, ${s.failed} failed (${s.ms} ms)${nextText}`;
}

export function uptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
