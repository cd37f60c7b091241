/**
 * Listening-history triggers (thin): "Delete history…" of the web app. The logic is in
 * history/erase.ts.
 */
import { HttpsError, onCall } from "firebase-functions/v2/https";
import { CALLABLE_OPTIONS, verifiedCaller } from "../access/caller";
import { db } from "../admin";
import { InvalidInputError } from "../errors";
import { eraseHistory as erase } from "../history/erase";

/**
 * The signed-in person deletes plays of their own history:
 * { provider, from?: "YYYY-MM-DD", to?: "YYYY-MM-DD", artistId? } → { deleted, months }.
 */
export const eraseHistory = onCall({ ...CALLABLE_OPTIONS, timeoutSeconds: 300 }, async (req) => {
  const uid = await verifiedCaller(req, "Sign in to delete your listening history.");
  try {
    return await erase(db(), uid, req.data, new Date());
  } catch (e) {
    if (e instanceof InvalidInputError) throw new HttpsError("invalid-argument", e.message);
    throw e;
  }
});
