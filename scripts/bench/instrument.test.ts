import { diffCounts, newStorageCounts } from "./instrument";

describe("diffCounts", () => {
  it("when counters moved between two readings, then each field is after minus before", () => {
    const before = { ...newStorageCounts(), saves: 2, bytesWritten: 100 };
    const after = { ...newStorageCounts(), saves: 5, bytesWritten: 160, lists: 1 };
    expect(diffCounts(before, after)).toEqual({ classA: 0, saves: 3, bytesWritten: 60, deletes: 0, lists: 1 });
    expect(
      diffCounts({ api: 9, token: 1, cdn: 0, rateLimited: 0 }, { api: 18, token: 1, cdn: 4, rateLimited: 2 }),
    ).toEqual({ api: 9, token: 0, cdn: 4, rateLimited: 2 });
  });
});
