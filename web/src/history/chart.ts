/**
 * One chart of values per day, drawn with uPlot (canvas; the app's CSP allows it: uPlot styles
 * its elements through the CSSOM, and its stylesheet is bundled into app.css), with its states in
 * words (loading, nothing yet, could not be loaded) and a table of the same numbers for screen
 * readers, visually hidden until "Show as table" opens it.
 *
 * The element is made once and kept across the dashboard's renders; `show` redraws only when what
 * it is given changed, so a live update of another panel costs nothing here.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { type Child, empty, errorBox, h, loading } from "../dom";
import { dayToSeconds } from "./data";
import { chartDrawn } from "./metrics";

export type ChartState =
  | { kind: "loading"; text: string }
  | { kind: "empty"; text: string; hint?: Child }
  | { kind: "error"; text: string; detail?: string }
  | {
      kind: "data";
      /** The table's caption (and the chart's accessible name): what, over which days. */
      caption: string;
      /** The values' column heading, e.g. "Minutes". */
      valueLabel: string;
      rows: { day: string; value: number | null }[];
      /** A value in words for the table ("1 h 05 min"). */
      format: (v: number) => string;
      /** A value on the axis, short ("65 min"); the table's format when absent. */
      axis?: (v: number) => string;
      style: "bars" | "line";
    };

export interface DayChart {
  readonly el: HTMLElement;
  show(state: ChartState): void;
}

const HEIGHT = 220;

const cssVar = (name: string, fallback: string) =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

/** A day ("2026-12-02") for the table: "Wed, Dec 2, 2026" in the reader's language (the day is the person's already). */
const dayWords = (day: string) =>
  new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, {
    weekday: "short",
    year: "numeric",
    month: "short",
    day: "numeric",
    timeZone: "UTC",
  });

export function dayChart(role: string): DayChart {
  const stateBox = h("div", { class: "chart-state" });
  const area = h("div", { class: "chart-area", "aria-hidden": "true" });
  const table = h("table", { class: "chart-table", "data-role": "table" });
  // The box hides the table (a table grows past a 1 px height; a block with overflow hidden does not).
  const tableBox = h("div", { class: "chart-table-box visually-hidden" }, table);
  const toggle = h("button", { class: "link", type: "button", "aria-expanded": "false", "data-action": "table" });
  toggle.textContent = "Show as table";
  toggle.addEventListener("click", () => {
    const open = tableBox.classList.toggle("visually-hidden") === false;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Hide table" : "Show as table";
  });
  const figure = h("figure", { class: "chart" }, area, h("p", { class: "chart-tools" }, toggle), tableBox);
  const el = h("div", { class: "chart-box", "data-chart": role }, stateBox, figure);

  let plot: uPlot | null = null;
  let current: Extract<ChartState, { kind: "data" }> | null = null;
  let key = "";
  let frame = 0;

  const draw = () => {
    plot?.destroy();
    plot = null;
    const width = Math.floor(area.clientWidth);
    if (!current || width <= 0) return;
    const s = current;
    const accent = cssVar("--accent", "#1d6fdc");
    const muted = cssVar("--muted", "#5d6670");
    const line = cssVar("--line", "#e2e5e9");
    const axis = { stroke: muted, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
    plot = new uPlot(
      {
        width,
        height: HEIGHT,
        // Days are the person's days already: draw the x axis in UTC so no browser zone shifts them.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [axis, { ...axis, size: 70, values: (_u, vals) => vals.map((v) => (s.axis ?? s.format)(v)) }],
        series: [
          {},
          {
            label: s.valueLabel,
            stroke: accent,
            width: s.style === "line" ? 2 : 1,
            fill: s.style === "bars" ? accent : `${accent}22`,
            paths: s.style === "bars" ? uPlot.paths.bars!({ size: [0.8, 18] }) : undefined,
            points: { show: s.style === "line" && s.rows.filter((r) => r.value !== null).length < 40 },
            spanGaps: true,
          },
        ],
      },
      [s.rows.map((r) => dayToSeconds(r.day)), s.rows.map((r) => r.value)],
      area,
    );
    chartDrawn();
  };

  // A chart given its data while the dashboard had it out of the page (a re-render) is drawn when
  // the area is back and has a width; a resize only resizes.
  new ResizeObserver((entries) => {
    const width = Math.floor(entries[entries.length - 1]?.contentRect.width ?? 0);
    if (width <= 0) return;
    if (!plot && !frame) draw();
    else if (plot && width !== plot.width) plot.setSize({ width, height: HEIGHT });
  }).observe(area);

  const fillTable = (s: Extract<ChartState, { kind: "data" }>) => {
    table.replaceChildren(
      h("caption", null, s.caption),
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Day"), h("th", { scope: "col" }, s.valueLabel))),
      h(
        "tbody",
        null,
        s.rows.map((r) =>
          h(
            "tr",
            { "data-day": r.day },
            h("th", { scope: "row" }, dayWords(r.day)),
            h(
              "td",
              { "data-value": r.value === null ? "" : String(r.value) },
              r.value === null ? "—" : s.format(r.value),
            ),
          ),
        ),
      ),
    );
  };

  return {
    el,
    show(state) {
      const k = JSON.stringify(state);
      if (k === key) return;
      key = k;
      el.dataset.state = state.kind;
      if (state.kind !== "data") {
        current = null;
        plot?.destroy();
        plot = null;
        figure.hidden = true;
        stateBox.hidden = false;
        stateBox.replaceChildren(
          state.kind === "loading"
            ? loading(state.text)
            : state.kind === "empty"
              ? empty(state.text, state.hint)
              : errorBox(state.text, state.detail),
        );
        return;
      }
      current = state;
      stateBox.hidden = true;
      stateBox.replaceChildren();
      figure.hidden = false;
      area.setAttribute("aria-label", state.caption);
      fillTable(state);
      // Drawn in the next frame: the dashboard builds its sections before it puts them in the
      // page, and uPlot needs the area's width.
      if (!frame)
        frame = requestAnimationFrame(() => {
          frame = 0;
          draw();
        });
    },
  };
}
