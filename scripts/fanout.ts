/**
 * `npm run fanout` — one fan-out now: enqueue a sync task for every due connection (what the
 * hourly syncFanOut does; the emulator never fires schedules).
 *
 *   npm run fanout                          against the emulators (tasks run in the Functions emulator)
 *   npm run fanout -- --project my-project  against a real project (ADC with permission to enqueue)
 *
 * Prints the summary as the only thing on stdout (one JSON document; log lines go to stderr):
 * { due, enqueued, skippedDuplicates, skippedPending, failed, capacity: [{ provider, lane, due,
 * ratePerSecond, perHour, overCapacity }], ms, … }.
 */
import { configWithoutSecrets, parseOptions, printResult, runMain, selectTarget } from "./ops/target";

runMain(async () => {
  const { values } = parseOptions(process.argv.slice(2), {});
  const target = selectTarget(values.project);
  const { fanOutDeps } = await import("../functions/src/sync/runtime");
  const { runFanOut } = await import("../functions/src/sync/fanOut");
  const summary = await runFanOut(fanOutDeps(configWithoutSecrets()));
  printResult({ project: target.projectId, ...summary });
  return summary.failed > 0 ? 1 : 0;
});
