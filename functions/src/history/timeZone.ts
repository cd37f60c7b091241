/**
 * The time zone a person's listening history is counted in: the profile's `settings.timeZone`
 * (account/profile.ts), default "Etc/UTC". A value Intl does not know (the owner may write any
 * string of 1–64 characters) falls back to the default, so a typo cannot stop the sync.
 */
import type { Firestore } from "firebase-admin/firestore";
import { DEFAULT_SETTINGS } from "../account/profile";
import { firestorePaths } from "../paths";
import { isTimeZone } from "./read";

/** The one check of a zone, shared with the web app (read.ts bundles for the browser). */
export { isTimeZone };

/** The person's time zone from the profile (one document read). */
export async function timeZoneOf(db: Firestore, uid: string): Promise<string> {
  const snap = await db.doc(firestorePaths.user(uid)).get();
  const tz: unknown = snap.get("settings.timeZone");
  return isTimeZone(tz) ? tz : DEFAULT_SETTINGS.timeZone;
}
