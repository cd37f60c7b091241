/**
 * The operator view's callable (thin): `operator` over operator/actions.ts. Only people with the
 * `admin` custom claim get past operatorCaller; config is read inside the handler.
 */
import { HttpsError, onCall } from "firebase-functions/v2/https";
import { CALLABLE_OPTIONS } from "../access/caller";
import { auth, db } from "../admin";
import { getConfig } from "../config";
import { InvalidInputError } from "../errors";
import { logs } from "../logs";
import { operatorCaller, runOperatorAction } from "../operator/actions";

/** { action: "overview" } → the operator overview; { action: "liftPause", provider, clientId? } → { existed }. */
export const operator = onCall({ ...CALLABLE_OPTIONS, timeoutSeconds: 120 }, async (request) => {
  const config = getConfig();
  const uid = await operatorCaller(
    { config, verifyIdToken: (token, checkRevoked) => auth().verifyIdToken(token, checkRevoked) },
    request,
  );
  try {
    return await runOperatorAction({ db: db(), now: () => new Date(), config }, uid, request.data);
  } catch (e) {
    if (e instanceof InvalidInputError) throw new HttpsError("invalid-argument", e.message);
    logs.error("operator.failed", { uid, error: e });
    throw new HttpsError("internal", "The operator view could not be loaded; try again in a moment.");
  }
});
