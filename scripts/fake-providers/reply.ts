/**
 * What a route handler answers, and small helpers to build it. The server writes a Reply (after
 * faults and latency); HANG means "never answer" (the server keeps the socket until the client
 * gives up or the fake stops).
 */
import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export const HANG = Symbol("hang");
export type Answer = Reply | typeof HANG;

/** A parsed incoming request, as route handlers see it. */
export interface Rq {
  method: string;
  /** Path below the provider prefix, e.g. "/v1/me/playlists" for /spotify-api/v1/me/playlists. */
  path: string;
  url: URL;
  query: URLSearchParams;
  /** Form (application/x-www-form-urlencoded) body fields; empty for other bodies. */
  form: URLSearchParams;
  /** Raw body text. */
  body: string;
  headers: IncomingHttpHeaders;
  /** Path parameters captured by the route pattern. */
  params: string[];
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(value),
  };
}

export function html(status: number, text: string): Reply {
  return { status, headers: { "content-type": "text/html; charset=utf-8" }, body: text };
}

export function redirect(location: string): Reply {
  return { status: 302, headers: { location }, body: "" };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Reads "Authorization: Bearer x" (case-insensitive scheme). */
export function bearer(headers: IncomingHttpHeaders): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? "");
  return m?.[1]?.trim();
}

/** Reads "Authorization: Basic base64(id:secret)". */
export function basicAuth(headers: IncomingHttpHeaders): { id: string; secret: string } | undefined {
  const m = /^Basic\s+(.+)$/i.exec(headers.authorization ?? "");
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const i = decoded.indexOf(":");
  if (i < 0) return undefined;
  return { id: decoded.slice(0, i), secret: decoded.slice(i + 1) };
}

/**
 * An error in the Graph format, {"error":{"message","type":"OAuthException","code",…}}: Meta's
 * APIs answer it, and the `ig190` fault kind answers it whichever provider it is set on.
 */
export function graphError(status: number, message: string, code: number, subcode?: number, extra = {}): Reply {
  const error: Record<string, unknown> = { message, type: "OAuthException", code };
  if (subcode !== undefined) error.error_subcode = subcode;
  error.fbtrace_id = `Fake${randomBytes(6).toString("base64url")}`;
  return json(status, { error: { ...error, ...extra } });
}
