/**
 * Firebase Auth triggers (firebase-functions v1: the v2 API has no user-created/deleted events;
 * the Functions emulator fires these from the Auth emulator). Thin: the work is in account/.
 *
 * Neither reads settings (getConfig), so neither binds secrets: account deletion must work even
 * when an unrelated setting is broken. Both are idempotent, so failed runs are retried
 * (failurePolicy) until they succeed or the event is too old.
 */
import * as functionsV1 from "firebase-functions/v1";
import { bucket, db } from "../admin";
import { deleteAccountData } from "../account/deleteAccount";
import { ensureProfile } from "../account/profile";
import { logs } from "../logs";

export const userCreated = functionsV1
  .runWith({ failurePolicy: true })
  .auth.user()
  .onCreate(async (user) => {
    const outcome = await ensureProfile(
      db(),
      { uid: user.uid, displayName: user.displayName ?? null, email: user.email ?? null },
      new Date(),
    );
    logs.info("account.profile_ensured", { uid: user.uid, outcome });
  });

export const userDeleted = functionsV1
  .runWith({ failurePolicy: true, timeoutSeconds: 540, memory: "512MB" })
  .auth.user()
  .onDelete(async (user) => {
    logs.info("account.delete_started", { uid: user.uid });
    try {
      const result = await deleteAccountData({ db: db(), bucket: bucket() }, user.uid);
      logs.info("account.deleted", { uid: user.uid, ...result });
    } catch (error) {
      logs.error("account.delete_failed", { uid: user.uid, error });
      throw error;
    }
  });
