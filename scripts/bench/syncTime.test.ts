import { DEFAULT_RATE_BOUNDS, MIN_WINDOWS, PRODUCT_CONTROLLER, sizeBudget } from "./syncTime";

describe("the race's budget and the adaptive rate", () => {
  it("when the machine could make more requests than the race has, then the budget spreads them over MIN_WINDOWS windows", () => {
    const b = sizeBudget({ ceilingApiPerSecond: 1000, racedRequests: 1800, windowSeconds: 30 });
    expect(b).toEqual({ windowSeconds: 30, budget: Math.floor(1800 / MIN_WINDOWS) });
  });

  it("when the machine is slow, then the budget is half of what it can make", () => {
    expect(sizeBudget({ ceilingApiPerSecond: 20, racedRequests: 1e6, windowSeconds: 10 }).budget).toBe(100);
  });

  it("when the bench's adaptive run sets a rate, then it is the product's controller: the step up without a 429, half after one, within the bounds", () => {
    const b = DEFAULT_RATE_BOUNDS;
    const aimd = PRODUCT_CONTROLLER.next;
    expect(aimd(1, { appRateLimited: false }, b)).toBe(1 + b.increase);
    expect(aimd(1, { appRateLimited: true }, b)).toBe(0.5);
    expect(aimd(b.min, { appRateLimited: true }, b)).toBe(b.min);
    expect(aimd(b.max, { appRateLimited: false }, b)).toBe(b.max);
  });
});
