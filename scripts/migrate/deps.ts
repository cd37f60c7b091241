/**
 * Packages of the functions package, for the migration's own modules.
 *
 * Code in scripts/ resolves packages from the root, which has neither firebase-admin nor zod;
 * functions/src modules resolve them from functions/. Importing the very same files keeps one
 * instance of each class, which matters: `instanceof Timestamp` must agree with what
 * functions/src/admin's Firestore returns.
 */
export {
  DocumentReference,
  GeoPoint,
  Timestamp,
  type DocumentData,
  type DocumentSnapshot,
  type Firestore,
  type WriteBatch,
} from "../../functions/node_modules/firebase-admin/lib/firestore/index";
export type { Auth } from "../../functions/node_modules/firebase-admin/lib/auth/index";
export { getStorage } from "../../functions/node_modules/firebase-admin/lib/storage/index";
export { z } from "../../functions/node_modules/zod";
