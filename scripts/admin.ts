/**
 * `npm run admin` — gives or takes the operator role: the `admin: true` custom claim on a person's
 * Firebase Auth account, which opens the web app's Operator view (the `operator` callable).
 *
 *   npm run admin -- --grant EMAIL       sets admin: true (the person's other claims are kept)
 *   npm run admin -- --revoke EMAIL      removes it, and revokes the person's refresh tokens
 *   (add --project ID for a real project, with Application Default Credentials)
 *
 * A grant shows in the person's next ID token: they sign out and in again (or wait up to an hour
 * for the token to refresh). A revoke takes effect at once: revoking the refresh tokens ends every
 * session of the account, and the callable checks revocation on each call, so the old token that
 * still carries the claim is refused. The result is the only thing on stdout (one JSON document
 * saying what changed); an unknown email exits 1, bad arguments exit 2.
 */
import { UsageError, parseOptions, printResult, runMain, selectTarget } from "./ops/target";

const USAGE = "usage: npm run admin -- (--grant EMAIL | --revoke EMAIL) [--project ID]";

runMain(async () => {
  const { values, positionals } = parseOptions(process.argv.slice(2), {
    grant: { type: "string" },
    revoke: { type: "string" },
  });
  const { grant, revoke } = values;
  if (positionals.length > 0 || (grant === undefined) === (revoke === undefined)) throw new UsageError(USAGE);
  const email = (grant ?? revoke ?? "").trim();
  if (!/^[^\s@]+@[^\s@]+$/.test(email))
    throw new UsageError(`${JSON.stringify(email)} is not an email address.\n${USAGE}`);
  const target = selectTarget(values.project);
  const { auth } = await import("../functions/src/admin");

  let user;
  try {
    user = await auth().getUserByEmail(email);
  } catch (e) {
    if ((e as { code?: unknown }).code === "auth/user-not-found")
      throw new Error(`No account has the email ${email} in project ${target.projectId}; nothing changed.`);
    throw e;
  }
  const before = { ...(user.customClaims ?? {}) } as Record<string, unknown>;
  const wasAdmin = before.admin === true;
  const after: Record<string, unknown> = { ...before };
  if (grant !== undefined) after.admin = true;
  else delete after.admin;
  const changed = wasAdmin !== (grant !== undefined);
  if (changed) await auth().setCustomUserClaims(user.uid, Object.keys(after).length > 0 ? after : null);
  // Revoking ends the sessions even when the claim was already gone: a revoke is meant to lock out.
  if (revoke !== undefined) await auth().revokeRefreshTokens(user.uid);

  printResult({
    project: target.projectId,
    email,
    uid: user.uid,
    admin: grant !== undefined,
    changed,
    ...(revoke !== undefined ? { sessionsRevoked: true } : {}),
    otherClaims: Object.keys(after).filter((k) => k !== "admin"),
    message:
      grant !== undefined
        ? changed
          ? `${email} is an operator now; the Operator view appears after they sign in again.`
          : `${email} was already an operator; nothing changed.`
        : changed
          ? `${email} is no longer an operator; their sessions were ended.`
          : `${email} was not an operator; their sessions were ended anyway.`,
  });
  return 0;
});
