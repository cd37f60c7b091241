/**
 * The listening-history panels of a provider that logs plays (its month aggregates, `play_stats`):
 * minutes listened per day (30 / 90 / 365 days), the hour × weekday heatmap, top artists and
 * tracks of any date range, and the first and last listen of an artist or a track. A provider's
 * panels (web/src/providers/<id>/panels.ts) add them with `listeningPanels`.
 *
 * Every panel is made once and updated on each dashboard render from the store's current data;
 * each says in words when it is loading, has nothing to show, or could not be loaded.
 */
import type { MonthView, TopEntry } from "../../../functions/src/history/read";
import { firstLast, gridOf, minutesPerDay, monthsCovering, topInRange } from "../../../functions/src/history/read";
import { type Child, empty, errorBox, h, loading } from "../dom";
import type { ConnectionView } from "../status";
import { type ChartState, dayChart } from "./chart";
import { type EraseChoice, erasePanel } from "./erase";
import {
  DAY_RANGES,
  type DayRange,
  type GapView,
  WEEKDAYS,
  formatMinutes,
  gapWords,
  gridLevels,
  lastDays,
  liveMonths,
  searchNames,
} from "./data";
import type { HistoryStore, Loadable } from "./store";

export interface ListeningOptions {
  store: HistoryStore;
  section(title: string, body: Child, extra?: Child, role?: string): HTMLElement;
  connection(): ConnectionView | null;
  /** "Spotify" */
  providerName: string;
  /** The gap the sync last detected on the connection (`lastHistoryGap`), if any. */
  gap(): GapView | null;
  /** How many plays the provider's recently-played window keeps (the gap sentence says it). */
  window: number;
  /** Deletes plays (the `eraseHistory` callable): with it, the section offers "Delete history…". */
  erase?: (choice: EraseChoice) => Promise<{ deleted: number; months: string[] }>;
}

/** What a panel shows instead of its data: connect first, loading, not synced yet, error; null when the data is there. */
function blocked<T>(o: ListeningOptions, what: string, l: Loadable<T>): HTMLElement | null {
  if (!connected(o))
    return empty(
      `Connect ${o.providerName} to see your ${what} here.`,
      h("a", { href: "#/connections" }, "Go to Connections"),
    );
  if (l.state === "error") return errorBox(`Your ${what} could not be loaded.`, l.message);
  if (l.state === "loading") return loading(`Loading ${what}…`);
  return null;
}

function connected(o: { connection(): ConnectionView | null }): boolean {
  const c = o.connection();
  return !!c && c.status !== "disconnected";
}

/** Nothing is read for a provider that is not connected. */
const NOT_READ: Loadable<MonthView[]> = { state: "ok", value: [] };

/** A segmented switch of the day ranges; `pick` runs on a press. */
function rangeSwitch(initial: DayRange, pick: (r: DayRange) => void): HTMLElement {
  const buttons = DAY_RANGES.map((r) =>
    h("button", { type: "button", role: "radio", "data-days": String(r) }, `${r} days`),
  );
  const mark = (r: DayRange) =>
    buttons.forEach((b, i) => {
      const on = DAY_RANGES[i] === r;
      b.className = on ? "on" : "";
      b.setAttribute("aria-checked", String(on));
    });
  buttons.forEach((b, i) =>
    b.addEventListener("click", () => {
      mark(DAY_RANGES[i]!);
      pick(DAY_RANGES[i]!);
    }),
  );
  mark(initial);
  return h("div", { class: "segmented", role: "radiogroup", "aria-label": "Days shown" }, buttons);
}

const dateWords = (ms: number, timeZone: string) =>
  new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short", timeZone });

const dayWords = (day: string) =>
  new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { dateStyle: "medium", timeZone: "UTC" });

