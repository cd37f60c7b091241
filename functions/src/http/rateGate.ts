/**
 * One instance's memory of an app-wide rate limit (a provider that counts the whole app's requests
 * in a rolling window and answers 429 with a short Retry-After once it is spent: Spotify).
 *
 * The queue's dispatch rate keeps the app near its budget on average, but syncs do not send their
 * requests evenly: a pause on the instance (a slow database call, a busy CPU) holds several syncs
 * and releases them together, and the burst meets a full window. Without the gate every request of
 * the burst is refused, each refusal counts against the app, and the retries of the refused ones
 * add to the next burst. The gate:
 *
 * - **holds** after a 429: a request of the app that comes while the Retry-After runs waits for it,
 *   and those waiting are let through one after another, GATE_SPACING_MS apart (a window frees one
 *   slot at a time); a request that comes after it is sent at once;
 * - **learns the budget** from a second refusal within one window (one alone only holds): the
 *   requests this instance sent in the window before it are what the provider accepted (all of
 *   them, with one instance; at least GATE_MIN_BUDGET, or the instance only holds). From then on
 *   a request that would make more than GATE_SHARE of that in the window waits until the oldest
 *   one leaves it, so the next burst is spread instead of refused;
 * - **probes**: each window in which the learned budget held requests back without a refusal, it
 *   rises by GATE_PROBE_SHARE (at least one request), so a budget that grew (or a share another
 *   instance gave up) is found; a refusal sets it to what was accepted again.
 *
 * Per process (the task handler serves many syncs per instance, sync/taskQueue.ts): other
 * instances learn from their own first 429. Only app-scoped limits and only API requests (downloads
 * go to CDNs) pass a gate. The window length is the provider's (its descriptor's `rateLimit`).
 */

/** Between two requests released by a held gate. */
export const GATE_SPACING_MS = 100;
/** The share of the learned budget the gate lets into a window. */
export const GATE_SHARE = 0.97;
/**
 * Fewer accepted requests than this in the window before a refusal teach nothing: the instance's
 * own requests did not spend the budget (others did, e.g. it just started), so it only holds.
 */
export const GATE_MIN_BUDGET = 10;
/** Each probing step raises the learned budget by this share of it (at least one request). */
export const GATE_PROBE_SHARE = 0.02;

export class RateGate {
  private until = 0;
  private next = 0;
  /** When each request this instance let through in the current window was sent (oldest first). */
  private readonly sent: number[] = [];
  /** Requests per window the provider accepted from this instance before its last refusal (null: none yet). */
  private budget: number | null = null;
  private lastRefusal = -Infinity;
  private lastRaise = 0;
  private heldBack = false;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly spacingMs: number = GATE_SPACING_MS,
  ) {}

  /** The requests per window the gate learned (null: no refusal seen yet). For tests and logs. */
  get learnedBudget(): number | null {
    return this.budget;
  }

  /**
   * How long a request must wait before asking again (0: send it now; it is counted as sent). A
   * caller that waited asks again: another request may have taken the slot meanwhile.
   */
  waitMs(): number {
    const now = this.now();
    if (now < this.until) {
      // Held: the requests that came meanwhile are spaced after the Retry-After (a request after
      // it never waits behind them, or the spacing would become the rate).
      const turn = Math.max(this.until, this.next);
      this.next = turn + this.spacingMs;
      return turn - now;
    }
    this.forgetOlderThanWindow(now);
    if (this.budget !== null) {
      if (this.heldBack && now - this.lastRefusal >= this.windowMs && now - this.lastRaise >= this.windowMs) {
        this.budget += Math.max(1, Math.round(this.budget * GATE_PROBE_SHARE));
        this.lastRaise = now;
        this.heldBack = false;
      }
      const limit = Math.max(1, Math.floor(this.budget * GATE_SHARE));
      if (this.sent.length >= limit) {
        this.heldBack = true;
        // Until enough of the window's oldest requests have left it to make room for one.
        return Math.max(1, this.sent[this.sent.length - limit]! + this.windowMs - now);
      }
    }
    this.sent.push(now);
    return 0;
  }

  /** Drops the requests that have left the window ending at `now`. */
  private forgetOlderThanWindow(now: number): void {
    while (this.sent.length > 0 && this.sent[0]! <= now - this.windowMs) this.sent.shift();
  }

  /**
   * The provider refused a request of the app (429) for the next `retryAfterMs`: hold, and learn
   * the budget from what was accepted in the window (the refused request is not counted).
   */
  refused(retryAfterMs: number): void {
    const now = this.now();
    this.until = Math.max(this.until, now + retryAfterMs);
    this.sent.pop();
    this.forgetOlderThanWindow(now);
    const accepted = this.sent.length;
    // One refusal alone only holds (a blip); a second one within the window says the budget is spent.
    const again = now - this.lastRefusal < this.windowMs;
    if (again && accepted >= GATE_MIN_BUDGET)
      this.budget = this.budget === null ? accepted : Math.min(this.budget, accepted);
    this.lastRefusal = now;
    this.heldBack = false;
  }
}

const gates = new Map<string, RateGate>();

/** The gate of one provider's app (by provider id and OAuth client id) in this process. */
export function appRateGate(provider: string, clientId: string, windowSeconds: number): RateGate {
  const key = `${provider}\n${clientId}`;
  let gate = gates.get(key);
  if (!gate) {
    gate = new RateGate(windowSeconds * 1000);
    gates.set(key, gate);
  }
  return gate;
}
