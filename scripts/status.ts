/**
 * `npm run status` — connections by provider and status, and the most recent errors.
 *
 *   npm run status                          against the emulators
 *   npm run status -- --project my-project  against a real project
 *   options: --errors N (default 10)
 *
 * Pages through every connection (500 at a time, only the fields it prints), so it works for
 * any number of users without holding them all in memory.
 */
import { parseOptions, runMain, selectTarget } from "./ops/target";

runMain(async () => {
  const { values } = parseOptions(process.argv.slice(2), { errors: { type: "string" } });
  const keep = Math.max(0, Number(values.errors ?? 10) || 0);
  const target = selectTarget(values.project);
  const { db } = await import("../functions/src/admin");
  const { CONNECTIONS, parseConnectionPath } = await import("../functions/src/paths");

  const byStatus: Record<string, Record<string, number>> = {};
  const errors: { uid: string; provider: string; status: string; code: string; message: string; at: string }[] = [];
  let total = 0;
  let due = 0;
  const now = Date.now();
  const base = db()
    .collectionGroup(CONNECTIONS)
    .orderBy("__name__")
    .select("status", "lastError", "nextSyncAt", "reauthReason")
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
  process.stdout.write(
    `${JSON.stringify({ project: target.projectId, connections: total, dueNow: due, byStatus, lastErrors: errors }, null, 2)}\n`,
  );
  return 0;
});
