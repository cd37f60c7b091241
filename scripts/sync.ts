/**
 * `npm run sync -- --uid U --provider P` — syncs one connection in this process (no queue) and
 * prints the outcome: what was fetched, written, mirrored, or the error and what it did to the
 * connection. Runs as a manual sync (ignores nextSyncAt, respects the lease and rate limits).
 * The result is the only thing on stdout (one JSON document); log lines go to stderr:
 *   npm run -s sync -- --uid U --provider spotify | jq .outcome
 *
 *   npm run sync -- --uid U --provider spotify                       emulators + fake providers
 *   npm run sync -- --uid U --provider spotify --project my-project  real project (export the secrets first)
 */
import { isProvider } from "../functions/src/paths";
import { UsageError, parseOptions, printResult, runMain, selectTarget } from "./ops/target";

runMain(async () => {
  const { values } = parseOptions(process.argv.slice(2), { uid: { type: "string" }, provider: { type: "string" } });
  if (!values.uid || !isProvider(values.provider))
    throw new UsageError("usage: npm run sync -- --uid U --provider spotify|instagram [--project ID]");
  selectTarget(values.project);
  const { syncDeps } = await import("../functions/src/sync/runtime");
  const { runSync } = await import("../functions/src/sync/runSync");
  const result = await runSync(
    syncDeps(),
    { uid: values.uid, provider: values.provider, reason: "manual", requestedAt: Date.now() },
    { retryCount: 0, lastAttempt: true },
  );
  printResult(result);
  return result.outcome === "success" ? 0 : 1;
});
