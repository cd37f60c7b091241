/**
 * Waiting for the first sync the OAuth callback starts (reason `connect`), for tests that connect
 * through the real callback: a run still going could change what they read next, use up a fault
 * the next test arms, or make the web app replace a section under the browser.
 */
import type { DocumentData, Timestamp } from "firebase-admin/firestore";
import { db } from "../../src/admin";
import { type Provider, firestorePaths } from "../../src/paths";
import { waitFor } from "./wait";

/**
 * Resolves, once at least `n` connect runs of (uid, provider) have finished for good (no retry
 * follows) and the connection's lease is released, with every `sync_runs` row of that provider,
 * oldest first.
 */
export async function connectSyncsFinished(
  uid: string,
  provider: Provider,
  { n = 1, timeoutMs }: { n?: number; timeoutMs: number },
): Promise<DocumentData[]> {
  return waitFor(
    async () => {
      const runs = (await db().collection(firestorePaths.syncRuns(uid)).get()).docs
        .map((d) => d.data())
        .filter((r) => r.provider === provider)
        .sort((a, b) => (a.finishedAt as Timestamp).toMillis() - (b.finishedAt as Timestamp).toMillis());
      const finished = runs.filter((r) => r.reason === "connect" && r.willRetry === false).length;
      if (finished < n) return false;
      const conn = await db().doc(firestorePaths.connection(uid, provider)).get();
      return conn.get("lease") === null && runs;
    },
    { timeoutMs, what: `${n} finished first ${provider} sync(s) of ${uid}` },
  );
}
