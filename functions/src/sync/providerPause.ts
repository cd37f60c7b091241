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
 * A pause only ever grows (a later end wins, an earlier one is ignored), and ends by itself — at
 * most MAX_PAUSE_HOURS after it began (a stored end further out, e.g. from a Retry-After of years
 * or a document written before the cap existed, counts as ending at the cap), so the next task
 * then probes the provider again. Operators see pauses in `npm run status` and lift one with
 * `npm run status -- --lift-pause <provider>`.
 */
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import type { Config } from "../config";
import { RateLimitedError } from "../errors";
import { logs } from "../logs";
import { PROVIDERS, type Provider, firestorePaths } from "../paths";
import { providerName } from "../providers/catalog";
import { boundedRetryAt } from "./policy";

const PauseDoc = z.object({
  pausedUntil: z.instanceof(Timestamp),
  reason: z.string(),
  since: z.instanceof(Timestamp),
});

export type PauseLimits = Pick<Config, "MAX_PAUSE_HOURS">;

/** When a stored pause really ends: its `pausedUntil`, but no later than MAX_PAUSE_HOURS after `since`. */
function effectiveEnd(doc: z.infer<typeof PauseDoc>, limits: PauseLimits): Date {
  const cap = doc.since.toMillis() + limits.MAX_PAUSE_HOURS * 3_600_000;
  return new Date(Math.min(doc.pausedUntil.toMillis(), cap));
}

/** The provider's stored pause (also one that has ended), with its capped end; null when there is none. */
async function readPause(db: Firestore, provider: Provider, now: Date, limits: PauseLimits): Promise<PauseInfo | null> {
  const parsed = PauseDoc.safeParse((await db.doc(firestorePaths.providerState(provider)).get()).data());
  if (!parsed.success) return null;
  const end = effectiveEnd(parsed.data, limits);
  return {
    pausedUntil: end,
    reason: parsed.data.reason,
    since: parsed.data.since.toDate(),
    active: end.getTime() > now.getTime(),
  };
}

/** The end of the provider's pause, or null when it is not paused at `now`. */
export async function providerPausedUntil(
  db: Firestore,
  provider: Provider,
  now: Date,
  limits: PauseLimits,
): Promise<Date | null> {
  const pause = await readPause(db, provider, now, limits);
  return pause?.active ? pause.pausedUntil : null;
}

/** Every provider's pause end (null: not paused), read once per fan-out. */
export async function providerPauses(
  db: Firestore,
  now: Date,
  limits: PauseLimits,
): Promise<Record<Provider, Date | null>> {
  const entries = await Promise.all(
    PROVIDERS.map(async (p) => [p, await providerPausedUntil(db, p, now, limits)] as const),
  );
  return Object.fromEntries(entries) as Record<Provider, Date | null>;
}

/**
 * Pauses `provider` until `until` (at most MAX_PAUSE_HOURS from `now`), unless it is already
 * paused longer. Returns whether it changed.
 */
export async function pauseProvider(
  db: Firestore,
  args: { provider: Provider; until: Date; reason: string; now: Date; limits: PauseLimits },
): Promise<boolean> {
  const ref = db.doc(firestorePaths.providerState(args.provider));
  const until = boundedRetryAt(args.until, args.now, args.limits);
  const changed = await db.runTransaction(async (tx) => {
    const current = PauseDoc.safeParse((await tx.get(ref)).data());
    if (current.success && effectiveEnd(current.data, args.limits).getTime() >= until.getTime()) return false;
    tx.set(ref, {
      pausedUntil: Timestamp.fromDate(until),
      reason: args.reason.slice(0, 500),
      since: Timestamp.fromDate(args.now),
    });
    return true;
  });
  if (changed) logs.warn("sync.provider_paused", { provider: args.provider, until: until.toISOString() });
  return changed;
}

/**
 * A provider's stored pause, as operators see it: `pausedUntil` is when it really ends (capped,
 * see effectiveEnd); `active` is false once it has ended.
 */
export interface PauseInfo {
  pausedUntil: Date;
  reason: string;
  since: Date;
  active: boolean;
}

/** The stored pause of each provider (also an expired one), for operators: `npm run status`. */
export async function describeProviderPauses(
  db: Firestore,
  now: Date,
  limits: PauseLimits,
): Promise<Record<Provider, PauseInfo | null>> {
  const entries = await Promise.all(PROVIDERS.map(async (p) => [p, await readPause(db, p, now, limits)] as const));
  return Object.fromEntries(entries) as Record<Provider, PauseInfo | null>;
}

/**
 * Lifts a provider's pause now (an operator decision: `npm run status -- --lift-pause P`).
 * Returns whether there was a pause document to remove. The next task probes the provider again.
 */
export async function liftProviderPause(db: Firestore, provider: Provider): Promise<boolean> {
  const ref = db.doc(firestorePaths.providerState(provider));
  const existed = await db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (!snap.exists) return false;
    tx.delete(ref);
    return true;
  });
  if (existed) logs.warn("sync.provider_pause_lifted", { provider });
  return existed;
}

/** What a task does instead of calling a paused provider: fail as rate limited until the pause ends. */
export function pausedError(provider: Provider, until: Date): RateLimitedError {
  return new RateLimitedError(
    `${providerName(provider)} rate-limited this app; every ${providerName(provider)} sync waits until ${until.toISOString()}.`,
    until,
    { scope: "app" },
  );
}
