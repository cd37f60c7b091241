/**
 * npm run migrate -- (--uid U | --email E [--create-user]) [--dry-run | --apply | --verify | --delete-source [--yes]]
 *
 * Moves the single-tenant layout into users/{uid}/… and {uid}/… (README: "Migrating from the
 * single-tenant layout"; options: `npm run migrate -- --help`). The plan and summary go to
 * stdout, progress to stderr.
 *
 * Exit codes: 0 done; 1 error; 2 bad usage; 3 verify failed or delete refused; 4 apply finished
 * with conflicts (or a dry run found some).
 */
import { isAppError } from "../functions/src/errors";
import { planOrApply } from "./migrate/apply";
import { findUser, resolveTarget } from "./migrate/context";
import { RefusedError, deleteSource } from "./migrate/delete-source";
import { USAGE, parseOptions } from "./migrate/options";
import { type Report, type Run, readLegacy } from "./migrate/run";
import { verify } from "./migrate/verify";

async function main(argv: string[]): Promise<number> {
  let opts;
  try {
    opts = parseOptions(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const startedAt = Date.now();
  const target = resolveTarget(opts);
  const run: Run = {
    opts,
    target,
    user: await findUser(target.auth, opts),
    legacy: readLegacy(opts, new Date()),
    startedAt,
    out: (line = "") => process.stdout.write(`${line}\n`),
  };
  let report: Report;
  switch (opts.mode) {
    case "verify":
      report = await verify(run);
      return report.ok ? 0 : 3;
    case "delete-source":
      await deleteSource(run);
      return 0;
    default:
      report = await planOrApply(run);
      return report.conflicts > 0 || !report.ok ? 4 : 0;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof RefusedError) {
      process.stderr.write(`Refused: ${e.message}\n`);
      process.exit(3);
    }
    process.stderr.write(`migrate: ${isAppError(e) ? e.message : ((e as Error).stack ?? String(e))}\n`);
    process.exit(isAppError(e) && e.code === "invalid_input" ? 2 : 1);
  },
);
