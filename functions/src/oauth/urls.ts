/**
 * The URLs of the connect flow: where the provider sends the person back (one redirect URI per
 * provider), and where we send them afterwards (a return URL on the app, checked against an
 * allow-list so the flow can never be turned into an open redirect).
 */
import type { Config } from "../config";
import { InvalidInputError } from "../errors";
import { type Provider, isProvider } from "../paths";

const MAX_RETURN_URL = 2048;

/**
 * The redirect URI of one provider: `${OAUTH_REDIRECT_URI}/${provider}`. Each provider gets its
 * own, registered with that provider only, so a code or state arriving at the wrong provider's
 * callback is recognised (OAuth mix-up defence) and the callback knows whose code it holds.
 */
export function redirectUriFor(config: Pick<Config, "OAUTH_REDIRECT_URI">, provider: Provider): string {
  return `${config.OAUTH_REDIRECT_URI}/${provider}`;
}

/**
 * The provider named by the last segment of a callback request path: `/api/oauth/callback/spotify`
 * behind the Hosting rewrite, `/spotify` when the function is called directly.
 */
export function providerFromPath(path: string): Provider | undefined {
  const last = path.split("?")[0]!.replace(/\/+$/, "").split("/").pop();
  return isProvider(last) ? last : undefined;
}

/** Origins allowed as return targets: APP_URL's plus RETURN_URL_ALLOWLIST's (malformed entries ignored). */
export function allowedOrigins(config: Pick<Config, "APP_URL" | "RETURN_URL_ALLOWLIST">): Set<string> {
  const out = new Set<string>();
  for (const entry of [config.APP_URL, ...config.RETURN_URL_ALLOWLIST]) {
    try {
      const u = new URL(entry);
      if (u.protocol === "https:" || u.protocol === "http:") out.add(u.origin);
    } catch {
      // not a URL: never matches
    }
  }
  return out;
}

/**
 * Turns the caller's return path into the absolute URL stored with the state. Accepts a path on
 * the app (`/settings?x=1`, resolved against APP_URL) or an absolute http(s) URL whose origin is
 * allowed. Anything else (other origins, `//evil.example`, `/..//evil.example` and other dot
 * segments, `javascript:`, credentials in the URL, control characters, over-long values) is
 * refused with an InvalidInputError.
 */
export function resolveReturnUrl(
  config: Pick<Config, "APP_URL" | "RETURN_URL_ALLOWLIST">,
  input: string | undefined,
): string {
  const appOrigin = new URL(config.APP_URL).origin;
  if (input === undefined || input === "") return `${appOrigin}/`;
  if (input.length > MAX_RETURN_URL) throw new InvalidInputError("The return URL is too long.");
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(input)) throw new InvalidInputError("The return URL contains invalid characters.");
  let url: URL;
  if (input.startsWith("/")) {
    if (input.startsWith("//")) throw new InvalidInputError("The return path must be a path on the app.");
    url = new URL(input, `${appOrigin}/`);
    if (url.origin !== appOrigin) throw new InvalidInputError("The return path must be a path on the app.");
    if (hasDotSegment(input.split(/[?#]/)[0]!)) {
      throw new InvalidInputError("The return path must not contain '.' or '..' segments.");
    }
  } else {
    try {
      url = new URL(input);
    } catch {
      throw new InvalidInputError("The return URL is neither a path on the app nor an absolute URL.");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new InvalidInputError("The return URL must use http or https.");
    }
    if (url.username || url.password) throw new InvalidInputError("The return URL must not contain credentials.");
    if (!allowedOrigins(config).has(url.origin)) {
      throw new InvalidInputError(`The return URL's origin ${url.origin} is not allowed.`);
    }
  }
  // `/..//evil.example` resolves to the path `//evil.example`: same origin here, but anything that
  // later treats the path as a relative link goes to another host. No path may start with `//`.
  if (url.pathname.startsWith("//")) throw new InvalidInputError("The return path must not start with '//'.");
  return url.toString();
}

/** True when a path has a `.` or `..` segment, also percent-encoded (`%2e`, `%2E`). */
function hasDotSegment(path: string): boolean {
  return path.split("/").some((seg) => /^(?:\.|%2e){1,2}$/i.test(seg));
}

/** `url` with query parameters set (existing ones of the same name replaced; the fragment kept). */
export function withQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}
