/**
 * The adaptive queue rate (QUEUE_RATE_ADAPTIVE): each fan-out tick sets every provider queue's
 * dispatch rate from what the last slot showed, so the app finds a provider's unpublished rate
 * budget by itself — additive increase, multiplicative decrease (AIMD):
 *
 * - an app-scoped 429 since the last adjustment (it paused the provider: providerPause.ts, whose
 *   `since` is later than the rate's `adjustedAt`) → rate × QUEUE_RATE_DECREASE_PERCENT / 100;
 * - the provider paused now, or nothing due (nothing was dispatched, so nothing was learned) → unchanged;
 * - otherwise → rate + QUEUE_RATE_INCREASE;
 *
 * always within [QUEUE_RATE_MIN, QUEUE_RATE_MAX]. The first adjustment starts from the configured
 * `<PREFIX>_QUEUE_MAX_DISPATCHES_PER_SECOND`. The rate is recorded in `provider_state/{provider}`
 * as `queueRate = { perSecond, adjustedAt, reason }` (at most one adjustment per slot, in a
 * transaction, so overlapping fan-outs do not step twice) and applied through a QueueRatePort:
 * Cloud Tasks' updateQueue in production (queueAdmin.ts), nothing locally (the Tasks emulator has no
 * updateQueue). Only the operator's app's queues: a person's own app has its own budget and queue.
 *
 * `nextQueueRate` and `queueRateBounds` are pure, for simulations (the benchmark) as much as for the fan-out.
 */
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { type Config, SETTINGS } from "../config";
import { logs } from "../logs";
import { PROVIDERS, type Provider, firestorePaths } from "../paths";
import { configuredDispatchRate } from "./backlog";
import { errorSummary } from "./policy";

export interface QueueRateBounds {
  /** Dispatches per second, lowest and highest. */
  min: number;
  max: number;
  /** Dispatches per second added per slot without an app-scoped 429. */
  increase: number;
  /** Factor (0..1) the rate is multiplied by after one. */
  decreaseFactor: number;
}

export type QueueRateConfig = Partial<
  Pick<
    Config,
    "QUEUE_RATE_ADAPTIVE" | "QUEUE_RATE_MIN" | "QUEUE_RATE_MAX" | "QUEUE_RATE_INCREASE" | "QUEUE_RATE_DECREASE_PERCENT"
  >
>;

const settingDefault = (name: keyof typeof SETTINGS) => Number(SETTINGS[name].default);

/** The bounds from the config (each missing one at its setting's default). */
export function queueRateBounds(config: QueueRateConfig): QueueRateBounds {
  const min = config.QUEUE_RATE_MIN ?? settingDefault("QUEUE_RATE_MIN");
  return {
    min,
    max: Math.max(min, config.QUEUE_RATE_MAX ?? settingDefault("QUEUE_RATE_MAX")),
    increase: config.QUEUE_RATE_INCREASE ?? settingDefault("QUEUE_RATE_INCREASE"),
    decreaseFactor: (config.QUEUE_RATE_DECREASE_PERCENT ?? settingDefault("QUEUE_RATE_DECREASE_PERCENT")) / 100,
  };
}

/** What the last slot showed of one provider queue. */
export interface SlotOutcome {
  /** An app-scoped 429 (a provider pause began) since the last adjustment. */
  appRateLimited: boolean;
  /** The provider is paused now: nothing is dispatched, so the rate is kept. */
  paused?: boolean;
  /** Nothing was due: nothing was dispatched, so the rate is kept. */
  idle?: boolean;
}

export const QUEUE_RATE_REASONS = ["rate_limited", "increase", "at_max", "paused", "idle"] as const;
export type QueueRateReason = (typeof QUEUE_RATE_REASONS)[number];

const round = (x: number) => Math.round(x * 1000) / 1000;
const clamp = (x: number, b: QueueRateBounds) => Math.min(b.max, Math.max(b.min, x));

/** The next rate and why (AIMD, see the file comment). Pure. */
export function queueRateDecision(
  current: number,
  outcome: SlotOutcome,
  bounds: QueueRateBounds,
): { perSecond: number; reason: QueueRateReason } {
  const now = clamp(current, bounds);
  if (outcome.appRateLimited)
    return { perSecond: round(clamp(now * bounds.decreaseFactor, bounds)), reason: "rate_limited" };
  if (outcome.paused) return { perSecond: round(now), reason: "paused" };
  if (outcome.idle) return { perSecond: round(now), reason: "idle" };
  if (now >= bounds.max) return { perSecond: round(bounds.max), reason: "at_max" };
  return { perSecond: round(clamp(now + bounds.increase, bounds)), reason: "increase" };
}

