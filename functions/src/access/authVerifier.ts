/**
 * The ID-token check of the HTTP functions that are not callables (`media`, `imports`): access/caller.ts
 * cachedIdTokenVerifier over the real Firebase Auth. Each call makes its own per-instance cache:
 * the signature per request, revocation state per uid at most once a minute.
 */
import { auth } from "../admin";
import { cachedIdTokenVerifier } from "./caller";

export function authIdTokenVerifier() {
  return cachedIdTokenVerifier({
    verifySignature: async (idToken) => {
      const decoded = await auth().verifyIdToken(idToken);
      return { uid: decoded.uid, auth_time: decoded.auth_time };
    },
    readUser: async (uid) => {
      try {
        const user = await auth().getUser(uid);
        const validAfter = user.tokensValidAfterTime ? Date.parse(user.tokensValidAfterTime) : NaN;
        return { disabled: user.disabled, validAfterMs: Number.isNaN(validAfter) ? null : validAfter };
      } catch (e) {
        if ((e as { code?: string }).code === "auth/user-not-found") return null;
        throw e;
      }
    },
    now: () => Date.now(),
  });
}
