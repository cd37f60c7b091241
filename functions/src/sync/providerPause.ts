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
 * A person's own OAuth app (apps/store.ts) has its own budget at the provider, so its pause is its
 * own: `provider_state/{provider}/apps/{clientId}`, same shape, read by the tasks and Sync now of
 * the connections made through that app and by the fan-out (one query per provider). A rate limit
 * on one person's app pauses only the connections on that app; the operator's app keeps its own.
 *
 * A pause only ever grows (a later end wins, an earlier one is ignored), and ends by itself — at
 * most MAX_PAUSE_HOURS after it began (a stored end further out, e.g. from a Retry-After of years
 * or a document written before the cap existed, counts as ending at the cap), so the next task
 * then probes the provider again. Operators see pauses in `npm run status` and lift one with
 * `npm run status -- --lift-pause <provider>`.
 */
import { FieldValue, type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import type { Config } from "../config";
import { RateLimitedError } from "../errors";
import { logs } from "../logs";
import { PROVIDERS, type Provider, firestorePaths } from "../paths";
import { providerName, providersWithOwnApps } from "../providers/catalog";
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

/** Whose budget a pause is: the operator's app of a provider, or one person's own app (by client id). */
export interface PauseTarget {
  provider: Provider;
  /** A person's own app; absent: the operator's app. */
  clientId?: string;
}

function pausePath(target: Provider | PauseTarget): string {
  const t = typeof target === "string" ? { provider: target } : target;
  return t.clientId === undefined
    ? firestorePaths.providerState(t.provider)
    : firestorePaths.appState(t.provider, t.clientId);
}

function pauseInfo(data: unknown, now: Date, limits: PauseLimits): PauseInfo | null {
  const parsed = PauseDoc.safeParse(data);
  if (!parsed.success) return null;
  const end = effectiveEnd(parsed.data, limits);
  return {
    pausedUntil: end,
    reason: parsed.data.reason,
    since: parsed.data.since.toDate(),
    active: end.getTime() > now.getTime(),
  };
}

/** The stored pause (also one that has ended), with its capped end; null when there is none. */
async function readPause(
  db: Firestore,
  target: Provider | PauseTarget,
  now: Date,
  limits: PauseLimits,
): Promise<PauseInfo | null> {
  return pauseInfo((await db.doc(pausePath(target)).get()).data(), now, limits);
}

/** The end of the pause of the provider's app (or of one person's own app), or null when it is not paused at `now`. */
export async function providerPausedUntil(
  db: Firestore,
  target: Provider | PauseTarget,
  now: Date,
  limits: PauseLimits,
): Promise<Date | null> {
  const pause = await readPause(db, target, now, limits);
  return pause?.active ? pause.pausedUntil : null;
}

/**
 * The pauses of people's own apps that hold at `now`, by provider and client id: one query per
 * provider with own apps (catalog `ownApps`), read once per fan-out (stored ends past `now`, then the cap applied).
 */
export async function ownAppPauses(db: Firestore, now: Date, limits: PauseLimits): Promise<Map<string, Date>> {
  const out = new Map<string, Date>();
  await Promise.all(
    providersWithOwnApps().map(async (p) => {
      const snap = await db
        .collection(firestorePaths.appStates(p))
        .where("pausedUntil", ">", Timestamp.fromDate(now))
        .get();
      for (const doc of snap.docs) {
        const info = pauseInfo(doc.data(), now, limits);
        if (info?.active) out.set(ownAppKey(p, doc.id), info.pausedUntil);
      }
    }),
  );
  return out;
}

/** The key of ownAppPauses' map. */
export function ownAppKey(provider: Provider, clientId: string): string {
  return `${provider}\n${clientId}`;
}

/** Every own app's stored pause of a provider (also ended ones), for operators: `npm run status`. */
export async function describeOwnAppPauses(
  db: Firestore,
  provider: Provider,
  now: Date,
  limits: PauseLimits,
): Promise<Array<PauseInfo & { clientId: string }>> {
  const snap = await db.collection(firestorePaths.appStates(provider)).get();
  return snap.docs.flatMap((doc) => {
    const info = pauseInfo(doc.data(), now, limits);
    return info ? [{ clientId: doc.id, ...info }] : [];
  });
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
  args: { provider: Provider; clientId?: string; until: Date; reason: string; now: Date; limits: PauseLimits },
): Promise<boolean> {
  const ref = db.doc(pausePath(args));
  const until = boundedRetryAt(args.until, args.now, args.limits);
  const changed = await db.runTransaction(async (tx) => {
    const current = PauseDoc.safeParse((await tx.get(ref)).data());
    if (current.success && effectiveEnd(current.data, args.limits).getTime() >= until.getTime()) return false;
    // Merged: the document also holds the adaptive queue rate (queueRate.ts), which a pause must keep.
    tx.set(
      ref,
      {
        pausedUntil: Timestamp.fromDate(until),
        reason: args.reason.slice(0, 500),
        since: Timestamp.fromDate(args.now),
      },
      { merge: true },
    );
    return true;
  });
  if (changed)
    logs.warn("sync.provider_paused", {
      provider: args.provider,
      ownApp: args.clientId !== undefined,
      until: until.toISOString(),
    });
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

/**
 * What one instance read of the pauses, reused for PROVIDER_PAUSE_CACHE_SECONDS: an instance serves
 * many syncs a second, and each would otherwise read the same pause document. A pause set by
 * another instance (or lifted by an operator) is seen at most that long after; the syncs meanwhile
 * call the provider, and the first app-wide 429 pauses again and forgets the cached read here
 * (`forget`), so an instance sends at most its syncs in flight into a pause it has not seen.
 */
export class PauseCache {
  /** The pause document's data as read (undefined: none), by its path. */
  private readonly entries = new Map<string, { readAt: number; data: unknown }>();

  constructor(
    private readonly db: Firestore,
    private readonly ttlSeconds: number,
  ) {}

  async pausedUntil(target: Provider | PauseTarget, now: Date, limits: PauseLimits): Promise<Date | null> {
    const key = pausePath(target);
    let entry = this.entries.get(key);
    const t = now.getTime();
    if (!entry || t - entry.readAt >= this.ttlSeconds * 1000 || t < entry.readAt) {
      entry = { readAt: t, data: (await this.db.doc(key).get()).data() };
      this.entries.set(key, entry);
      if (this.entries.size > 1000) this.entries.delete(this.entries.keys().next().value!);
    }
    // The same reading of the document as providerPausedUntil's, at this sync's `now`.
    const pause = pauseInfo(entry.data, now, limits);
    return pause?.active ? pause.pausedUntil : null;
  }

  forget(target: Provider | PauseTarget): void {
    this.entries.delete(pausePath(target));
  }
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
export async function liftProviderPause(db: Firestore, provider: Provider, clientId?: string): Promise<boolean> {
  const ref = db.doc(pausePath({ provider, ...(clientId !== undefined ? { clientId } : {}) }));
  const existed = await db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (!snap.exists) return false;
    // The adaptive queue rate (queueRate.ts) outlives the pause: only the pause's fields go then.
    if (snap.get("queueRate") === undefined) tx.delete(ref);
    else if (snap.get("pausedUntil") === undefined) return false;
    else tx.update(ref, { pausedUntil: FieldValue.delete(), reason: FieldValue.delete(), since: FieldValue.delete() });
    return true;
  });
  if (existed) logs.warn("sync.provider_pause_lifted", { provider, ownApp: clientId !== undefined });
  return existed;
}

/** What a task does instead of calling a paused provider: fail as rate limited until the pause ends. */
export function pausedError(provider: Provider, until: Date, ownApp = false): RateLimitedError {
  const name = providerName(provider);
  return new RateLimitedError(
    ownApp
      ? `${name} rate-limited your own ${name} app; its syncs wait until ${until.toISOString()}.`
      : `${name} rate-limited this app; every ${name} sync waits until ${until.toISOString()}.`,
    until,
    { scope: "app" },
  );
}
