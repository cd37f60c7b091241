/**
 * `npm run status` — connections by provider and status, how many are due now, the app-wide
 * provider pauses (provider_state/{provider}), each provider queue's dispatch rate (the adaptive
 * one when QUEUE_RATE_ADAPTIVE has recorded one, else the configured one) and the most recent errors.
 *
 *   npm run status                               against the emulators, a short summary for people
 *   npm run status -- --json                     the same as one JSON document (the only thing on stdout)
 *   npm run status -- --lift-pause spotify       lifts Spotify's pause first, says so, then the status
 *   npm run status -- --lift-pause spotify --app CLIENT_ID
 *                                                lifts the pause of one person's own app instead
 *   npm run status -- --project my-project       against a real project
 *   options: --errors N (default 10)
 *
 * Lifting a pause is an operator decision (the provider's rate-limit answer said to wait; lift it
 * when that was a mistake or the wait is known to be over): the next sync task calls the provider
 * again, and a new long Retry-After pauses it again.
 *
 * Pages through every connection (500 at a time, only the fields it prints), so it works for
 * any number of users without holding them all in memory. Log lines go to stderr.
 */
import { PROVIDERS as PROVIDER_IDS, type Provider, isProvider } from "../functions/src/paths";
import {
  UsageError,
  configWithoutSecrets,
  parseOptions,
  printResult,
  printText,
  runMain,
  selectTarget,
} from "./ops/target";

interface LastError {
  uid: string;
  provider: string;
  status: string;
  code: string;
  message: string;
  at: string;
}

interface PauseView {
  pausedUntil: string;
  reason: string;
  since: string;
  active: boolean;
}

interface QueueRateView {
  perSecond: number;
  source: "adaptive" | "configured";
  adjustedAt?: string;
  reason?: string;
}

interface StatusReport {
  project: string;
  connections: number;
  dueNow: number;
  /** Connections with a scheduled task waiting in their queue (pendingTask, not yet expired): the backlog. */
  waitingInQueue: number;
  byStatus: Record<string, Record<string, number>>;
  /** The stored pause of each provider (null: none); `active` is false once it has ended. */
  providerPauses: Record<string, PauseView | null>;
  /**
   * Each provider queue's dispatch rate: `adaptive` when the fan-out recorded one
   * (provider_state queueRate), else `configured` (<PREFIX>_QUEUE_MAX_DISPATCHES_PER_SECOND).
   */
  queueRates: Record<string, QueueRateView>;
  /** The stored pauses of people's own apps, by provider: each with its client id. */
  ownAppPauses: Record<string, Array<PauseView & { clientId: string }>>;
  lastErrors: LastError[];
  /** Present when --lift-pause was given: whether there was a pause to lift. */
  liftedPause?: { provider: Provider; clientId?: string; existed: boolean };
}

runMain(async () => {
  const { values } = parseOptions(process.argv.slice(2), {
    errors: { type: "string" },
    json: { type: "boolean" },
    "lift-pause": { type: "string" },
    app: { type: "string" },
  });
  const keep = Math.max(0, Number(values.errors ?? 10) || 0);
  const lift = values["lift-pause"];
  const app = values.app;
  if ((lift !== undefined && !isProvider(lift)) || (app !== undefined && (lift === undefined || app === ""))) {
    throw new UsageError(
      `usage: npm run status -- [--json] [--errors N] [--lift-pause ${PROVIDER_IDS.join("|")} [--app CLIENT_ID]] [--project ID]`,
    );
  }
  const target = selectTarget(values.project);
  const { db } = await import("../functions/src/admin");
  const { CONNECTIONS, PROVIDERS, parseConnectionPath } = await import("../functions/src/paths");
  const { describeOwnAppPauses, describeProviderPauses, liftProviderPause } =
    await import("../functions/src/sync/providerPause");

  const liftedPause =
    lift !== undefined
      ? {
          provider: lift,
          ...(app !== undefined ? { clientId: app } : {}),
          existed: await liftProviderPause(db(), lift, app),
        }
      : undefined;

  const byStatus: Record<string, Record<string, number>> = {};
  const errors: LastError[] = [];
  let total = 0;
  let due = 0;
  let waiting = 0;
  const now = Date.now();
  const { parsePendingTask, pendingExpiryMs } = await import("../functions/src/sync/backlog");
  const expiryMs = pendingExpiryMs(configWithoutSecrets());
  const base = db()
    .collectionGroup(CONNECTIONS)
    .orderBy("__name__")
    .select("status", "lastError", "nextSyncAt", "reauthReason", "pendingTask")
    .limit(500);
  let page = await base.get();
  while (!page.empty) {
    for (const doc of page.docs) {
      const id = parseConnectionPath(doc.ref.path);
      if (!id) continue;
      total++;
      const status = String(doc.get("status"));
      byStatus[id.provider] ??= {};
      byStatus[id.provider]![status] = (byStatus[id.provider]![status] ?? 0) + 1;
      const next = doc.get("nextSyncAt") as { toMillis(): number } | undefined;
      if ((status === "connected" || status === "error") && next && next.toMillis() <= now) due++;
      const pending = parsePendingTask(doc.get("pendingTask"));
      if (pending && now - pending.enqueuedAt.toMillis() < expiryMs) waiting++;
      const e = doc.get("lastError") as { code: string; message: string; at: { toDate(): Date } } | null | undefined;
      if (e && keep > 0) {
        errors.push({ ...id, status, code: e.code, message: e.message, at: e.at.toDate().toISOString() });
        errors.sort((a, b) => b.at.localeCompare(a.at));
        errors.length = Math.min(errors.length, keep);
      }
    }
    if (page.size < 500) break;
    page = await base.startAfter(page.docs[page.docs.length - 1]!).get();
  }

  const pauses = await describeProviderPauses(db(), new Date(now), configWithoutSecrets());
  const { readQueueRates } = await import("../functions/src/sync/queueRate");
  const { configuredDispatchRate } = await import("../functions/src/sync/backlog");
  const recordedRates = await readQueueRates(db());
  const queueRates: Record<string, QueueRateView> = {};
  for (const p of PROVIDERS) {
    // A rate recorded while QUEUE_RATE_ADAPTIVE was on is not in effect once it is off (the next deploy resets it).
    const r = configWithoutSecrets().QUEUE_RATE_ADAPTIVE ? recordedRates[p] : null;
    queueRates[p] = r
      ? {
          perSecond: r.perSecond,
          source: "adaptive",
          adjustedAt: r.adjustedAt.toDate().toISOString(),
          reason: r.reason,
        }
      : { perSecond: configuredDispatchRate(configWithoutSecrets(), p), source: "configured" };
  }
  const providerPauses: Record<string, PauseView | null> = {};
  for (const p of PROVIDERS) {
    const info = pauses[p];
    providerPauses[p] = info
      ? {
          pausedUntil: info.pausedUntil.toISOString(),
          reason: info.reason,
          since: info.since.toISOString(),
          active: info.active,
        }
      : null;
  }

  const ownAppPauses: StatusReport["ownAppPauses"] = {};
  for (const p of PROVIDERS) {
    const list = await describeOwnAppPauses(db(), p, new Date(now), configWithoutSecrets());
    if (list.length > 0)
      ownAppPauses[p] = list.map((info) => ({
        clientId: info.clientId,
        pausedUntil: info.pausedUntil.toISOString(),
        reason: info.reason,
        since: info.since.toISOString(),
        active: info.active,
      }));
  }

  const report: StatusReport = {
    project: target.projectId,
    connections: total,
    dueNow: due,
    waitingInQueue: waiting,
    byStatus,
    providerPauses,
    queueRates,
    ownAppPauses,
    lastErrors: errors,
    ...(liftedPause ? { liftedPause } : {}),
  };
  if (values.json) printResult(report);
  else printText(summary(report, now));
  return 0;
});

