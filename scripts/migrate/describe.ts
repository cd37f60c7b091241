/** One line per item that needs attention, for plan, apply and verify output. */
import type { DocItem } from "./documents";
import type { ObjectItem } from "./objects";

const WHY: Record<string, string> = {
  conflict: "target exists with different content (left alone; --overwrite replaces it)",
  overwrite: "target exists with different content (replaced: --overwrite)",
  collision: "another legacy source maps to the same target (not copied)",
  invalid: "name cannot be mapped",
  create: "target missing",
  update: "source changed since the migration copied it",
};

export function describeDoc(i: DocItem, why = WHY[i.action] ?? i.action): string {
  return `document ${i.source.ref.path} → ${i.target.path}: ${why}`;
}

export function describeObject(i: ObjectItem, why = WHY[i.action] ?? i.action): string {
  return `object ${i.source.name} → ${i.targetName ?? "?"}: ${why}${i.reason ? ` (${i.reason})` : ""}`;
}

export const needsAttention = (action: string) => ["conflict", "overwrite", "collision", "invalid"].includes(action);
