/**
 * The local stand-in for Cloud Scheduler: runs the product's fan-out (sync/fanOut.ts) in this
 * process against the emulators. The enqueued tasks run in the Functions emulator.
 */
import { db, taskQueueService } from "../../functions/src/admin";
import { getConfig } from "../../functions/src/config";
import { type FanOutSummary, runFanOut } from "../../functions/src/sync/fanOut";
import { systemClock } from "../../functions/src/sync/ports";
import { firebaseTaskQueue } from "../../functions/src/sync/taskQueue";

export interface FanOutRecord {
  at: Date;
  trigger: "start" | "interval" | "key" | "test";
  summary?: FanOutSummary;
  error?: string;
}

export async function fanOutOnce(trigger: FanOutRecord["trigger"]): Promise<FanOutRecord> {
  const at = new Date();
  try {
    const summary = await runFanOut({
      db: db(),
      queue: firebaseTaskQueue(taskQueueService()),
      clock: systemClock,
      config: getConfig(),
    });
    return { at, trigger, summary };
  } catch (e) {
    return { at, trigger, error: e instanceof Error ? e.message : String(e) };
  }
}
