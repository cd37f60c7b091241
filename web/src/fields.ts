/**
 * Defensive reads of snapshot fields, shared by every provider's readers
 * (web/src/providers/<id>/readers.ts): a missing or odd field becomes null or is skipped, so a
 * provider change degrades a panel instead of breaking the page. Pure.
 */

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | null => (typeof v === "string" && v.length > 0 ? v : null);
export const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** `v` when it parses as an absolute https: URL (safe as a link's href), else null: never `javascript:`, `data:` or `http:`. */
export function httpsUrl(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  try {
    const u = new URL(s);
    return u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

/** The item list of a snapshot: `items`, or `data.items`, or the document itself when it is a list. */
export function itemsOf(doc: unknown): Obj[] {
  if (Array.isArray(doc)) return doc.filter(isObj);
  if (!isObj(doc)) return [];
  for (const key of ["items", "data"]) {
    const v = doc[key];
    if (Array.isArray(v)) return v.filter(isObj);
    if (isObj(v) && Array.isArray(v.items)) return v.items.filter(isObj);
  }
  return [];
}

/** The `url` of the first entry of an `images: [{ url }]` list. */
export function firstImageUrl(v: unknown): string | null {
  if (Array.isArray(v)) for (const i of v) if (isObj(i) && str(i.url)) return str(i.url);
  return null;
}

/** A date from an ISO string field (null when absent or unparseable). */
export function isoDate(v: unknown): Date | null {
  const s = str(v);
  const d = s ? new Date(s) : null;
  return d && !Number.isNaN(d.getTime()) ? d : null;
}
