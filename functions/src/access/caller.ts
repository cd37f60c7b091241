/**
 * Who may call the app's functions: the checks the callables (syncNow, disconnect), `media` and
 * `oauthStart` share. Plain functions over injected verifiers, so they are unit tested.
 *
 * - **Revoked sessions.** firebase-functions' onCall verifies the ID token's signature and expiry,
 *   not whether the session was revoked (`auth().revokeRefreshTokens`) or the user disabled.
 *   Callables are called on a click, so `callableCaller` verifies the raw bearer token once more
 *   with `checkRevoked` (one Auth API read per call), as oauthStart does.
 * - **`media`** is called once per image, dozens of times per dashboard load; a full check per
 *   request would be an Auth API read each. `cachedIdTokenVerifier` verifies the signature per
 *   request and the revocation through a per-instance cache of the user's `tokensValidAfterTime`
 *   and `disabled`, read at most once per REVOCATION_CACHE_MS per uid. So a revoked session can
 *   still load its own images for up to that long.
 * - **App Check** (setting APP_CHECK_ENFORCED, off by default): when on, a callable without a
 *   verified App Check token (`request.app`) is refused, and `media` / `oauthStart` refuse a request
 *   whose `X-Firebase-AppCheck` header is missing or does not verify (`appCheckAllowed`).
 */
import { HttpsError } from "firebase-functions/v2/https";
import { auth } from "../admin";
import { ALL_SECRETS, type Config, getConfig, params } from "../config";
import { AppError } from "../errors";
import { logs } from "../logs";

/**
 * Options every callable shares: all secrets (getConfig checks every setting) and at most
 * HTTP_MAX_INSTANCES instances, so one person's (or one script's) burst cannot scale out without bound.
 */
export const CALLABLE_OPTIONS = { secrets: ALL_SECRETS, maxInstances: params.HTTP_MAX_INSTANCES };

/** How long `media` trusts what it read about a user's revocation state. */
export const REVOCATION_CACHE_MS = 60_000;
/** Users whose revocation state one instance keeps (the oldest is forgotten first). */
export const REVOCATION_CACHE_MAX_USERS = 10_000;

/** The header the web app's App Check SDK token travels in (lower case, as Node gives headers). */
export const APP_CHECK_HEADER = "x-firebase-appcheck";

export const APP_CHECK_REQUIRED =
  "App Check is required: this request carries no valid App Check token. Reload the app and try again.";
export const SESSION_ENDED = "This session has ended (signed out, or the account was disabled); sign in again.";

/** The ID token's session was revoked, the account disabled or deleted. */
export class SessionEndedError extends AppError {
  readonly code = "session_ended";
  readonly action = "give_up";
}

type HeaderValue = string | string[] | undefined;

const BEARER = /^Bearer\s+([A-Za-z0-9._-]{1,8192})$/;

function first(v: HeaderValue): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The token of an `Authorization: Bearer <token>` header value; undefined when absent or malformed. */
export function bearerToken(authorization: HeaderValue): string | undefined {
  return BEARER.exec(first(authorization) ?? "")?.[1];
}

// --- App Check -----------------------------------------------------------------------------------

/**
 * Whether a request may pass App Check: always when APP_CHECK_ENFORCED is off; when on, only with
 * an `X-Firebase-AppCheck` header value that `verify` (firebase-admin's
 * `getAppCheck().verifyToken`) accepts. Never throws.
 */
export async function appCheckAllowed(
  config: Pick<Config, "APP_CHECK_ENFORCED">,
  headerValue: HeaderValue,
  verify: (token: string) => Promise<unknown>,
): Promise<boolean> {
  if (!config.APP_CHECK_ENFORCED) return true;
  const token = first(headerValue);
  if (!token || token.length > 8192) {
    logs.warn("access.app_check_refused", { reason: "missing" });
    return false;
  }
  try {
    await verify(token);
    return true;
  } catch (e) {
    logs.warn("access.app_check_refused", { reason: "invalid", error: e });
    return false;
  }
}

// --- Callables -----------------------------------------------------------------------------------

/** The parts of firebase-functions' CallableRequest the checks read. */
export interface CallableRequestLike {
  auth?: { uid: string };
  /** Set by firebase-functions when the request carried a valid App Check token. */
  app?: unknown;
  rawRequest: { headers: Record<string, HeaderValue> };
}

export interface CallableCallerDeps {
  config: Pick<Config, "APP_CHECK_ENFORCED">;
  /** firebase-admin's `auth().verifyIdToken(token, true)`: throws when invalid, revoked or disabled. */
  verifyIdToken(idToken: string, checkRevoked: true): Promise<{ uid: string }>;
}

/** firebase-admin codes meaning "this session is over", as opposed to "this is not a token". */
const ENDED_CODES = new Set(["auth/id-token-revoked", "auth/user-disabled", "auth/user-not-found"]);

