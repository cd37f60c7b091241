/**
 * --verify: every legacy document must deep-equal its target (subcollections included: each
 * nested document is its own item), every object must match by size and MD5 (CRC32C when there
 * is no MD5), and imported tokens must open through the vault. The result, and the hash of each
 * source found equal, are recorded in the checkpoint; --delete-source relies on them.
 */
import { Timestamp } from "./deps";
import { InvalidInputError } from "../../functions/src/errors";
import { newRunId } from "./checkpoint";
import { describeDoc, describeObject } from "./describe";
import { listSourceDocs, scanDocs } from "./documents";
import { scanObjects } from "./objects";
import { chunks } from "./pool";
import { Progress } from "./progress";
import { Tally } from "./report";
import { type Report, type Run, checkpointOf, finish, printHeader, printProblems, sourcesKey } from "./run";
import { verifyTokens } from "./tokens";

const LEDGER_PAGE = 2000;
const LABELS = { create: "missing", unchanged: "equal", conflict: "different", update: "different" } as const;

export async function verify(run: Run): Promise<Report> {
  const { opts, target } = run;
  const uid = run.user.uid;
  if (!uid) throw new InvalidInputError(`No user ${opts.email}: nothing can have been migrated to it.`);
  const runId = newRunId();
  printHeader(run, `Migration: verify (run ${runId})`);
  const checkpoint = checkpointOf(run, uid);
  const tally = new Tally();
  const problems: string[] = [];
  const equal: Record<string, string> = {};

  const sources = await listSourceDocs(target.db, opts.collections, 16);
  const progress = new Progress("documents", sources.length);
  for await (const { scanned, items } of scanDocs(target.db, sources, {
    uid,
    overwrite: false,
    written: new Map(),
    batchSize: opts.batchSize,
  })) {
    for (const i of items) {
      const action = i.action === "update" || i.action === "overwrite" ? "conflict" : i.action;
      tally.add(tally.row("documents", `/${i.source.collection}`, `users/{uid}/${i.source.provider}`), action, i.bytes);
      if (i.action === "unchanged") equal[i.source.key] = i.hash;
      else problems.push(describeDoc(i, verdict(i.action)));
    }
    progress.tick(
      scanned,
      items.reduce((n, i) => n + i.bytes, 0),
    );
  }
  progress.finish();

  const objects = await scanObjects(target, opts.prefixes, { uid, overwrite: false });
  for (const i of objects) {
    const action = i.action === "update" || i.action === "overwrite" ? "conflict" : i.action;
    tally.add(tally.row("objects", i.prefix, `{uid}/${i.provider}/`), action, i.source.size);
    if (i.action === "unchanged") equal[i.key] = i.hash;
    else problems.push(describeObject(i, verdict(i.action)));
  }

  const tokenResults = run.legacy.grants.length
    ? await verifyTokens(target.db, target.vault(), uid, run.legacy.grants)
    : [];
  for (const t of tokenResults) {
    tally.add(tally.row("tokens", t.provider, `oauth_tokens/${t.provider}`), t.ok ? "unchanged" : "conflict");
    if (!t.ok) problems.push(`tokens ${t.provider}: ${t.detail}`);
    else run.out(`  tokens      ${t.provider}: ${t.detail}`);
  }

  const passed = problems.length === 0 && run.legacy.problems.length === 0;
  if (passed) {
    for (const [n, page] of chunks(Object.entries(equal), LEDGER_PAGE).entries()) {
      const batch = target.db.batch();
      checkpoint.addPage(batch, "verified", `${runId}-${String(n).padStart(5, "0")}`, runId, Object.fromEntries(page));
      await batch.commit();
    }
  }
  await checkpoint.update({
    verify: {
      runId,
      at: Timestamp.now(),
      passed,
      sourcesKey: sourcesKey(run),
      counts: { equal: Object.keys(equal).length, problems: problems.length },
    },
  });

  run.out();
  run.out(tally.render("Summary (verify)", LABELS));
  printProblems(run, "Differences", problems);
  run.out(
    passed
      ? `Result: verify PASSED: ${Object.keys(equal).length} documents and objects equal their sources; recorded in the checkpoint.`
      : `Result: verify FAILED: ${problems.length} difference${problems.length === 1 ? "" : "s"}; --delete-source stays refused.`,
  );
  return finish(run, tally, { ok: passed, problems, verified: Object.keys(equal).length });
}

function verdict(action: string): string {
  if (action === "create") return "target missing";
  if (action === "collision") return "another legacy source maps to the same target";
  if (action === "invalid") return "name cannot be mapped";
  return "target differs from the source";
}
