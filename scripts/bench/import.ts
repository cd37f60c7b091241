/**
 * Bench 5 — importing Spotify's streaming history (README "Importing Spotify's streaming history"):
 * a generated extended export of 100,000 plays over eight years (ten files of 10,000 entries in
 * one zip, as Spotify ships them) imported by runImport against the Firestore emulator, as the
 * command does. Measured: seconds, plays/s, Firestore writes per imported play and transactions
 * (commits counted at the SDK, scripts/bench/instrument.ts), peak RSS (process.resourceUsage's
 * maxRSS, the kernel's high-water mark, before and after), then a second import of the same zip
 * (everything a duplicate, nothing written but the job).
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { db } from "../../functions/src/admin";
import { createImportJob, runImport, type ImportResult } from "../../functions/src/imports/job";
import { firestorePaths } from "../../functions/src/paths";
import { generatedExportZip, tempDir } from "../../functions/test/fixtures/spotify-export";
import { diffCommits, diffFirestore, snapshotCommits, snapshotFirestore } from "./instrument";
import type { Metric, Target } from "./report";

export interface ImportRunRow {
  seconds: number;
  playsPerSecond: number;
  imported: number;
  duplicates: number;
  writes: number;
  reads: number;
  transactions: number;
  writesByCollection: Record<string, number>;
  /** Writes per imported play (the job's own writes included). */
  writesPerPlay: number | null;
  peakRssMb: number;
}

export interface ImportBenchResult {
  plays: number;
  files: number;
  zipBytes: number;
  chunkPlays: number;
  /** maxRSS before the first import started (the generated zip already written). */
  rssBeforeMb: number;
  first: ImportRunRow;
  second: ImportRunRow;
}

const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const mb = (kb: number) => Math.round(kb / 1024);

export async function benchImport(opts: {
  tag: string;
  plays: number;
  chunkPlays?: number;
}): Promise<ImportBenchResult> {
  const dir = tempDir("bench-import-");
  const zip = join(dir, "my_spotify_data.zip");
  const perFile = 10_000;
  // Eight years of listening: about 1,000 plays a month.
  const stepMs = Math.round((8 * 365 * 86_400_000) / opts.plays);
  const t0 = performance.now();
  await generatedExportZip(zip, opts.plays, { perFile, stepMs, from: Date.UTC(2017, 0, 1) });
  const zipBytes = statSync(zip).size;
  say(
    `import: generated ${opts.plays.toLocaleString("en-US")} plays in ${Math.ceil(opts.plays / perFile)} files (${Math.round(zipBytes / 1024 / 1024)} MB zipped) in ${Math.round(performance.now() - t0)} ms`,
  );
  const uid = `bench-import-${opts.tag}`;
  await db()
    .doc(firestorePaths.user(uid))
    .set({ uid, settings: { timeZone: "Europe/Berlin", syncEnabled: true } });
  const rssBeforeMb = mb(process.resourceUsage().maxRSS);

  const once = async (n: number): Promise<ImportRunRow> => {
    const importId = `bench-${opts.tag}-${n}`;
    await createImportJob(db(), {
      uid,
      importId,
      source: "command",
      fileName: "my_spotify_data.zip",
      size: zipBytes,
      parts: 0,
      minPlayMs: 30_000,
      status: "queued",
      now: new Date(),
    });
    const fs0 = snapshotFirestore();
    const cm0 = snapshotCommits();
    const started = performance.now();
    const run = await runImport(db(), {
      uid,
      importId,
      path: zip,
      deadline: null,
      now: () => new Date(),
      chunkPlays: opts.chunkPlays,
    });
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    if (run.kind !== "done") throw new Error(`The bench import ended ${run.kind}.`);
    const r: ImportResult = run.result;
    const fs = diffFirestore(fs0);
    const cm = diffCommits(cm0);
    const row: ImportRunRow = {
      seconds,
      playsPerSecond: Math.round(r.read / seconds),
      imported: r.imported,
      duplicates: r.duplicates,
      writes: fs.writes,
      reads: fs.reads,
      transactions: cm.commits,
      writesByCollection: cm.writesByCollection,
      writesPerPlay: r.imported > 0 ? Math.round((fs.writes / r.imported) * 1000) / 1000 : null,
      peakRssMb: mb(process.resourceUsage().maxRSS),
    };
    say(`import: run ${n}: ${JSON.stringify(row)} (peak RSS before the imports: ${rssBeforeMb} MB)`);
    return row;
  };
  const first = await once(1);
  const second = await once(2);
  return {
    plays: opts.plays,
    files: Math.ceil(opts.plays / perFile),
    zipBytes,
    chunkPlays: opts.chunkPlays ?? 400,
    rssBeforeMb,
    first,
    second,
  };
}

const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 3 });

export function importMetrics(r: ImportBenchResult): Metric[] {
  const how = `runImport on the Firestore emulator, ${r.chunkPlays} plays per transaction; counts at the SDK.`;
  return [
    {
      section: "history",
      id: "import.first",
      label: `import of ${fmt(r.plays)} plays (${r.files} files in a zip)`,
      value: r.first.seconds,
      unit: "s",
      what: `${fmt(r.first.playsPerSecond)} plays/s; ${fmt(r.first.imported)} imported in ${fmt(r.first.transactions)} transactions, ${fmt(r.first.writes)} writes (${fmt(r.first.writesPerPlay ?? 0)} per play), ${fmt(r.first.reads)} reads; peak RSS ${r.first.peakRssMb} MB (${r.rssBeforeMb} MB before).`,
      how,
    },
    {
      section: "history",
      id: "import.writesPerPlay",
      label: "writes per imported play",
      value: r.first.writesPerPlay ?? 0,
      unit: "writes",
      what: `By collection: ${JSON.stringify(r.first.writesByCollection)}.`,
      how,
    },
    {
      section: "history",
      id: "import.second",
      label: `the same ${fmt(r.plays)} plays imported again`,
      value: r.second.seconds,
      unit: "s",
      what: `${fmt(r.second.imported)} imported, ${fmt(r.second.duplicates)} duplicates; ${fmt(r.second.writes)} writes (the job document only), ${fmt(r.second.transactions)} transactions.`,
      how,
    },
  ];
}

export function importTargets(r: ImportBenchResult): Target[] {
  return [
    {
      name: `an import of ${fmt(r.plays)} plays`,
      target: "≤ 120 s on the emulators",
      measured: `${r.first.seconds} s (${fmt(r.first.playsPerSecond)} plays/s)`,
      met: r.first.seconds <= 120,
    },
    {
      name: "writes per imported play",
      target: "≤ 1.1",
      measured: fmt(r.first.writesPerPlay ?? 0),
      met: (r.first.writesPerPlay ?? Infinity) <= 1.1,
    },
    {
      name: "import memory",
      target: "bounded: peak RSS ≤ 150 MB more than before the import",
      measured: `peak RSS ${r.first.peakRssMb} MB, ${r.rssBeforeMb} MB before`,
      met: r.first.peakRssMb - r.rssBeforeMb <= 150,
    },
    {
      name: "re-importing the same export",
      target: "0 plays imported, every play a duplicate",
      measured: `${fmt(r.second.imported)} imported, ${fmt(r.second.duplicates)} duplicates`,
      met: r.second.imported === 0 && r.second.duplicates === r.plays,
    },
  ];
}
