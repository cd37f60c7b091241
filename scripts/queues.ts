/**
 * `npm run queues -- describe|pause|resume|purge <provider> --project ID [--location us-central1] [--own-apps]`
 *
 * Administers the sync queue of a provider (syncSpotify / syncInstagram / syncYoutube; with
 * `--own-apps`, the queue of connections through people's own apps: syncSpotifyOwnApps) in a real project with
 * @google-cloud/tasks and Application Default Credentials. Pausing a queue stops dispatching
 * (the fan-out keeps enqueueing; tasks wait); resume restarts it; purge deletes every waiting task
 * (the connections stay due, so the next fan-out enqueues them again).
 *
 * It cannot talk to the Cloud Tasks emulator (no such API there): against a demo project it stops
 * and says so.
 */
import { isProvider } from "../functions/src/paths";
import { UsageError, isDemoProject, parseOptions, printResult, runMain, selectTarget } from "./ops/target";

runMain(async () => {
  const { values, positionals } = parseOptions(process.argv.slice(2), {
    location: { type: "string" },
    "own-apps": { type: "boolean" },
  });
  const [action, provider] = positionals;
  const { QUEUE_ACTIONS } = await import("../functions/src/sync/queueAdmin");
  const usage = `usage: npm run queues -- ${QUEUE_ACTIONS.join("|")} PROVIDER --project ID [--location REGION] [--own-apps]`;
  if (!action || !(QUEUE_ACTIONS as readonly string[]).includes(action) || !isProvider(provider))
    throw new UsageError(usage);
  if (!values.project || isDemoProject(values.project)) {
    throw new UsageError(
      "`npm run queues` administers Cloud Tasks queues in a real project (--project ID) through the Cloud Tasks API; " +
        "the Cloud Tasks emulator has no such API, so there is nothing to describe, pause or purge locally " +
        "(locally, tasks run as soon as they are enqueued; stop the emulators to stop them).",
    );
  }
  const target = selectTarget(values.project);
  const { administerQueue } = await import("../functions/src/sync/queueAdmin");
  const result = await administerQueue({
    projectId: target.projectId,
    location: values.location ?? "us-central1",
    provider,
    lane: values["own-apps"] ? "own" : "shared",
    action: action as (typeof QUEUE_ACTIONS)[number],
  });
  printResult(result);
  return 0;
});
