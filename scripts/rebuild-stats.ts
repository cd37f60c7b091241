/**
 * `npm run rebuild-stats` — recomputes a person's listening aggregates (play_stats month documents)
 * from their play log, in the time zone of their profile: for repairs and after a time-zone change.
 *
 *   npm run rebuild-stats -- --uid U                  rewrites the months that differ, deletes months without plays
 *   npm run rebuild-stats -- --uid U --check          writes nothing; exits 1 when a month differs
 *   npm run rebuild-stats -- --uid U --project ID     against a real project (default: the emulators)
 *
 * Prints one JSON line {uid, plays, months, changed, timeZone, invalid, written}; with --check and
 * a difference, the differing month ids also go to stderr. The log is read in pages; only the
 * month aggregates are kept in memory.
 */
import { UsageError, parseOptions, printText, runMain, selectTarget } from "./ops/target";

runMain(async () => {
  const { values } = parseOptions(process.argv.slice(2), {
    uid: { type: "string" },
    check: { type: "boolean" },
  });
  const uid = values.uid;
  if (!uid) throw new UsageError("usage: npm run rebuild-stats -- --uid UID [--check] [--project ID]");
  selectTarget(values.project);
  const { db } = await import("../functions/src/admin");
  const { rebuildStats } = await import("../functions/src/history/rebuild");
  const check = values.check === true;
  const result = await rebuildStats(db(), uid, { check });
  printText([JSON.stringify(result)]);
  if (check && result.changed.length > 0) {
    process.stderr.write(`The stored aggregates differ from the play log in: ${result.changed.join(", ")}\n`);
    return 1;
  }
  return 0;
});
