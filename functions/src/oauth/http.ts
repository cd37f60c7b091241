/**
 * The small HTTP vocabulary the OAuth handlers share: a framework-free request and response, CORS
 * for the app's origins, and the error page a person sees when a connect attempt cannot go on.
 * Handlers return an HttpResponse; triggers/oauth.ts writes it to Express.
 */
import type { Config } from "../config";
import { allowedOrigins } from "./urls";

export interface HttpRequest {
  method: string;
  /** Path as the function sees it (with or without the Hosting prefix). */
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

export function header(req: HttpRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Responses carrying URLs with states or results must never be cached. `private` too: Firebase
 * Hosting drops Set-Cookie from any function response whose Cache-Control lacks it, and the start
 * response sets the browser-binding cookie (browser.ts).
 */
const NO_STORE = { "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff" };

/**
 * CORS headers for `origin` when it is the app or on the return-URL allow-list; none otherwise
 * (the browser then refuses the response to the page).
 */
export function corsHeaders(
  config: Pick<Config, "APP_URL" | "RETURN_URL_ALLOWLIST">,
  origin: string | undefined,
): Record<string, string> {
  if (!origin || !allowedOrigins(config).has(origin)) return { Vary: "Origin" };
  return {
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Firebase-AppCheck",
    "Access-Control-Max-Age": "600",
    Vary: "Origin",
  };
}

export function json(status: number, body: unknown, extra: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { ...NO_STORE, "Content-Type": "application/json; charset=utf-8", ...extra },
    body: JSON.stringify(body),
  };
}

export function redirect(location: string, extra: Record<string, string> = {}): HttpResponse {
  return { status: 302, headers: { ...NO_STORE, Location: location, ...extra } };
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

/**
 * A small page (no scripts, no inline styles) explaining what went wrong. It is served on the
 * app's own origin through a Hosting rewrite, so it borrows the app's stylesheet: its CSP allows
 * styles from 'self' only, the same as Hosting's policy for /api/oauth/** (firebase.json), so the
 * page looks the same whether a browser sees one of the two policies or both (they intersect).
 * Called directly on the function's URL it is unstyled but readable.
 */
export function errorPage(status: number, code: string, message: string, appUrl: string): HttpResponse {
  const body = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Could not connect the account</title>
<link rel="stylesheet" href="/styles.css"></head>
<body>
<main class="narrow">
<h1>Could not connect the account</h1>
<p>${escapeHtml(message)}</p>
<p><a href="${escapeHtml(appUrl)}">Back to the app</a> and try connecting again.</p>
<p class="hint">Error code: <code>${escapeHtml(code)}</code></p>
</main>
</body>
</html>
`;
  return {
    status,
    headers: {
      ...NO_STORE,
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy":
        "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      "Referrer-Policy": "no-referrer",
    },
    body,
  };
}
