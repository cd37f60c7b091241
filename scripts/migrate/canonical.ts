/**
 * A canonical text form of Firestore document data, for deep equality and content hashes.
 *
 * Every Firestore value type is tagged (timestamps, geo points, references, bytes, vectors), map
 * keys are sorted, and arrays keep their order, so two documents are deep-equal exactly when
 * their canonical forms are equal. JavaScript cannot tell an integral double from an integer
 * (firebase-admin reads both as `number`), so 1.0 and 1 compare equal; -0 and NaN are kept apart.
 */
import { createHash } from "node:crypto";
import { DocumentReference, GeoPoint, Timestamp } from "./deps";

export function canonical(value: unknown): string {
  if (value === null || value === undefined) return "n";
  switch (typeof value) {
    case "boolean":
      return value ? "b:1" : "b:0";
    case "number":
      return Object.is(value, -0) ? "d:-0" : `d:${String(value)}`;
    case "string":
      return `s:${JSON.stringify(value)}`;
    case "object":
      break;
    default:
      throw new TypeError(`Unexpected ${typeof value} in document data.`);
  }
  if (value instanceof Timestamp) return `t:${value.seconds}.${value.nanoseconds}`;
  if (value instanceof GeoPoint) return `g:${value.latitude},${value.longitude}`;
  if (value instanceof DocumentReference) return `r:${JSON.stringify(value.path)}`;
  if (isVector(value)) return `v:${canonical(value.toArray())}`;
  if (value instanceof Uint8Array) return `y:${Buffer.from(value).toString("base64")}`;
  if (value instanceof Date) return `t:${Timestamp.fromDate(value).seconds}.${Timestamp.fromDate(value).nanoseconds}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
}

/** Content hash of document data (hex, 128 bits: plenty to tell versions of one document apart). */
export function contentHash(data: unknown): string {
  return hashCanonical(canonical(data));
}

/** The content hash of an already computed canonical form. */
export function hashCanonical(text: string): string {
  return sha(text);
}

/** Short stable key of a path (ledger map keys must be plain field names). */
export function pathKey(path: string): string {
  return sha(path);
}

function sha(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, 32);
}

/** firebase-admin 13 does not re-export VectorValue; recognise it by its class name and shape. */
function isVector(value: object): value is { toArray(): number[] } {
  return value.constructor?.name === "VectorValue" && typeof (value as { toArray?: unknown }).toArray === "function";
}