/**
 * The uid of a callable's caller, after App Check (when enforced) and a revocation check of the
 * bearer token. Throws an HttpsError with a sentence: `signIn` when not signed in.
 */
export async function callableCaller(
  deps: CallableCallerDeps,
  request: CallableRequestLike,
  signIn: string,
): Promise<string> {
  if (!request.auth) throw new HttpsError("unauthenticated", signIn);
  if (deps.config.APP_CHECK_ENFORCED && !request.app) {
    logs.warn("access.app_check_refused", { uid: request.auth.uid, reason: "callable_without_app_check" });
    throw new HttpsError("unauthenticated", APP_CHECK_REQUIRED);
  }
  const token = bearerToken(request.rawRequest.headers.authorization);
  if (!token) throw new HttpsError("unauthenticated", signIn);
  let uid: string;
  try {
    ({ uid } = await deps.verifyIdToken(token, true));
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && ENDED_CODES.has(code)) {
      logs.warn("access.session_ended", { uid: request.auth.uid, reason: code });
      throw new HttpsError("unauthenticated", SESSION_ENDED);
    }
    if (typeof code === "string" && code.startsWith("auth/") && code !== "auth/internal-error") {
      throw new HttpsError("unauthenticated", signIn);
    }
    logs.error("access.verify_failed", { uid: request.auth.uid, error: e });
    throw new HttpsError("unavailable", "Your sign-in could not be checked; try again in a moment.");
  }
  if (uid !== request.auth.uid) throw new HttpsError("unauthenticated", signIn);
  return uid;
}

/** callableCaller with this process's config and Firebase Auth (what the triggers call). */
export function verifiedCaller(request: CallableRequestLike, signIn: string): Promise<string> {
  return callableCaller(
    { config: getConfig(), verifyIdToken: (token, checkRevoked) => auth().verifyIdToken(token, checkRevoked) },
    request,
    signIn,
  );
}

// --- media: revocation through a per-instance cache ----------------------------------------------

/** What a user record says about its sessions. */
export interface UserSessionState {
  disabled: boolean;
  /** Tokens issued for a sign-in before this time (ms) are revoked; null when never revoked. */
  validAfterMs: number | null;
}

export interface CachedVerifierDeps {
  /** Signature and expiry only (firebase-admin `verifyIdToken(token)`, no Auth API read). */
  verifySignature(idToken: string): Promise<{ uid: string; auth_time: number }>;
  /** The user's session state (one Auth API read: `auth().getUser`); null when there is no such user. */
  readUser(uid: string): Promise<UserSessionState | null>;
  /** Milliseconds since the epoch. */
  now(): number;
  ttlMs?: number;
  maxUsers?: number;
}

/**
 * An ID token verifier for `media`: the signature per call, the revocation state of the uid at
 * most once per `ttlMs` (concurrent calls for one uid share one read). Throws SessionEndedError for
 * a revoked session, a disabled or deleted account, and whatever `verifySignature` throws.
 */
export function cachedIdTokenVerifier(deps: CachedVerifierDeps): (idToken: string) => Promise<{ uid: string }> {
  const ttlMs = deps.ttlMs ?? REVOCATION_CACHE_MS;
  const maxUsers = deps.maxUsers ?? REVOCATION_CACHE_MAX_USERS;
  const cache = new Map<string, { readAt: number; state: Promise<UserSessionState | null> }>();

  const stateOf = (uid: string): Promise<UserSessionState | null> => {
    const now = deps.now();
    const hit = cache.get(uid);
    if (hit && now - hit.readAt < ttlMs) return hit.state;
    const state = deps.readUser(uid);
    cache.delete(uid); // re-inserted last: the Map's first key is the oldest read
    cache.set(uid, { readAt: now, state });
    state.catch(() => {
      if (cache.get(uid)?.state === state) cache.delete(uid); // a failed read is not remembered
    });
    while (cache.size > maxUsers) cache.delete(cache.keys().next().value as string);
    return state;
  };

  return async (idToken) => {
    let decoded: { uid: string; auth_time: number };
    try {
      decoded = await deps.verifySignature(idToken);
    } catch (e) {
      // firebase-admin checks revocation itself against the Auth emulator; say the same then.
      const code = (e as { code?: unknown }).code;
      if (typeof code === "string" && ENDED_CODES.has(code)) throw new SessionEndedError(SESSION_ENDED, { cause: e });
      throw e;
    }
    const user = await stateOf(decoded.uid);
    if (!user) throw new SessionEndedError("The account of this ID token no longer exists.");
    if (user.disabled) throw new SessionEndedError("The account of this ID token is disabled.");
    if (user.validAfterMs !== null && decoded.auth_time * 1000 < user.validAfterMs) {
      throw new SessionEndedError("The session of this ID token was revoked.");
    }
    return { uid: decoded.uid };
  };
}
