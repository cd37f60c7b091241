/**
 * Counts per source (one row per legacy collection, Storage prefix and token grant), the summary
 * table printed at the end, and the JSON report (--report-json).
 */
import { formatBytes } from "./progress";
import { renderTable } from "./table";

export const ACTIONS = ["create", "update", "unchanged", "conflict", "overwrite", "collision", "invalid"] as const;
export type Action = (typeof ACTIONS)[number];
/** Actions that write to the target. */
export const CHANGES: readonly Action[] = ["create", "update", "overwrite"];

export interface Row {
  kind: "documents" | "objects" | "tokens";
  source: string;
  target: string;
  items: number;
  bytes: number;
  counts: Record<Action, number>;
}

export class Tally {
  readonly rows: Row[] = [];

  row(kind: Row["kind"], source: string, target: string): Row {
    let r = this.rows.find((x) => x.kind === kind && x.source === source);
    if (!r) {
      r = {
        kind,
        source,
        target,
        items: 0,
        bytes: 0,
        counts: Object.fromEntries(ACTIONS.map((a) => [a, 0])) as Record<Action, number>,
      };
      this.rows.push(r);
    }
    return r;
  }

  add(r: Row, action: Action, bytes = 0): void {
    r.items += 1;
    r.bytes += bytes;
    r.counts[action] += 1;
  }

  total(action: Action): number {
    return this.rows.reduce((n, r) => n + r.counts[action], 0);
  }

  get changes(): number {
    return CHANGES.reduce((n, a) => n + this.total(a), 0);
  }

  get conflicts(): number {
    return this.total("conflict") + this.total("collision") + this.total("invalid");
  }

  /** The summary table; `labels` renames action columns (verify: create → missing). */
  render(title: string, labels: Partial<Record<Action, string>> = {}): string {
    const used = ACTIONS.filter((a) => ["create", "update", "unchanged", "conflict"].includes(a) || this.total(a) > 0);
    const rows = this.rows.map((r) => [
      `${r.kind} ${r.source} → ${r.target}`,
      r.items,
      formatBytes(r.bytes),
      ...used.map((a) => r.counts[a]),
    ]);
    const totalBytes = this.rows.reduce((n, r) => n + r.bytes, 0);
    const totalItems = this.rows.reduce((n, r) => n + r.items, 0);
    rows.push(["total", totalItems, formatBytes(totalBytes), ...used.map((a) => this.total(a))]);
    return `${title}\n${renderTable(["source → target", "items", "bytes", ...used.map((a) => labels[a] ?? a)], rows)}`;
  }
}
