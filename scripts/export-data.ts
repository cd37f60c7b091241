/**
 * `npm run export-data` — writes a person's "Download my data" zip to a local file, with the same
 * builder the export task uses (functions/src/exports/build.ts): for operators (a person asks by
 * mail) and for tests.
 *
 *   npm run export-data -- --uid U --out FILE                 from the emulators
 *   npm run export-data -- --uid U --out FILE --project ID    from a real project
 *
 * Prints one JSON document {uid, out, files, plays, snapshots, media, bytes, durationMs}. The file
 * is written as it is built (streamed), and removed again if building fails.
 */
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import { UsageError, parseOptions, printResult, runMain, selectTarget } from "./ops/target";

runMain(async () => {
  const { values } = parseOptions(process.argv.slice(2), {
    uid: { type: "string" },
    out: { type: "string" },
  });
  const { uid, out } = values;
  if (!uid || !out) throw new UsageError("usage: npm run export-data -- --uid UID --out FILE.zip [--project ID]");
  selectTarget(values.project);
  const { bucket, db } = await import("../functions/src/admin");
  const { writeExport } = await import("../functions/src/exports/build");
  const path = resolve(out);
  const started = Date.now();
  const file = createWriteStream(path, { flags: "wx" });
  await new Promise<void>((ok, fail) => file.once("open", () => ok()).once("error", fail));
  try {
    const result = await writeExport({ db: db(), bucket: bucket() }, uid, file, { now: new Date() });
    printResult({ uid, out: path, ...result, durationMs: Date.now() - started });
    return 0;
  } catch (e) {
    await rm(path, { force: true });
    throw e;
  }
});