export function listeningPanels(o: ListeningOptions): () => HTMLElement[] {
  const { store } = o;
  const liveMonthsOf = () => (connected(o) ? store.months() : NOT_READ);
  let range: DayRange = 30;
  const rerender = () => update();

  // Minutes listened per day.
  const minutes = dayChart("minutes");
  const minutesTotal = h("p", { class: "hint", "data-role": "total" });
  const gapNote = h("p", { class: "gap-note", role: "note", "data-role": "gap" });
  const minutesSection = o.section(
    "Minutes listened",
    [gapNote, minutesTotal, minutes.el],
    rangeSwitch(range, (r) => {
      range = r;
      rerender();
    }),
    "minutes",
  );

  // Hour × weekday.
  const heatBody = h("div", { class: "heatmap-box" });
  const heatSection = o.section("When you listen", heatBody, null, "heatmap");
  let heatKey = "";

  // Top artists and tracks of a date range.
  const fromInput = h("input", { type: "date", name: "from", "aria-label": "From" });
  const toInput = h("input", { type: "date", name: "to", "aria-label": "To" });
  let topSpan: { from: string; to: string } | null = null;
  const onDates = () => {
    if (fromInput.value && toInput.value) {
      topSpan =
        fromInput.value <= toInput.value
          ? { from: fromInput.value, to: toInput.value }
          : { from: toInput.value, to: fromInput.value };
      rerender();
    }
  };
  fromInput.addEventListener("change", onDates);
  toInput.addEventListener("change", onDates);
  const topBody = h("div", { class: "top-range" });
  const topSection = o.section(
    "Top artists and tracks by date",
    topBody,
    h("div", { class: "dates" }, h("label", null, "From ", fromInput), h("label", null, "to ", toInput)),
    "top-range",
  );
  let topKey = "";

  // First and last listen.
  let picked: { kind: "artists" | "tracks"; id: string } | null = null;
  const search = h("input", {
    type: "search",
    name: "listen-search",
    placeholder: "Search an artist or a track",
    "aria-label": "Search an artist or a track",
  });
  search.addEventListener("input", () => rerender());
  const results = h("ul", { class: "search-results", "data-role": "results" });
  const firstLastBody = h("div", { class: "first-last", "aria-live": "polite", "data-role": "first-last" });
  const firstLastSection = o.section(
    "First and last listen",
    [
      h("p", { class: "hint" }, "Pick an artist or a track from the top lists above, or search:"),
      search,
      results,
      firstLastBody,
    ],
    null,
    "first-last",
  );
  let firstLastKey = "";
  let resultsKey = "";
  const pick = (kind: "artists" | "tracks", id: string) => {
    picked = { kind, id };
    rerender();
    firstLastSection.scrollIntoView({ block: "nearest" });
  };

  /** The months covering a day range: the live ones, plus the older ones when the range starts before them. */
  const monthsFor = (from: string): Loadable<MonthView[]> => {
    const live = liveMonthsOf();
    if (live.state !== "ok") return live;
    if (from.slice(0, 7) >= liveMonths(store.today()).first) return live;
    const older = store.olderMonths();
    if (older.state !== "ok") return older;
    return { state: "ok", value: [...older.value, ...live.value] };
  };

  const updateMinutes = () => {
    const g = o.gap();
    gapNote.hidden = !g;
    gapNote.textContent = g ? gapWords(g, o.window, store.timeZone()) : "";
    const l = liveMonthsOf();
    const b = blocked(o, "listening history", l);
    const span = lastDays(store.today(), range);
    let state: ChartState;
    if (b) {
      state =
        l.state === "loading"
          ? { kind: "loading", text: "Loading your listening history…" }
          : l.state === "error"
            ? { kind: "error", text: "Your listening history could not be loaded.", detail: l.message }
            : { kind: "empty", text: `Connect ${o.providerName} to see your listening history here.` };
      minutesTotal.textContent = "";
    } else {
      const days = minutesPerDay(l.state === "ok" ? l.value : [], span.from, span.to);
      const total = days.reduce((n, d) => n + d.ms, 0) / 60_000;
      const plays = days.reduce((n, d) => n + d.plays, 0);
      minutesTotal.textContent =
        plays > 0 ? `${formatMinutes(total)} in ${plays} plays over the last ${range} days.` : "";
      state =
        plays === 0
          ? {
              kind: "empty",
              text: o.connection()?.lastSuccessAt
                ? `No plays in the last ${range} days.`
                : "Your listening history appears here after the first sync.",
            }
          : {
              kind: "data",
              caption: `Minutes listened per day, ${dayWords(span.from)} to ${dayWords(span.to)}`,
              valueLabel: "Minutes",
              rows: days.map((d) => ({ day: d.day, value: d.minutes })),
              format: (v) => formatMinutes(v),
              axis: (v) => `${Math.round(v)} min`,
              style: "bars",
            };
    }
    minutes.show(state);
  };

  const updateHeatmap = () => {
    const l = liveMonthsOf();
    const span = lastDays(store.today(), range);
    const months = monthsCovering(span.from, span.to);
    const b = blocked(o, "listening hours", l);
    const key = JSON.stringify([
      b ? (l.state === "error" ? l.message : l.state) : "ok",
      months,
      l.state === "ok" ? l.value.map((m) => [m.month, m.grid]) : 0,
      !!b,
    ]);
    if (key === heatKey) return;
    heatKey = key;
    if (b) return heatBody.replaceChildren(b);
    const inRange = (l.state === "ok" ? l.value : []).filter((m) => months.includes(m.month));
    const grid = gridOf(inRange);
    const total = grid.flat().reduce((n, v) => n + v, 0);
    if (total === 0) return heatBody.replaceChildren(empty(`No plays in the months of the last ${range} days.`));
    const levels = gridLevels(grid);
    const caption = `Plays by weekday and hour (your time zone, ${store.timeZone()}), ${months[0]} to ${months[months.length - 1]}`;
    heatBody.replaceChildren(
      h(
        "table",
        { class: "heatmap", "data-role": "table" },
        h("caption", null, caption),
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Weekday")),
            Array.from({ length: 24 }, (_, hour) =>
              h("th", { scope: "col", "aria-label": `${hour}:00` }, hour % 3 === 0 ? String(hour) : ""),
            ),
          ),
        ),
        h(
          "tbody",
          null,
          grid.map((row, wd) =>
            h(
              "tr",
              { "data-weekday": String(wd) },
              h("th", { scope: "row" }, WEEKDAYS[wd]),
              row.map((v, hour) => {
                const td = h(
                  "td",
                  {
                    "data-hour": String(hour),
                    "data-value": String(v),
                    title: `${WEEKDAYS[wd]} ${hour}:00 — ${v} plays`,
                  },
                  h("span", { class: "visually-hidden" }, String(v)),
                );
                // The shade as a custom property through the CSSOM (the CSP refuses style attributes).
                td.style.setProperty("--level", String(Math.round((levels[wd]![hour] ?? 0) * 100) / 100));
                return td;
              }),
            ),
          ),
        ),
      ),
    );
  };

  const topList = (kind: "artists" | "tracks", list: TopEntry[]) =>
    list.length === 0
      ? empty(kind === "artists" ? "No artists in these days." : "No tracks in these days.")
      : h(
          "table",
          { class: "top-table", "data-kind": kind, "data-role": "table" },
          h("caption", { class: "visually-hidden" }, kind === "artists" ? "Top artists" : "Top tracks"),
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              h("th", { scope: "col" }, "#"),
              h("th", { scope: "col" }, kind === "artists" ? "Artist" : "Track"),
              h("th", { scope: "col" }, "Plays"),
            ),
          ),
          h(
            "tbody",
            null,
            list.map((e, i) =>
              h(
                "tr",
                { "data-id": e.id },
                h("td", null, String(i + 1)),
                h(
                  "td",
                  null,
                  h(
                    "button",
                    {
                      class: "link",
                      type: "button",
                      "data-action": "first-last",
                      title: "First and last listen",
                      onclick: () => pick(kind, e.id),
                    },
                    e.name,
                  ),
                  e.artists ? h("span", { class: "hint" }, ` ${e.artists}`) : null,
                ),
                h("td", { "data-value": String(e.plays) }, String(e.plays)),
              ),
            ),
          ),
        );

  const updateTop = () => {
    const live = liveMonthsOf();
    const span = topSpan ?? lastDays(store.today(), 30);
    if (!topSpan && !fromInput.value) {
      fromInput.value = span.from;
      toInput.value = span.to;
    }
    const l = live.state === "ok" ? monthsFor(span.from) : live;
    const b = blocked(o, "top artists and tracks", l);
    const key = JSON.stringify([
      span,
      b ? (l.state === "error" ? l.message : l.state) : "ok",
      !!b,
      l.state === "ok" ? l.value.map((m) => [m.month, m.plays, m.ms]) : 0,
    ]);
    if (key === topKey) return;
    topKey = key;
    if (b) return topBody.replaceChildren(b);
    const months = l.state === "ok" ? l.value : [];
    const artists = topInRange(months, span.from, span.to, "artists", 10);
    const tracks = topInRange(months, span.from, span.to, "tracks", 10);
    if (artists.length === 0 && tracks.length === 0)
      return topBody.replaceChildren(empty(`No plays from ${dayWords(span.from)} to ${dayWords(span.to)}.`));
    topBody.replaceChildren(
      h(
        "p",
        { class: "hint" },
        `From ${dayWords(span.from)} to ${dayWords(span.to)}, counted from your listening history.`,
      ),
      h(
        "div",
        { class: "columns" },
        h("div", { class: "column" }, h("h3", null, "Artists"), topList("artists", artists)),
        h("div", { class: "column" }, h("h3", null, "Tracks"), topList("tracks", tracks)),
      ),
    );
  };

  const updateFirstLast = () => {
    const live = liveMonthsOf();
    const q = search.value;
    // Searching and the first listen look at the whole history: the older months are read once.
    const all = live.state === "ok" && (picked || q.trim()) ? monthsFor("0000-01-01") : live;
    const months = all.state === "ok" ? all.value : [];
    const rk = JSON.stringify([q, all.state, months.length]);
    if (rk !== resultsKey) {
      resultsKey = rk;
      results.replaceChildren(
        ...searchNames(months, q, 8).map((r) =>
          h(
            "li",
            null,
            h(
              "button",
              {
                class: "link",
                type: "button",
                "data-kind": r.kind,
                "data-id": r.id,
                onclick: () => pick(r.kind, r.id),
              },
              r.name,
            ),
            h(
              "span",
              { class: "hint" },
              ` ${r.kind === "artists" ? "artist" : `track${r.detail ? ` · ${r.detail}` : ""}`}`,
            ),
          ),
        ),
      );
      if (q.trim() && all.state === "ok" && results.childElementCount === 0)
        results.replaceChildren(h("li", { class: "hint" }, "Nothing found in your listening history."));
    }
    const b = blocked(o, "listening history", all);
    const key = JSON.stringify([
      picked,
      b ? (all.state === "error" ? all.message : all.state) : "ok",
      !!b,
      months.map((m) => [m.month, m.plays]),
    ]);
    if (key === firstLastKey) return;
    firstLastKey = key;
    if (b) return firstLastBody.replaceChildren(b);
    if (!picked) return firstLastBody.replaceChildren(empty("Nothing picked yet."));
    const fl = firstLast(months, picked.kind, picked.id);
    if (!fl) return firstLastBody.replaceChildren(empty("Not in your listening history."));
    const tz = store.timeZone();
    firstLastBody.replaceChildren(
      h(
        "dl",
        { class: "facts", "data-kind": picked.kind, "data-id": picked.id },
        h("dt", null, picked.kind === "artists" ? "Artist" : "Track"),
        h("dd", { "data-role": "name" }, fl.name),
        h("dt", null, "First listen"),
        h("dd", { "data-role": "first", "data-ms": String(fl.first) }, dateWords(fl.first, tz)),
        h("dt", null, "Last listen"),
        h("dd", { "data-role": "last", "data-ms": String(fl.last) }, dateWords(fl.last, tz)),
        h("dt", null, "Plays"),
        h("dd", { "data-role": "plays" }, String(fl.plays)),
      ),
    );
  };

  // Delete history…: the whole history's months, read only once the person opens the controls.
  const { erase } = o;
  const eraseSection = erase
    ? erasePanel({
        section: o.section,
        allMonths: () => monthsFor("0000-01-01"),
        connected: () => connected(o),
        erase,
        deleted: () => store.forgetOlder(),
      })
    : null;

  const update = () => {
    updateMinutes();
    updateHeatmap();
    updateTop();
    updateFirstLast();
  };

  return () => {
    update();
    const sections = [minutesSection, heatSection, topSection, firstLastSection];
    return eraseSection ? [...sections, eraseSection()] : sections;
  };
}
