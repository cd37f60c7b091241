/**
 * Binds a connect flow to the browser that started it (the defence against login CSRF).
 *
 * Without it, a state proves only who asked for the provider link, not who follows it: an attacker
 * could start a connect with their own ID token, send the provider link to a victim, and the
 * victim's approval would connect the victim's provider account under the attacker's uid.
 *
 * So `oauthStart` gives the browser a random nonce in an HttpOnly, SameSite=Lax cookie named
 * `__session` (the only cookie Firebase Hosting forwards to functions), Secure whenever the app is
 * served over https, scoped to `/api/oauth`, and stores the nonce's SHA-256 with the state. The
 * callback hashes the cookie it receives and refuses a state bound to another browser. A browser
 * keeps its nonce across flows (a start reuses a well-formed cookie), so connecting two providers
 * in two tabs works. SameSite=Lax still sends the cookie on the provider's top-level redirect back
 * to the callback; it is never sent on cross-site subrequests, and scripts cannot read it.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Config } from "../config";
import { type HttpRequest, header } from "./http";
import { STATE_TTL_MS } from "./state";

export const BROWSER_COOKIE = "__session";
/** Every OAuth route lives under this path (Hosting rewrites /api/oauth/start and /api/oauth/callback/**). */
export const BROWSER_COOKIE_PATH = "/api/oauth";
/** The cookie outlives a flow by far; each start renews it. */
export const BROWSER_COOKIE_MAX_AGE_SECONDS = Math.ceil((6 * STATE_TTL_MS) / 1000);
const NONCE_BYTES = 32;
const NONCE_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/** The well-formed nonce in the request's `__session` cookie, or undefined. */
export function browserNonce(req: HttpRequest): string | undefined {
  const raw = header(req, "cookie");
  if (!raw) return undefined;
  for (const part of raw.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== BROWSER_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (NONCE_FORMAT.test(value)) return value;
  }
  return undefined;
}

/** Hex SHA-256 of a nonce: what a state stores (never the nonce itself). */
export function browserHash(nonce: string): string {
  return createHash("sha256").update(nonce, "utf8").digest("hex");
}

/** The request's nonce, or a fresh one when it carries none. */
export function nonceFor(req: HttpRequest, random: (n: number) => Buffer = randomBytes): string {
  return browserNonce(req) ?? random(NONCE_BYTES).toString("base64url");
}

/** The Set-Cookie value that hands `nonce` to the browser. Secure unless the app itself is plain http. */
export function browserCookie(config: Pick<Config, "APP_URL">, nonce: string): string {
  const secure = new URL(config.APP_URL).protocol === "https:";
  return [
    `${BROWSER_COOKIE}=${nonce}`,
    `Path=${BROWSER_COOKIE_PATH}`,
    `Max-Age=${BROWSER_COOKIE_MAX_AGE_SECONDS}`,
    "HttpOnly",
    "SameSite=Lax",
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}
