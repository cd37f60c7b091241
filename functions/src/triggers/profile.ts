/**
 * Profile trigger: `settings.syncEnabled` pauses or resumes the person's connections.
 * Thin: the work is in account/syncSetting.ts.
 */
import { onDocumentUpdated } from "firebase-functions/v2/firestore";
import { db } from "../admin";
import { applySyncSetting } from "../account/syncSetting";
import { logs } from "../logs";
import { USER_DOC_PATTERN } from "../paths";

export const profileUpdated = onDocumentUpdated(USER_DOC_PATTERN, async (event) => {
  const uid = event.params.uid;
  const change = await applySyncSetting(db(), uid, event.data?.before.data(), event.data?.after.data(), new Date());
  if (change !== "unchanged") logs.info("account.sync_setting_applied", { uid, ...change });
});
