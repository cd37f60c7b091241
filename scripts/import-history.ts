/**
 * `npm run import-history` — imports a person's Spotify streaming history (the privacy export's
 * zip, or one of its JSON files) into their play log, synchronously:
 *
 *   npm run import-history -- --uid U --file PATH                    a new import (job id command-<ms>)
 *   npm run import-history -- --uid U --file PATH --min-seconds 10   skip plays shorter than 10 s (default 30)
 *   npm run import-history -- --uid U --file PATH --job ID           resume an import that stopped (killed, crashed)
 *   npm run import-history -- … --project ID                         against a real project (default: the emulators)
 *
 * Prints one JSON document {importId, read, imported, duplicates, skipped: {reason: n}, files: […]}.
 * A refused upload (not a streaming history, a zip bomb, over the size limit…): the sentence on
 * stderr, exit 1, nothing imported. Same job document and engine as the web app's imports
 * (functions/src/imports/job.ts), so an interrupted run resumes from its last committed chunk.
 */
import { existsSync, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import { UsageError, parseOptions, printResult, runMain, selectTarget } from "./ops/target";

const USAGE = "usage: npm run import-history -- --uid UID --file PATH [--min-seconds 30] [--job ID] [--project ID]";

runMain(async () => {
  const { values } = parseOptions(process.argv.slice(2), {
    uid: { type: "string" },
    file: { type: "string" },
    "min-seconds": { type: "string" },
    job: { type: "string" },
    // Plays per transaction; for tests that need many chunks from a small file.
    "chunk-plays": { type: "string" },
  });
  const uid = values.uid;
  const file = values.file;
  if (!uid || !file) throw new UsageError(USAGE);
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`--file ${file}: no such file.`);
  const minSeconds = values["min-seconds"] === undefined ? 30 : Number(values["min-seconds"]);
  if (!Number.isFinite(minSeconds) || minSeconds < 0 || minSeconds > 3600)
    throw new UsageError(`--min-seconds ${values["min-seconds"]} is not a number of seconds from 0 to 3600.`);
  const chunkPlays = values["chunk-plays"] === undefined ? undefined : Number(values["chunk-plays"]);
  if (chunkPlays !== undefined && (!Number.isInteger(chunkPlays) || chunkPlays < 1 || chunkPlays > 450))
    throw new UsageError(`--chunk-plays ${values["chunk-plays"]} is not a whole number from 1 to 450.`);
  if (values.job !== undefined && !/^[A-Za-z0-9_-]{1,100}$/.test(values.job))
    throw new UsageError(`--job ${values.job} is not an import id.`);

  selectTarget(values.project);
  const { db } = await import("../functions/src/admin");
  const { firestorePaths } = await import("../functions/src/paths");
  const { ImportJob, createImportJob, resultOf, runImport } = await import("../functions/src/imports/job");
  try {
    firestorePaths.user(uid);
  } catch (e) {
    throw new UsageError(`--uid: ${(e as Error).message}`);
  }

  const importId = values.job ?? `command-${Date.now()}`;
  const ref = db().doc(firestorePaths.importJob(uid, importId));
  if (values.job === undefined) {
    await createImportJob(db(), {
      uid,
      importId,
      source: "command",
      fileName: basename(path),
      size: statSync(path).size,
      parts: 0,
      minPlayMs: Math.round(minSeconds * 1000),
      status: "queued",
      now: new Date(),
    });
  } else {
    const existing = ImportJob.safeParse((await ref.get()).data());
    if (!existing.success) throw new UsageError(`No import ${importId} for ${uid}.`);
    if (existing.data.source !== "command")
      throw new UsageError(`Import ${importId} is the web app's; its task resumes it.`);
    if (existing.data.status === "failed") {
      process.stderr.write(`${existing.data.error ?? "The import failed."}\n`);
      return 1;
    }
  }

  const run = await runImport(db(), { uid, importId, path, deadline: null, now: () => new Date(), chunkPlays });
  if (run.kind === "failed") {
    process.stderr.write(`${run.error}\n`);
    return 1;
  }
  if (run.kind === "paused") {
    // Only when another run of the same job took over (there is no deadline here).
    process.stderr.write(`Import ${importId} is being run by another process; run again with --job ${importId}.\n`);
    return 1;
  }
  let result;
  if (run.kind === "done") result = run.result;
  else {
    // "missing": already done (a --job re-run): its result as recorded.
    const done = ImportJob.safeParse((await ref.get()).data());
    if (!done.success || done.data.status !== "done") throw new Error(`Import ${importId} cannot be run.`);
    result = resultOf(done.data);
  }
  printResult({ importId, ...result });
  return 0;
});
