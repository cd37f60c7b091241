/**
 * --delete-source: removes the legacy documents and objects, only
 *  - after a verify that passed and is recorded in the checkpoint, for the same sources, and
 *  - for sources whose current content is exactly what that verify found equal (a legacy function
 *    still writing, or an edit since, makes it refuse), with the target still present, and
 *  - when confirmed with --yes (without it, it prints what it would delete).
 * Deletes carry preconditions (document update time, object generation) so nothing changed after
 * the check is deleted. Killed half-way, it is run again: what is gone is gone, the rest is
 * checked again.
 */
import { Timestamp } from "./deps";
import { InvalidInputError } from "../../functions/src/errors";
import { newRunId } from "./checkpoint";
import { listSourceDocs, scanDocs } from "./documents";
import { scanObjects } from "./objects";
import { chunks, mapPool, sleep } from "./pool";
import { Progress, formatBytes } from "./progress";
import { Tally } from "./report";
import { type Report, type Run, checkpointOf, finish, printHeader, printProblems, sourcesKey } from "./run";
import type { DocItem } from "./documents";

/** Thrown when deleting is refused; the message says why. Exit code 3. */
export class RefusedError extends InvalidInputError {}

export async function deleteSource(run: Run): Promise<Report> {
  const { opts, target } = run;
  const uid = run.user.uid;
  if (!uid) throw new RefusedError(`No user ${opts.email}: there is no migration to finish.`);
  printHeader(
    run,
    `Migration: delete the source${opts.yes ? "" : " (not confirmed: nothing is deleted without --yes)"}`,
  );
  const checkpoint = checkpointOf(run, uid);
  const cp = await checkpoint.read();
  if (!cp?.verify?.passed) {
    throw new RefusedError(
      cp?.verify
        ? `The last --verify (${cp.verify.runId}) failed; fix the differences, run --verify again, then --delete-source.`
        : "No passing --verify is recorded for this user; run --verify first.",
    );
  }
  if (cp.verify.sourcesKey !== sourcesKey(run)) {
    throw new RefusedError(
      "The recorded --verify checked other sources (collections, prefixes, bucket or project); run --verify with these options.",
    );
  }
  const verified = await checkpoint.ledger("verified", cp.verify.runId);
  const isVerified = (key: string, hash: string) => verified.get(key)?.has(hash) ?? false;

  const problems: string[] = [];
  const docs: DocItem[] = [];
  const sources = await listSourceDocs(target.db, opts.collections, 16);
  for await (const { items } of scanDocs(target.db, sources, {
    uid,
    overwrite: false,
    written: new Map(),
    batchSize: opts.batchSize,
  })) {
    for (const i of items) {
      if (!isVerified(i.source.key, i.hash))
        problems.push(`document ${i.source.ref.path}: changed or added since the verify`);
      else if (!i.targetSnap?.exists)
        problems.push(`document ${i.source.ref.path}: its target ${i.target.path} is gone`);
      else docs.push(i);
    }
  }
  const objects = (await scanObjects(target, opts.prefixes, { uid, overwrite: false })).filter((i) => {
    if (!isVerified(i.key, i.hash)) problems.push(`object ${i.source.name}: changed or added since the verify`);
    else if (!i.target) problems.push(`object ${i.source.name}: its target ${i.targetName} is gone`);
    else return true;
    return false;
  });
  if (problems.length > 0) {
    printProblems(run, "Refused", problems);
    throw new RefusedError(
      `${problems.length} legacy item(s) are not covered by the recorded verify; run --apply and --verify again.`,
    );
  }

  const tally = new Tally();
  const bytes = objects.reduce((n, i) => n + i.source.size, 0);
  if (!opts.yes) {
    for (const i of docs)
      tally.add(tally.row("documents", `/${i.source.collection}`, "(deleted)"), "unchanged", i.bytes);
    for (const i of objects) tally.add(tally.row("objects", i.prefix, "(deleted)"), "unchanged", i.source.size);
    run.out(tally.render("Would delete (all verified)", { unchanged: "verified" }));
    run.out(
      `Result: would delete ${docs.length} documents and ${objects.length} objects (${formatBytes(bytes)}) from ${target.project}. Run again with --yes to delete.`,
    );
    return finish(run, tally, { ok: true, problems: [], deleted: 0 });
  }

  const runId = newRunId();
  await checkpoint.update({ deleteSource: { runId, startedAt: Timestamp.now(), finishedAt: null } });
  const progress = new Progress("deleting ", docs.length + objects.length);
  for (const chunk of chunks(docs, opts.batchSize)) {
    const batch = target.db.batch();
    for (const i of chunk) batch.delete(i.source.ref, { lastUpdateTime: i.sourceSnap.updateTime! });
    await batch.commit();
    for (const i of chunk)
      tally.add(tally.row("documents", `/${i.source.collection}`, "(deleted)"), "unchanged", i.bytes);
    progress.tick(chunk.length);
    if (opts.paceMs) await sleep(opts.paceMs);
  }
  await mapPool(objects, opts.concurrency, async (i) => {
    await target.bucket.file(i.source.name).delete({ ifGenerationMatch: Number(i.source.generation) });
    tally.add(tally.row("objects", i.prefix, "(deleted)"), "unchanged", i.source.size);
    progress.tick(1, i.source.size);
  });
  progress.finish();
  await checkpoint.update({
    deleteSource: {
      runId,
      startedAt: Timestamp.now(),
      finishedAt: Timestamp.now(),
      counts: { documents: docs.length, objects: objects.length },
    },
  });
  run.out(tally.render("Deleted", { unchanged: "deleted" }));
  run.out(
    `Result: deleted ${docs.length} documents and ${objects.length} objects (${formatBytes(bytes)}). Remove the legacy token variables from the old deployment too.`,
  );
  return finish(run, tally, { ok: true, problems: [], deleted: docs.length + objects.length });
}