/** The next dispatch rate (per second) of a queue from its current one and the last slot's outcome. Pure. */
export function nextQueueRate(current: number, lastSlotOutcome: SlotOutcome, bounds: QueueRateBounds): number {
  return queueRateDecision(current, lastSlotOutcome, bounds).perSecond;
}

/** Sets a provider queue's dispatch rate (the operator's app's queue). */
export interface QueueRatePort {
  setRate(provider: Provider, perSecond: number): Promise<void>;
}

/** Where the queue cannot be changed (the Tasks emulator): the rate is only recorded in provider_state. */
export const recordOnlyQueueRate: QueueRatePort = { setRate: async () => undefined };

export const QueueRateRecord = z.object({
  perSecond: z.number().positive(),
  adjustedAt: z.instanceof(Timestamp),
  reason: z.enum(QUEUE_RATE_REASONS),
});
export type QueueRateRecord = z.infer<typeof QueueRateRecord>;

const StateDoc = z.object({
  queueRate: QueueRateRecord.optional().catch(undefined),
  since: z.instanceof(Timestamp).optional().catch(undefined),
});

/** The recorded adaptive rate of each provider (null: none yet), for the fan-out and `npm run status`. */
export async function readQueueRates(db: Firestore): Promise<Record<Provider, QueueRateRecord | null>> {
  const snaps = await Promise.all(PROVIDERS.map((p) => db.doc(firestorePaths.providerState(p)).get()));
  return Object.fromEntries(
    PROVIDERS.map((p, i) => {
      const parsed = StateDoc.safeParse(snaps[i]!.data() ?? {});
      return [p, parsed.success ? (parsed.data.queueRate ?? null) : null];
    }),
  ) as Record<Provider, QueueRateRecord | null>;
}

export interface AdjustArgs {
  now: Date;
  /** Start (ms) of this fan-out's slot, and the slot's length: at most one adjustment per slot. */
  slot: number;
  slotMs: number;
  /** Providers paused app-wide now (the fan-out's providerPauses). */
  paused: Record<Provider, Date | null>;
  /** Due connections of each provider's shared queue found by this fan-out. */
  due: Record<Provider, number>;
}

/**
 * The fan-out's step: per provider, reads provider_state, decides, records `queueRate` (merged:
 * the pause fields stay) and applies the rate through the port. Returns the rate in effect per
 * provider. A failure of one provider is logged and leaves its queue as it was.
 */
export async function adjustQueueRates(
  deps: { db: Firestore; rates: QueueRatePort; config: QueueRateConfig & object },
  args: AdjustArgs,
): Promise<Record<Provider, QueueRateRecord | null>> {
  const bounds = queueRateBounds(deps.config);
  const entries = await Promise.all(
    PROVIDERS.map(async (provider) => {
      try {
        const record = await deps.db.runTransaction(async (tx) => {
          const ref = deps.db.doc(firestorePaths.providerState(provider));
          const parsed = StateDoc.safeParse((await tx.get(ref)).data() ?? {});
          const state = parsed.success ? parsed.data : {};
          const last = state.queueRate;
          if (last && last.adjustedAt.toMillis() >= args.slot) return { record: last, changed: false };
          const previous = last?.adjustedAt.toMillis() ?? args.slot - args.slotMs;
          const outcome: SlotOutcome = {
            appRateLimited: state.since !== undefined && state.since.toMillis() > previous,
            paused: args.paused[provider] !== null,
            idle: args.due[provider] === 0,
          };
          const current = last?.perSecond ?? configuredDispatchRate(deps.config, provider);
          const decision = queueRateDecision(current, outcome, bounds);
          const next: QueueRateRecord = { ...decision, adjustedAt: Timestamp.fromDate(args.now) };
          tx.set(ref, { queueRate: next }, { merge: true });
          return { record: next, changed: next.perSecond !== last?.perSecond };
        });
        // Applied every slot, also unchanged: a deploy resets the queue to the configured rate.
        await deps.rates.setRate(provider, record.record.perSecond);
        if (record.changed)
          logs.info("sync.queue_rate.adjusted", {
            provider,
            perSecond: record.record.perSecond,
            reason: record.record.reason,
          });
        return [provider, record.record] as const;
      } catch (e) {
        logs.warn("sync.queue_rate.failed", { provider, error: errorSummary(e) });
        return [provider, null] as const;
      }
    }),
  );
  return Object.fromEntries(entries) as Record<Provider, QueueRateRecord | null>;
}
