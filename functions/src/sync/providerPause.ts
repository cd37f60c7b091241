/**
 * An app-wide pause of one provider, after it rate-limited the whole app (a RateLimitedError with
 * scope `app`: Spotify's long Retry-After, Instagram's error 4). Spotify counts requests per app,
 * so when it says "wait 12 hours" every connection must wait, and each early request extends the
 * ban. The pause is one document, `provider_state/{provider}` = { pausedUntil, reason, since };
 * while it holds:
 *
 * - the fan-out enqueues no task for that provider (counted as `skippedPaused`);
 * - a task that arrives anyway (already queued, Sync now) makes no provider call: the connection
 *   is rescheduled to the end of the pause, like a rate-limited run of its own;
 * - Sync now is refused with the time it is allowed again.
 *
 * A pause only ever grows (a later end wins, an earlier one is ignored), and ends by itself.
 */
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { RateLimitedError } from "../errors";
import { logs } from "../logs";
import { PROVIDERS, type Provider, firestorePaths } from "../paths";

const PauseDoc = z.object({
  pausedUntil: z.instanceof(Timestamp),
  reason: z.string(),
  since: z.instanceof(Timestamp),
});

/** The end of the provider's pause, or null when it is not paused at `now`. */
export async function providerPausedUntil(db: Firestore, provider: Provider, now: Date): Promise<Date | null> {
  const snap = await db.doc(firestorePaths.providerState(provider)).get();
  const parsed = PauseDoc.safeParse(snap.data());
  if (!parsed.success) return null;
  const until = parsed.data.pausedUntil.toDate();
  return until.getTime() > now.getTime() ? until : null;
}

/** Every provider's pause end (null: not paused), read once per fan-out. */
export async function providerPauses(db: Firestore, now: Date): Promise<Record<Provider, Date | null>> {
  const entries = await Promise.all(PROVIDERS.map(async (p) => [p, await providerPausedUntil(db, p, now)] as const));
  return Object.fromEntries(entries) as Record<Provider, Date | null>;
}

/** Pauses `provider` until `until`, unless it is already paused longer. Returns whether it changed. */
export async function pauseProvider(
  db: Firestore,
  args: { provider: Provider; until: Date; reason: string; now: Date },
): Promise<boolean> {
  const ref = db.doc(firestorePaths.providerState(args.provider));
  const changed = await db.runTransaction(async (tx) => {
    const current = PauseDoc.safeParse((await tx.get(ref)).data());
    if (current.success && current.data.pausedUntil.toMillis() >= args.until.getTime()) return false;
    tx.set(ref, {
      pausedUntil: Timestamp.fromDate(args.until),
      reason: args.reason.slice(0, 500),
      since: Timestamp.fromDate(args.now),
    });
    return true;
  });
  if (changed) logs.warn("sync.provider_paused", { provider: args.provider, until: args.until.toISOString() });
  return changed;
}

/** What a task does instead of calling a paused provider: fail as rate limited until the pause ends. */
export function pausedError(provider: Provider, until: Date): RateLimitedError {
  return new RateLimitedError(
    `${provider} rate-limited this app; every ${provider} sync waits until ${until.toISOString()}.`,
    until,
    { scope: "app" },
  );
}
