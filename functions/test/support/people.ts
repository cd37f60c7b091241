/**
 * Signed-in people for integration tests: an Auth emulator user with a password, and the ID token
 * a real sign-in through the Auth REST API gives them.
 */
import { randomUUID } from "node:crypto";
import { auth } from "../../src/admin";
import { EMULATORS } from "../../../scripts/lib/local-env";

const AUTH_REST = `http://${EMULATORS.auth.host}:${EMULATORS.auth.port}/identitytoolkit.googleapis.com/v1`;

export interface SignedInPerson {
  uid: string;
  idToken: string;
}

/** A new Auth user (email `<prefix>-<uuid>@example.test`), signed in. */
export async function newSignedInPerson(prefix: string): Promise<SignedInPerson> {
  const email = `${prefix}-${randomUUID()}@example.test`;
  const password = "correct horse battery";
  const user = await auth().createUser({ email, password });
  const res = await fetch(`${AUTH_REST}/accounts:signInWithPassword?key=any`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password, returnSecureToken: true }),
  });
  if (res.status !== 200) throw new Error(`Signing in ${email} answered ${res.status}.`);
  const { idToken } = (await res.json()) as { idToken: string };
  return { uid: user.uid, idToken };
}
