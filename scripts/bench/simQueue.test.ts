import { SimQueue } from "./simQueue";

const payload = (uid: string) => ({ uid, provider: "spotify" as const, reason: "scheduled" as const, requestedAt: 0 });
const settings = {
  maxDispatchesPerSecond: 50,
  maxConcurrentDispatches: 3,
  maxAttempts: 3,
  minBackoffSeconds: 0.01,
  maxBackoffSeconds: 0.02,
  maxDoublings: 4,
};

describe("the in-process Cloud Tasks stand-in", () => {
  it("when more tasks than the concurrency limit are queued, then never more than the limit run at once", async () => {
    let running = 0;
    let peak = 0;
    const q = new SimQueue("q", settings, async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      return { retry: false };
    });
    for (let i = 0; i < 10; i++) q.enqueue(payload(`u${i}`), `id${i}`);
    await q.idle();
    expect(peak).toBe(3);
    expect(q.stats.dispatched).toBe(10);
  });

  it("when tasks are dispatched, then the start rate stays within the token bucket (rate + one bucket of burst)", async () => {
    const starts: number[] = [];
    const q = new SimQueue("q", { ...settings, maxDispatchesPerSecond: 20, maxConcurrentDispatches: 100 }, async () => {
      starts.push(Date.now());
      return { retry: false };
    });
    const t0 = Date.now();
    for (let i = 0; i < 30; i++) q.enqueue(payload(`u${i}`), `id${i}`);
    await q.idle();
    // 20 tokens at once, then 20/s: the 30th start cannot come before ~0.5 s.
    expect(starts[29]! - t0).toBeGreaterThanOrEqual(400);
  });

  it("when an id is enqueued twice, then the second is a duplicate and runs nothing", async () => {
    const seen: string[] = [];
    const q = new SimQueue("q", settings, async (p) => {
      seen.push(p.uid);
      return { retry: false };
    });
    expect(q.enqueue(payload("a"), "same")).toBe("enqueued");
    expect(q.enqueue(payload("b"), "same")).toBe("duplicate");
    await q.idle();
    expect(seen).toEqual(["a"]);
  });

  it("when a task asks for a retry, then it runs again up to maxAttempts and is then given up", async () => {
    const attempts: number[] = [];
    const q = new SimQueue("q", settings, async (_p, a) => {
      attempts.push(a.retryCount);
      return { retry: true };
    });
    q.enqueue(payload("a"), "x");
    await q.idle();
    expect(attempts).toEqual([0, 1, 2]);
    expect(q.stats.gaveUp).toBe(1);
  });

  it("when the rate is set lower, then the queued tasks stay and go at the new rate", async () => {
    const q = new SimQueue(
      "q",
      { ...settings, maxConcurrentDispatches: 10, maxDispatchesPerSecond: 100 },
      async () => ({
        retry: false,
      }),
    );
    q.setRate(2);
    const t0 = Date.now();
    for (let i = 0; i < 4; i++) q.enqueue(payload(`u${i}`), `id${i}`);
    await q.idle();
    expect(q.stats.dispatched).toBe(4);
    // A bucket of 2 tokens at 2 a second: the last two wait about a second for theirs.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });
});