/** The human-readable status: a few lines, one idea each. */
function summary(r: StatusReport, now: number): string[] {
  const oneLine = (s: string, max = 160) => {
    const flat = s.replace(/\s+/g, " ").trim();
    return flat.length > max ? `${flat.slice(0, max)}…` : flat;
  };
  const lines: string[] = [];
  if (r.liftedPause) {
    const which = r.liftedPause.clientId
      ? `${r.liftedPause.provider} own app ${r.liftedPause.clientId}`
      : r.liftedPause.provider;
    lines.push(
      r.liftedPause.existed
        ? `Lifted the ${which} pause: the next sync through it calls the provider again.`
        : `${which} had no pause to lift.`,
    );
  }
  lines.push(
    `Project ${r.project}: ${r.connections} connection${r.connections === 1 ? "" : "s"}, ${r.dueNow} due now, ${r.waitingInQueue} with a task waiting in the queue.`,
  );
  for (const [provider, counts] of Object.entries(r.byStatus).sort(([a], [b]) => a.localeCompare(b))) {
    const parts = Object.entries(counts)
      .sort(([, a], [, b]) => b - a)
      .map(([status, n]) => `${status} ${n}`);
    lines.push(`  ${provider.padEnd(10)} ${parts.join(", ")}`);
  }
  lines.push("Provider pauses:");
  for (const [provider, p] of Object.entries(r.providerPauses)) {
    if (!p) lines.push(`  ${provider.padEnd(10)} not paused`);
    else if (!p.active) lines.push(`  ${provider.padEnd(10)} not paused (a pause ended at ${p.pausedUntil})`);
    else {
      const minutes = Math.ceil((Date.parse(p.pausedUntil) - now) / 60_000);
      const left = minutes >= 120 ? `${Math.round(minutes / 60)} h` : `${minutes} min`;
      lines.push(
        `  ${provider.padEnd(10)} PAUSED until ${p.pausedUntil} (${left} from now, since ${p.since}): ${oneLine(p.reason)}`,
      );
      lines.push(`  ${"".padEnd(10)} lift it with: npm run status -- --lift-pause ${provider}`);
    }
  }
  for (const [provider, list] of Object.entries(r.ownAppPauses)) {
    const active = list.filter((p) => p.active);
    lines.push(
      `  ${provider.padEnd(10)} own apps: ${active.length} paused now, ${list.length - active.length} pause(s) ended`,
    );
    for (const p of active.slice(0, 10)) {
      lines.push(`  ${"".padEnd(10)} app ${p.clientId} PAUSED until ${p.pausedUntil}: ${oneLine(p.reason)}`);
      lines.push(`  ${"".padEnd(10)} lift it with: npm run status -- --lift-pause ${provider} --app ${p.clientId}`);
    }
  }
  lines.push("Queue rates (dispatches per second; capacity per hour = rate × 3600):");
  for (const [provider, q] of Object.entries(r.queueRates)) {
    lines.push(
      `  ${provider.padEnd(10)} ${q.perSecond}/s (${Math.floor(q.perSecond * 3600)}/h), ` +
        (q.source === "adaptive" ? `adaptive, ${q.reason} at ${q.adjustedAt}` : "configured"),
    );
  }
  if (r.lastErrors.length === 0) lines.push("Last errors: none.");
  else {
    lines.push("Last errors (newest first):");
    for (const e of r.lastErrors) {
      lines.push(`  ${e.at} ${e.provider} ${e.uid} (${e.status}) ${e.code}: ${oneLine(e.message)}`);
    }
  }
  lines.push("(--json prints all of this as one JSON document)");
  return lines;
}
