/**
 * Firestore values as plain JSON for the export: Timestamps as ISO strings, bytes as base64,
 * references as their paths, geo points as { latitude, longitude }.
 */
import { DocumentReference, GeoPoint, Timestamp } from "firebase-admin/firestore";
import type { ConnectionDoc } from "../connections/model";

export function toJson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Timestamp) return value.toDate().toISOString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (value instanceof DocumentReference) return value.path;
  if (value instanceof GeoPoint) return { latitude: value.latitude, longitude: value.longitude };
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = toJson(v);
    return out;
  }
  return value;
}

/** Fields of the profile document that go into profile.json (a whitelist). */
export const PROFILE_FIELDS = ["uid", "displayName", "email", "createdAt", "settings"] as const;

export function profileJson(data: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (!data) return null;
  const out: Record<string, unknown> = {};
  for (const k of PROFILE_FIELDS) if (k in data) out[k] = toJson(data[k]);
  return out;
}

/**
 * Fields of a connection document that go into connections.json: a whitelist, so the sync's lease,
 * anything sealed, and any field added later stay out until someone decides they belong here.
 * Tokens are not in the connection document at all (they live sealed in `oauth_tokens`, never read
 * by the export).
 */
export const CONNECTION_FIELDS = [
  "provider",
  "status",
  "providerAccountId",
  "providerAccountName",
  "scopes",
  "connectedAt",
  "updatedAt",
  "lastSyncAt",
  "lastSuccessAt",
  "lastManualSyncAt",
  "nextSyncAt",
  "lastError",
  "consecutiveFailures",
  "rateLimitedUntil",
  "reauthReason",
  "counts",
  "dataErasedAt",
  "dataExpiredAt",
  "history",
  "lastHistoryGap",
  "historyGaps",
  "quietRuns",
] as const satisfies readonly (keyof ConnectionDoc)[];

export function connectionJson(id: string, data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { provider: id };
  for (const k of CONNECTION_FIELDS) if (k in data) out[k] = toJson(data[k]);
  // Only whether the person's own app is used; its client id is on their Connections page.
  out.throughOwnApp = Boolean(data.app && typeof data.app === "object");
  if (out.lastError && typeof out.lastError === "object") {
    const e = out.lastError as Record<string, unknown>;
    out.lastError = { code: e.code ?? null, message: e.message ?? null, at: e.at ?? null };
  }
  return out;
}

/** Import job documents without their checkpoint (where a paused import resumes; meaningless outside). */
export function importJson(id: string, data: Record<string, unknown>): Record<string, unknown> {
  const { checkpoint: _checkpoint, ...rest } = data;
  return { id, ...(toJson(rest) as Record<string, unknown>) };
}
