/**
 * What every mode shares: options, the target environment, the user, the legacy grants, the
 * checkpoint, output (plan and summary on stdout; progress on stderr) and the JSON report.
 */
import { writeFileSync } from "node:fs";
import { readDotenv } from "../lib/local-env";
import { contentHash } from "./canonical";
import { Checkpoint } from "./checkpoint";
import type { Target, TargetUser } from "./context";
import { type LegacyTokens, legacyGrants } from "./legacy-tokens";
import type { Options } from "./options";
import type { Tally } from "./report";
import { InvalidInputError } from "../../functions/src/errors";
import { existsSync } from "node:fs";

export interface Run {
  opts: Options;
  target: Target;
  user: TargetUser;
  legacy: LegacyTokens;
  startedAt: number;
  out: (line?: string) => void;
}

export function readLegacy(opts: Options, now: Date): LegacyTokens {
  if (!opts.envFile) return { grants: [], problems: [] };
  if (!existsSync(opts.envFile)) throw new InvalidInputError(`--env-file ${opts.envFile} does not exist.`);
  return legacyGrants(readDotenv(opts.envFile), opts.variables, now);
}

/** Identifies the set of sources; a verify counts for --delete-source only with the same sources. */
export function sourcesKey(run: Run): string {
  return contentHash(sourcesOf(run));
}

export function sourcesOf(run: Run) {
  return {
    project: run.target.project,
    bucket: run.target.bucketName,
    collections: run.opts.collections.map((c) => `${c.name}=${c.provider}`),
    prefixes: run.opts.prefixes.map((p) => `${p.prefix}=${p.provider}`),
  };
}

export function checkpointOf(run: Run, uid: string): Checkpoint {
  return new Checkpoint(run.target.db, uid);
}

/** The header every mode prints: where, who, what. */
export function printHeader(run: Run, title: string): void {
  const { target, user, opts, legacy } = run;
  run.out(title);
  run.out(`  project     ${target.project} (${target.emulated ? "emulators" : "application default credentials"})`);
  run.out(`  bucket      ${target.bucketName}`);
  run.out(
    `  user        ${user.uid ? `uid ${user.uid}` : "uid assigned at creation"}${user.email ? ` <${user.email}>` : ""}: ${user.note}`,
  );
  run.out(`  documents   ${opts.collections.map((c) => `/${c.name} → users/{uid}/${c.provider}`).join(", ")}`);
  run.out(`  objects     ${opts.prefixes.map((p) => `${p.prefix} → {uid}/${p.provider}/…`).join(", ")}`);
  if (!opts.envFile) run.out("  tokens      none (no --env-file)");
  for (const g of legacy.grants) {
    run.out(
      `  tokens      ${g.provider} (account ${g.accountId ?? "unknown"})${g.notes.length ? `: ${g.notes.join("; ")}` : ""}`,
    );
  }
  for (const p of legacy.problems) run.out(`  PROBLEM     ${p}`);
}

export interface Report {
  mode: string;
  project: string;
  bucket: string;
  uid: string | null;
  ok: boolean;
  changes: number;
  conflicts: number;
  durationMs: number;
  rows: Tally["rows"];
  problems: string[];
  [extra: string]: unknown;
}

export function finish(run: Run, tally: Tally, fields: Partial<Report> & { ok: boolean; problems: string[] }): Report {
  const report: Report = {
    mode: run.opts.mode,
    project: run.target.project,
    bucket: run.target.bucketName,
    uid: run.user.uid ?? null,
    changes: tally.changes,
    conflicts: tally.conflicts,
    durationMs: Date.now() - run.startedAt,
    rows: tally.rows,
    ...fields,
  };
  if (run.opts.reportJson) writeFileSync(run.opts.reportJson, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** Lists up to `max` problem lines. */
export function printProblems(run: Run, heading: string, problems: string[], max = 20): void {
  if (problems.length === 0) return;
  run.out(`${heading} (${problems.length}${problems.length > max ? `, first ${max}` : ""}):`);
  for (const p of problems.slice(0, max)) run.out(`  ${p}`);
}
