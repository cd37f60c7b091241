/**
 * Functions that exist only in the emulator (FUNCTIONS_EMULATOR=true): they are never deployed,
 * because `firebase deploy` loads the code without that variable.
 */
import { onTaskDispatched } from "firebase-functions/v2/tasks";
import { z } from "zod";
import { db } from "../admin";
import { firestorePaths } from "../paths";
import { logs } from "../logs";

const ProbePayload = z.object({ probeId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), note: z.string().max(200) });

/** Harness probe: proves a task enqueued with firebase-admin reaches an onTaskDispatched function. */
export const devProbe = onTaskDispatched({ retryConfig: { maxAttempts: 1 } }, async (req) => {
  const parsed = ProbePayload.safeParse(req.data);
  if (!parsed.success) {
    logs.warn("dev.probe.invalid_payload", { issues: parsed.error.issues.length });
    return;
  }
  await db()
    .doc(firestorePaths.opsDoc(`probe-${parsed.data.probeId}`))
    .set({ note: parsed.data.note, receivedAt: new Date(), queueName: req.queueName ?? null });
});
