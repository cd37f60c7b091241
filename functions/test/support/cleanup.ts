/**
 * Integration tests share one set of emulators for the whole run, so a test file that makes many
 * documents removes its people when it ends: tests that read the whole database (the migration's
 * "writes nothing" dump) then cost the same whatever ran before them.
 */
import { bucket, db } from "../../src/admin";
import { firestorePaths, storagePaths } from "../../src/paths";

/** Deletes every person whose uid starts with one of `prefixes`: `users/{uid}` and all below it, and `{uid}/` in Storage. */
export function forgetPeople(prefixes: string[]): Promise<number> {
  return forgetPeopleWhere((uid) => prefixes.some((p) => uid.startsWith(p)));
}

/** Deletes every person for whom `gone(uid)` holds, as forgetPeople does; returns how many. */
export async function forgetPeopleWhere(gone: (uid: string) => boolean): Promise<number> {
  const refs = (await db().collection(firestorePaths.usersCollection()).listDocuments()).filter((r) => gone(r.id));
  for (const ref of refs) {
    await db().recursiveDelete(ref);
    await bucket().deleteFiles({ prefix: storagePaths.userPrefix(ref.id) });
  }
  return refs.length;
}
