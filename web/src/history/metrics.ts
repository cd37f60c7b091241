/**
 * What the history charts cost and how fast they appear, published on the page for `npm run
 * bench` (scripts/bench/historyBrowser.ts) as data attributes of <html>:
 *
 * - `data-history-reads`: documents the history stores read, the way Firestore bills them (each
 *   document a query or listener returns, a query that returns nothing as one);
 * - `data-history-data-ms`: page time when the first chart data (months or points) arrived;
 * - `data-history-first-drawn-ms`: page time when the first chart was drawn after that;
 * - `data-history-drawn-ms`: page time when a chart was last drawn.
 */
const counts = { reads: 0, dataAt: 0, firstDrawnAt: 0, drawnAt: 0 };

function publish(): void {
  const d = document.documentElement.dataset;
  d.historyReads = String(counts.reads);
  if (counts.dataAt) d.historyDataMs = String(Math.round(counts.dataAt));
  if (counts.firstDrawnAt) d.historyFirstDrawnMs = String(Math.round(counts.firstDrawnAt));
  if (counts.drawnAt) d.historyDrawnMs = String(Math.round(counts.drawnAt));
}

/**
 * `documents` documents read by one answer (`empty`: the answer of a query that found none);
 * `data`: the answer is chart data (not the profile).
 */
export function countReads(documents: number, opts: { empty?: boolean; data?: boolean } = {}): void {
  counts.reads += Math.max(documents, opts.empty ? 1 : 0);
  if (opts.data && !counts.dataAt) counts.dataAt = performance.now();
  publish();
}

export function chartDrawn(): void {
  counts.drawnAt = performance.now();
  if (counts.dataAt && !counts.firstDrawnAt) counts.firstDrawnAt = counts.drawnAt;
  publish();
}
