/**
 * People's own OAuth apps (thin): the `ownApp` callable over apps/manage.ts.
 * Config is read inside the handler, never at module load.
 */
import { HttpsError, onCall } from "firebase-functions/v2/https";
import { CALLABLE_OPTIONS, verifiedCaller } from "../access/caller";
import { AppCheckUnavailableError, OwnAppsOffError, manageOwnApp } from "../apps/manage";
import { ownAppStoreFromConfig } from "../apps/store";
import { getConfig } from "../config";
import { InvalidInputError } from "../errors";
import { logs } from "../logs";
import { getProvider } from "../providers/registry";

export const ownApp = onCall(CALLABLE_OPTIONS, async (request) => {
  const uid = await verifiedCaller(request, "Sign in to manage your own apps.");
  try {
    return await manageOwnApp(
      { config: getConfig(), now: () => new Date(), apps: ownAppStoreFromConfig(), provider: getProvider },
      uid,
      request.data,
    );
  } catch (e) {
    if (e instanceof InvalidInputError) throw new HttpsError("invalid-argument", e.message);
    if (e instanceof OwnAppsOffError) throw new HttpsError("failed-precondition", e.message);
    if (e instanceof AppCheckUnavailableError) throw new HttpsError("unavailable", e.message);
    logs.error("apps.failed", { uid, error: e });
    throw new HttpsError("internal", "Could not update your app; try again.");
  }
});
