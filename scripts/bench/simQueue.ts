/**
 * An in-process stand-in for a Cloud Tasks queue, for the "time until everyone is synced" bench:
 * it dispatches tasks the way Cloud Tasks does for the onTaskDispatched queues of
 * functions/src/triggers/sync.ts, with the same settings —
 *
 * - rate: a token bucket refilled at maxDispatchesPerSecond, holding at most
 *   max(1, maxDispatchesPerSecond) tokens (Cloud Tasks derives its burst size from the rate);
 * - concurrency: at most maxConcurrentDispatches tasks running at once;
 * - retries: a task whose handler asks for a retry runs again after
 *   min(maxBackoff, minBackoff × 2^(attempt−1)) seconds (doublings capped at maxDoublings),
 *   up to maxAttempts attempts;
 * - ids: a second task with an id already used is refused as a duplicate.
 *
 * It is not Cloud Tasks (no network hop, no cold starts); it reproduces its dispatch schedule.
 */
import type { Provider } from "../../functions/src/paths";
import type { EnqueueResult, SyncTaskPayload, TaskQueue } from "../../functions/src/sync/ports";

export interface QueueSettings {
  maxDispatchesPerSecond: number;
  maxConcurrentDispatches: number;
  maxAttempts: number;
  minBackoffSeconds: number;
  maxBackoffSeconds: number;
  maxDoublings: number;
}

export type TaskHandler = (
  payload: SyncTaskPayload,
  attempt: { retryCount: number; id: string },
) => Promise<{ retry: boolean }>;

interface Pending {
  id: string;
  payload: SyncTaskPayload;
  retryCount: number;
  notBefore: number;
}

export interface QueueStats {
  enqueued: number;
  duplicates: number;
  dispatched: number;
  retried: number;
  gaveUp: number;
  peakConcurrent: number;
}

export class SimQueue {
  private readonly ids = new Set<string>();
  private readonly pending: Pending[] = [];
  private running = 0;
  private tokens: number;
  private lastRefill = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  readonly stats: QueueStats = { enqueued: 0, duplicates: 0, dispatched: 0, retried: 0, gaveUp: 0, peakConcurrent: 0 };

  private readonly settings: QueueSettings;

  constructor(
    readonly name: string,
    settings: QueueSettings,
    private readonly handler: TaskHandler,
  ) {
    this.settings = { ...settings };
    this.tokens = this.bucketSize;
  }

  private get bucketSize(): number {
    return Math.max(1, this.settings.maxDispatchesPerSecond);
  }

  /** The dispatch rate from now on, as Cloud Tasks' updateQueue sets it (the queued tasks stay). */
  setRate(perSecond: number): void {
    this.settings.maxDispatchesPerSecond = perSecond;
    this.tokens = Math.min(this.tokens, this.bucketSize);
  }

  enqueue(payload: SyncTaskPayload, id: string): EnqueueResult {
    if (this.ids.has(id)) {
      this.stats.duplicates++;
      return "duplicate";
    }
    this.ids.add(id);
    this.stats.enqueued++;
    this.pending.push({ id, payload, retryCount: 0, notBefore: 0 });
    this.start();
    return "enqueued";
  }

  private start(): void {
    this.timer ??= setInterval(() => this.pump(), 5);
  }

  private pump(): void {
    const now = Date.now();
    this.tokens = Math.min(
      this.bucketSize,
      this.tokens + ((now - this.lastRefill) / 1000) * this.settings.maxDispatchesPerSecond,
    );
    this.lastRefill = now;
    while (this.tokens >= 1 && this.running < this.settings.maxConcurrentDispatches) {
      const i = this.pending.findIndex((p) => p.notBefore <= now);
      if (i < 0) break;
      const task = this.pending.splice(i, 1)[0]!;
      this.tokens -= 1;
      this.dispatch(task);
    }
    if (this.pending.length === 0 && this.running === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private dispatch(task: Pending): void {
    this.running++;
    this.stats.dispatched++;
    this.stats.peakConcurrent = Math.max(this.stats.peakConcurrent, this.running);
    const done = (retry: boolean) => {
      this.running--;
      if (!retry) return;
      const attempts = task.retryCount + 1;
      if (attempts >= this.settings.maxAttempts) {
        this.stats.gaveUp++;
        return;
      }
      const s = this.settings;
      const backoff = Math.min(
        s.maxBackoffSeconds,
        s.minBackoffSeconds * 2 ** Math.min(task.retryCount, s.maxDoublings),
      );
      this.stats.retried++;
      this.pending.push({ ...task, retryCount: attempts, notBefore: Date.now() + backoff * 1000 });
    };
    this.handler(task.payload, { retryCount: task.retryCount, id: task.id }).then(
      (r) => done(r.retry),
      () => done(true), // a handler that throws is retried, as Cloud Tasks does on a 5xx
    );
  }

  /** Drops every task not yet dispatched (the end of a slot); resolves when the running ones end. */
  async stop(): Promise<number> {
    const dropped = this.pending.splice(0).length;
    await this.idle();
    return dropped;
  }

  /** Resolves when nothing is waiting or running (including retries not yet due). */
  idle(): Promise<void> {
    if (this.pending.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }
}

/** The sync engine's TaskQueue port over one SimQueue per provider. */
export function simTaskQueue(queues: Record<Provider, SimQueue>): TaskQueue {
  return {
    enqueue: async (provider, payload, opts) => queues[provider].enqueue(payload, opts.id),
  };
}
