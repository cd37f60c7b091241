/** The web app's "Delete history…" words and counts, from month aggregates. */
import { confirmWords, playsCovered, readChoice } from "../../../web/src/history/erase";
import type { MonthView } from "../../src/history/read";

const ts = (iso: string) => ({ toMillis: () => Date.parse(iso) });
const stats = (days: Record<string, number>) => ({
  name: "Ada",
  plays: Object.values(days).reduce((a, b) => a + b, 0),
  ms: 0,
  first: ts("2026-03-01T00:00:00Z"),
  last: ts("2026-03-31T00:00:00Z"),
  days,
});
const month = (m: string, days: Record<string, number>, ada: Record<string, number>): MonthView => ({
  provider: "spotify",
  month: m,
  plays: Object.values(days).reduce((a, b) => a + b, 0),
  ms: 0,
  days: Object.fromEntries(Object.entries(days).map(([k, v]) => [k, { plays: v, ms: 0 }])),
  grid: {},
  artists: { ada: stats(ada) },
  tracks: {},
});

const months = [
  month("2026-02", { "28": 4 }, { "28": 1 }),
  month("2026-03", { "01": 1000, "02": 234, "15": 7 }, { "01": 600, "15": 2 }),
];

describe("playsCovered", () => {
  it("when days, an artist or both are chosen, then it counts the plays the aggregates hold for them, both days included", () => {
    expect(playsCovered(months, { from: "2026-02-28", to: "2026-03-02" })).toBe(1238);
    expect(playsCovered(months, { artistId: "ada" })).toBe(603);
    expect(playsCovered(months, { artistId: "ada", from: "2026-03-01" })).toBe(602);
    expect(playsCovered(months, { to: "2026-02-28" })).toBe(4);
    expect(playsCovered(months, { artistId: "nobody" })).toBe(0);
    expect(playsCovered(months, { artistId: "toString" })).toBe(0);
  });
});

describe("confirmWords", () => {
  it("when the choice is worded, then it says how many plays, whose, which days, and that it cannot be undone", () => {
    expect(confirmWords(1234, { artistId: "ada", from: "2026-03-01", to: "2026-03-31" }, "Ada")).toBe(
      "Delete 1,234 plays of Ada between Mar 1, 2026 and Mar 31, 2026? This cannot be undone.",
    );
    expect(confirmWords(1, { from: "2026-03-01", to: "2026-03-01" }, null)).toBe(
      "Delete 1 play on Mar 1, 2026? This cannot be undone.",
    );
    expect(confirmWords(5, { from: "2026-03-01" }, null)).toBe(
      "Delete 5 plays from Mar 1, 2026 on? This cannot be undone.",
    );
    expect(confirmWords(5, { to: "2026-03-01" }, null)).toBe(
      "Delete 5 plays up to Mar 1, 2026? This cannot be undone.",
    );
    expect(confirmWords(0, { artistId: "ada" }, "Ada")).toBe("Delete 0 plays of Ada? This cannot be undone.");
  });
});

describe("readChoice", () => {
  it("when the form is empty or its days are reversed, then a sentence says so; otherwise only the fields given", () => {
    expect(readChoice("", "", "")).toBe("Pick the days, an artist, or both.");
    expect(readChoice("2026-03-02", "2026-03-01", "")).toBe("The first day is after the last day.");
    expect(readChoice("2026-03-01", "", "ada")).toEqual({ from: "2026-03-01", artistId: "ada" });
    expect(readChoice("", "2026-03-01", "")).toEqual({ to: "2026-03-01" });
  });
});
