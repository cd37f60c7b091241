/**
 * A panel charting one number of the provider's daily points (`history`, one point per day) over
 * 30 / 90 / 365 days: Instagram followers, a Spotify playlist's size. The provider's panels say
 * which number (`pick`) and name it.
 */
import { type Child, h } from "../dom";
import type { ConnectionView } from "../status";
import { type ChartState, dayChart } from "./chart";
import { DAY_RANGES, type DayRange, lastDays, pointSeries } from "./data";
import type { HistoryStore } from "./store";

export interface PointsPanelOptions {
  store: HistoryStore;
  section(title: string, body: Child, extra?: Child, role?: string): HTMLElement;
  connection(): ConnectionView | null;
  providerName: string;
  title: string;
  /** The section's `data-section`. */
  role: string;
  /** What the numbers are, in the state texts and the caption ("followers"). */
  what: string;
  /** The table's value heading ("Followers"). */
  valueLabel: string;
  /** The number of a day's point, or null; null as a whole: nothing to chart yet (`why` says so). */
  pick(): { pick: (point: Record<string, unknown>) => number | null; name: string } | { why: string };
  /** Above the chart (e.g. a playlist choice). */
  above?: Child;
}

export function pointsPanel(o: PointsPanelOptions): () => HTMLElement {
  let range: DayRange = 90;
  const chart = dayChart(o.role);
  const buttons = DAY_RANGES.map((r) =>
    h("button", { type: "button", role: "radio", "data-days": String(r) }, `${r} days`),
  );
  const mark = () =>
    buttons.forEach((b, i) => {
      b.className = DAY_RANGES[i] === range ? "on" : "";
      b.setAttribute("aria-checked", String(DAY_RANGES[i] === range));
    });
  buttons.forEach((b, i) =>
    b.addEventListener("click", () => {
      range = DAY_RANGES[i]!;
      mark();
      update();
    }),
  );
  mark();
  const section = o.section(
    o.title,
    [o.above ?? null, chart.el],
    h("div", { class: "segmented", role: "radiogroup", "aria-label": "Days shown" }, buttons),
    o.role,
  );

  const update = () => {
    const c = o.connection();
    // Nothing is read for a provider that is not connected.
    const l = c && c.status !== "disconnected" ? o.store.points() : null;
    let state: ChartState;
    if (!l) state = { kind: "empty", text: `Connect ${o.providerName} to see your ${o.what} over time here.` };
    else if (l.state === "loading") state = { kind: "loading", text: `Loading your ${o.what}…` };
    else if (l.state === "error")
      state = { kind: "error", text: `Your ${o.what} over time could not be loaded.`, detail: l.message };
    else {
      const p = o.pick();
      const span = lastDays(o.store.today(), range);
      const rows = "why" in p ? [] : pointSeries(l.value, span, p.pick);
      if ("why" in p) state = { kind: "empty", text: p.why };
      else if (rows.every((r) => r.value === null))
        state = {
          kind: "empty",
          text: `No ${o.what} recorded in the last ${range} days yet: the first sync of each day records them.`,
        };
      else
        state = {
          kind: "data",
          caption: `${p.name}, the last ${range} days (one value a day)`,
          valueLabel: o.valueLabel,
          rows,
          format: (v) => v.toLocaleString(undefined, { maximumFractionDigits: 0 }),
          style: "line",
        };
    }
    chart.show(state);
  };

  return () => {
    update();
    return section;
  };
}
