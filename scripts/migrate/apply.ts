/**
 * --dry-run and --apply: the same scan; apply also writes. Documents go in atomic batches that
 * carry their own ledger page; objects are copied server-side with bounded concurrency; tokens
 * and connections last. Safe to kill at any point and run again.
 */
import { Timestamp } from "./deps";
import { firestorePaths } from "../../functions/src/paths";
import { newRunId } from "./checkpoint";
import { ensureUser } from "./context";
import { describeDoc, describeObject, needsAttention } from "./describe";
import { listSourceDocs, scanDocs } from "./documents";
import { copyObject, scanObjects } from "./objects";
import { chunks, mapPool, sleep } from "./pool";
import { Progress } from "./progress";
import { type Action, Tally } from "./report";
import { type Report, type Run, checkpointOf, finish, printHeader, printProblems, sourcesKey, sourcesOf } from "./run";
import { classifyTokens, writeTokens } from "./tokens";

export async function planOrApply(run: Run): Promise<Report> {
  const { opts, target } = run;
  const apply = opts.mode === "apply";
  const runId = newRunId();
  printHeader(run, apply ? `Migration: apply (run ${runId})` : "Migration plan (dry run: nothing is written)");
  const problems: string[] = [...run.legacy.problems];
  if (apply && run.legacy.problems.length > 0) {
    throw new Error(`The env file has problems (listed above); fix them before --apply.`);
  }
  const uid = apply ? await ensureUser(target.auth, opts, run.user) : run.user.uid;
  run.user.uid = uid;
  const checkpoint = uid ? checkpointOf(run, uid) : undefined;
  const previous = await checkpoint?.read();
  if (previous?.apply) {
    run.out(
      `  checkpoint  last apply ${previous.apply.runId}: ${previous.apply.phase}${previous.apply.finishedAt ? " (finished)" : " (interrupted: resuming)"}`,
    );
  }
  if (apply) {
    await checkpoint!.update({
      project: target.project,
      sources: sourcesOf(run),
      sourcesKey: sourcesKey(run),
      apply: { runId, phase: "documents", startedAt: Timestamp.now(), finishedAt: null },
    });
  }
  const tally = new Tally();
  const written = checkpoint ? await checkpoint.ledger("written") : new Map<string, Set<string>>();

  // --- documents
  const sources = await listSourceDocs(target.db, opts.collections, 16);
  const docProgress = new Progress("documents", sources.length);
  let page = 0;
  for await (const { scanned, items } of scanDocs(target.db, sources, {
    uid,
    overwrite: opts.overwrite,
    written,
    batchSize: opts.batchSize,
  })) {
    const batch = target.db.batch();
    const entries: Record<string, string> = {};
    for (const i of items) {
      if (i.action === "create") batch.create(i.target, i.data!);
      else if (i.action === "update" || i.action === "overwrite") batch.set(i.target, i.data!);
      else continue;
      entries[i.source.key] = i.hash;
    }
    if (apply && Object.keys(entries).length > 0) {
      checkpoint!.addPage(batch, "written", `${runId}-${String(page++).padStart(5, "0")}`, runId, entries);
      await batch.commit();
      if (opts.paceMs) await sleep(opts.paceMs);
    }
    for (const i of items) {
      tally.add(
        tally.row("documents", `/${i.source.collection}`, `users/{uid}/${i.source.provider}`),
        i.action,
        i.bytes,
      );
      if (needsAttention(i.action)) problems.push(describeDoc(i));
    }
    docProgress.tick(
      scanned,
      items.reduce((n, i) => n + i.bytes, 0),
    );
  }
  docProgress.finish();

  // --- objects
  if (apply)
    await checkpoint!.update({ apply: { runId, phase: "objects", startedAt: Timestamp.now(), finishedAt: null } });
  const objects = await scanObjects(target, opts.prefixes, { uid, overwrite: opts.overwrite });
  const objProgress = new Progress("objects  ", objects.length);
  for (const chunk of chunks(objects, opts.batchSize)) {
    await mapPool(chunk, opts.concurrency, async (i) => {
      if (apply && (i.action === "create" || i.action === "update" || i.action === "overwrite"))
        await copyObject(target, i);
      tally.add(tally.row("objects", i.prefix, `{uid}/${i.provider}/`), i.action, i.source.size);
      if (needsAttention(i.action)) problems.push(describeObject(i));
      objProgress.tick(1, i.source.size);
    });
    if (apply && opts.paceMs) await sleep(opts.paceMs);
  }
  objProgress.finish();

  // --- tokens and connections
  if (apply)
    await checkpoint!.update({ apply: { runId, phase: "tokens", startedAt: Timestamp.now(), finishedAt: null } });
  if (run.legacy.grants.length > 0) {
    const items = await classifyTokens(target.db, target.vault(), uid, run.legacy.grants, opts.overwrite);
    const now = new Date();
    for (const i of items) {
      if (apply) await writeTokens(target.db, target.vault(), uid!, i, now);
      const row = tally.row(
        "tokens",
        i.grant.provider,
        uid ? firestorePaths.oauthToken(uid, i.grant.provider) : "oauth_tokens",
      );
      tally.add(row, i.action as Action);
      if (i.action === "conflict" || i.action === "overwrite") {
        problems.push(
          `tokens ${i.grant.provider}: stored tokens ${i.tokens}, connection ${i.connection}${i.action === "conflict" ? " (left alone; --overwrite replaces them)" : " (replaced: --overwrite)"}`,
        );
      }
    }
  }

  if (apply) {
    await checkpoint!.update({
      apply: {
        runId,
        phase: "done",
        startedAt: Timestamp.now(),
        finishedAt: Timestamp.now(),
        counts: { changes: tally.changes, conflicts: tally.conflicts },
      },
    });
  }
  run.out();
  run.out(tally.render(apply ? "Summary (apply)" : "Summary (dry run: what --apply would do)"));
  printProblems(run, "Needs attention", problems);
  const secs = ((Date.now() - run.startedAt) / 1000).toFixed(1);
  run.out(
    apply
      ? `Result: ${tally.changes} change${tally.changes === 1 ? "" : "s"} written, ${tally.conflicts} conflict${tally.conflicts === 1 ? "" : "s"} in ${secs}s.${tally.conflicts ? "" : " Next: --verify."}`
      : `Result: --apply would write ${tally.changes} change${tally.changes === 1 ? "" : "s"}; ${tally.conflicts} conflict${tally.conflicts === 1 ? "" : "s"}. Nothing was written.`,
  );
  return finish(run, tally, { ok: tally.conflicts === 0 && (apply || run.legacy.problems.length === 0), problems });
}
