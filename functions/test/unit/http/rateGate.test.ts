import { GATE_MIN_BUDGET, GATE_SHARE, RateGate } from "../../../src/http/rateGate";

/** A gate with a 10 s window on a clock the test moves. */
function gate() {
  const clock = { t: 0 };
  return { clock, gate: new RateGate(10_000, () => clock.t, 100) };
}

/** Asks `n` times at the current time; the waits each got. */
const ask = (g: RateGate, n: number) => Array.from({ length: n }, () => g.waitMs());

describe("RateGate", () => {
  it("when nothing was refused, then every request goes at once, however many", () => {
    const { gate: g } = gate();
    expect(ask(g, 500).every((w) => w === 0)).toBe(true);
    expect(g.learnedBudget).toBeNull();
  });

  it("when a request is refused, then the requests that come during the Retry-After are released one after another, spaced", () => {
    const { gate: g, clock } = gate();
    ask(g, 3);
    g.refused(1_000);
    expect(ask(g, 3)).toEqual([1_000, 1_100, 1_200]);
    clock.t = 900;
    expect(g.waitMs()).toBe(400); // the turn after the three reserved
  });

  it("when a request is refused, then the budget learned is what the window accepted before it", () => {
    const { gate: g, clock } = gate();
    for (let i = 0; i < 100; i++) {
      clock.t = i * 50; // 20 a second: 100 requests in 5 s
      expect(g.waitMs()).toBe(0);
    }
    g.refused(0); // the 100th was refused: a blip, or the budget? It only holds.
    expect(g.learnedBudget).toBeNull();
    expect(g.waitMs()).toBe(0); // the 100th again: sent
    g.refused(1_000); // and refused again within the window: 99 were accepted
    expect(g.learnedBudget).toBe(99);
  });

  it("when the learned budget is reached, then a request waits until the window's oldest leave it, and the window never holds more than the share", () => {
    const { gate: g, clock } = gate();
    for (let i = 0; i < 101; i++) {
      clock.t = i * 10;
      g.waitMs();
    }
    g.refused(0);
    g.waitMs();
    g.refused(0); // twice: budget 100
    const limit = Math.floor(100 * GATE_SHARE);
    // A burst far beyond the budget, asked every 10 ms over 30 s: how many go in any window?
    const sentAt: number[] = [];
    const waiting: number[] = []; // the times each waiting request asks again
    for (clock.t = 2_000; clock.t < 32_000; clock.t += 10) {
      waiting.push(clock.t); // one new request every 10 ms
      for (let k = 0; k < waiting.length;) {
        if (waiting[k]! > clock.t) {
          k++;
          continue;
        }
        const w = g.waitMs();
        if (w === 0) {
          sentAt.push(clock.t);
          waiting.splice(k, 1);
        } else waiting[k++] = clock.t + w;
      }
    }
    let most = 0;
    for (let i = 0; i < sentAt.length; i++) {
      let j = i;
      while (j < sentAt.length && sentAt[j]! < sentAt[i]! + 10_000) j++;
      most = Math.max(most, j - i);
    }
    // Never more than the share of the budget (which the probes raise a step each window).
    expect(most).toBeGreaterThanOrEqual(limit);
    expect(most).toBeLessThanOrEqual(Math.floor(g.learnedBudget! * GATE_SHARE));
    expect(g.learnedBudget).toBeLessThan(110);
    expect(sentAt.length).toBeGreaterThan(2 * limit); // and it keeps sending near the budget
  });

  it("when the instance had sent fewer than GATE_MIN_BUDGET requests in the window before a refusal, then it learns no budget (others spent it) and only holds", () => {
    const { gate: g, clock } = gate();
    ask(g, GATE_MIN_BUDGET - 1);
    g.refused(0);
    g.waitMs();
    g.refused(1_000);
    expect(g.learnedBudget).toBeNull();
    clock.t = 1_000;
    expect(ask(g, 50).every((w) => w === 0)).toBe(true);
  });

  it("when a window passes in which the budget held requests back without a refusal, then the budget rises by a step; a refusal sets it back to what was accepted", () => {
    const { gate: g, clock } = gate();
    for (let i = 0; i < 11; i++) g.waitMs();
    g.refused(0);
    g.waitMs();
    g.refused(0);
    expect(g.learnedBudget).toBe(10);
    for (let i = 0; i < 20; i++) g.waitMs(); // held back at the limit
    clock.t = 10_000;
    g.waitMs();
    expect(g.learnedBudget).toBe(11);
    clock.t = 15_000;
    g.waitMs();
    expect(g.learnedBudget).toBe(11); // at most one step a window
    g.refused(0);
    expect(g.learnedBudget).toBeLessThanOrEqual(11);
  });

  it("when a single request is refused once (a blip), then the gate holds for its Retry-After and learns nothing", () => {
    const { gate: g, clock } = gate();
    ask(g, 50);
    g.refused(1_000);
    expect(g.learnedBudget).toBeNull();
    clock.t = 1_000;
    expect(ask(g, 100).every((w) => w === 0)).toBe(true);
  });
});
