import { loadConfig } from "../../../src/config";
import { cloudTasksQueueRate } from "../../../src/sync/queueAdmin";
import { nextQueueRate, queueRateBounds, queueRateDecision } from "../../../src/sync/queueRate";

const bounds = { min: 1, max: 20, increase: 1, decreaseFactor: 0.5 };
const ok = { appRateLimited: false };

describe("nextQueueRate (AIMD)", () => {
  it("adds the step per slot without an app-scoped 429, up to the maximum", () => {
    expect(nextQueueRate(5, ok, bounds)).toBe(6);
    expect(nextQueueRate(19.5, ok, bounds)).toBe(20);
    expect(queueRateDecision(20, ok, bounds)).toEqual({ perSecond: 20, reason: "at_max" });
  });

  it("multiplies by the decrease factor after an app-scoped 429, down to the minimum", () => {
    expect(queueRateDecision(12, { appRateLimited: true }, bounds)).toEqual({ perSecond: 6, reason: "rate_limited" });
    expect(nextQueueRate(1.5, { appRateLimited: true }, bounds)).toBe(1);
    // A 429 wins over a pause or an idle slot.
    expect(nextQueueRate(8, { appRateLimited: true, paused: true, idle: true }, bounds)).toBe(4);
  });

  it("keeps the rate while the provider is paused or nothing was due", () => {
    expect(queueRateDecision(7, { appRateLimited: false, paused: true }, bounds)).toEqual({
      perSecond: 7,
      reason: "paused",
    });
    expect(queueRateDecision(7, { appRateLimited: false, idle: true }, bounds)).toEqual({
      perSecond: 7,
      reason: "idle",
    });
  });

  it("brings a rate outside the bounds back inside them", () => {
    expect(nextQueueRate(100, { appRateLimited: false, idle: true }, bounds)).toBe(20);
    expect(nextQueueRate(0.1, { appRateLimited: false, idle: true }, bounds)).toBe(1);
  });

  it("converges under a budget: a simulated provider that limits above 10/s keeps the mean rate near it", () => {
    let rate = 1;
    const rates: number[] = [];
    for (let slot = 0; slot < 200; slot++) {
      rate = nextQueueRate(rate, { appRateLimited: rate > 10 }, bounds);
      rates.push(rate);
    }
    const tail = rates.slice(100);
    expect(Math.max(...tail)).toBeLessThanOrEqual(11);
    expect(Math.min(...tail)).toBeGreaterThanOrEqual(5);
    expect(rates.indexOf(11)).toBe(9); // ten slots from 1/s to above the budget
  });
});

describe("queueRateBounds", () => {
  it("reads the settings, with their defaults", () => {
    expect(queueRateBounds({})).toEqual({ min: 1, max: 50, increase: 1, decreaseFactor: 0.5 });
    expect(
      queueRateBounds({
        QUEUE_RATE_MIN: 2,
        QUEUE_RATE_MAX: 30,
        QUEUE_RATE_INCREASE: 3,
        QUEUE_RATE_DECREASE_PERCENT: 70,
      }),
    ).toEqual({ min: 2, max: 30, increase: 3, decreaseFactor: 0.7 });
  });

  it("are settings of the config: adaptive off by default", () => {
    const c = loadConfig(secrets());
    expect(c.QUEUE_RATE_ADAPTIVE).toBe(false);
    expect(c.PENDING_TASK_EXPIRY_MINUTES).toBe(180);
    expect(loadConfig({ ...secrets(), QUEUE_RATE_ADAPTIVE: "true", QUEUE_RATE_MAX: "12" })).toMatchObject({
      QUEUE_RATE_ADAPTIVE: true,
      QUEUE_RATE_MAX: 12,
    });
  });
});

function secrets(): Record<string, string> {
  return {
    TOKEN_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString("base64")}`,
    SPOTIFY_CLIENT_SECRET: "s",
    INSTAGRAM_CLIENT_SECRET: "s",
    YOUTUBE_CLIENT_SECRET: "s",
  };
}

describe("cloudTasksQueueRate", () => {
  it("updates only the dispatch rate of the provider's queue (the operator's app's)", async () => {
    const calls: unknown[] = [];
    const client = {
      updateQueue: async (req: unknown) => {
        calls.push(req);
        return [{}];
      },
    } as unknown as Parameters<typeof cloudTasksQueueRate>[0]["client"];
    await cloudTasksQueueRate({ projectId: "p1", client }).setRate("spotify", 2.5);
    expect(calls).toEqual([
      {
        queue: {
          name: "projects/p1/locations/us-central1/queues/syncSpotify",
          rateLimits: { maxDispatchesPerSecond: 2.5 },
        },
        updateMask: { paths: ["rate_limits.max_dispatches_per_second"] },
      },
    ]);
  });
});
