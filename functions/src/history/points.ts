/**
 * Daily points of the other data (Spotify top-list ranks and playlist sizes, Instagram counts):
 * `users/{uid}/history/{provider}-{YYYY-MM}` = { provider, month, days: { "DD": point }, updatedAt }.
 * The sync writes at most one point a day per connection, inside the transaction that records its
 * outcome; pointUpdate says what to write there.
 */
import {
  type DocumentReference,
  FieldPath,
  type Firestore,
  type SetOptions,
  Timestamp,
} from "firebase-admin/firestore";
import { InvalidInputError } from "../errors";
import { type Provider, firestorePaths } from "../paths";
import { monthDocId } from "./model";

export interface PointUpdate {
  ref: DocumentReference;
  data: Record<string, unknown>;
  /**
   * Merges the month document, replacing the day's point whole (a point written twice on one day
   * keeps no field of the first): `tx.set(u.ref, u.data, u.options)`.
   */
  options: SetOptions;
}

/** The write of one day's point (`day` is the person's local day, "2026-12-02"). */
export function pointUpdate(
  db: Firestore,
  uid: string,
  provider: Provider,
  day: string,
  point: Record<string, unknown>,
  now: Date = new Date(),
): PointUpdate {
  const m = /^(\d{4}-\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new InvalidInputError(`Invalid day ${JSON.stringify(day)}: expected YYYY-MM-DD.`);
  const month = m[1]!;
  const dd = m[2]!;
  const ref = db.doc(firestorePaths.historyMonth(uid, monthDocId(provider, month)));
  return {
    ref,
    data: { provider, month, days: { [dd]: point }, updatedAt: Timestamp.fromDate(now) },
    options: { mergeFields: ["provider", "month", "updatedAt", new FieldPath("days", dd)] },
  };
}
