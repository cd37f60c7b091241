/**
 * Serves a signed-in person's own Storage objects (mirrored covers and Instagram media) to the
 * web app: `GET /api/media/{uid}/…` behind a Hosting rewrite, with `Authorization: Bearer <ID token>`.
 *
 * Why a function and not the Storage web SDK: storage.rules cannot be evaluated by the Storage
 * emulator on offline machines, so the SDK path could not run locally; this one is the same code
 * in production and locally, and the owner check lives in tested code (paths.isOwnedObject).
 * See the README ("Images").
 */
import type { Readable } from "node:stream";
import { APP_CHECK_HEADER, APP_CHECK_REQUIRED, SESSION_ENDED, SessionEndedError } from "../access/caller";
import { InvalidInputError } from "../errors";
import { logs } from "../logs";
import { isOwnedObject } from "../paths";

export interface MediaObject {
  contentType: string | undefined;
  size: number;
  /** Changes whenever the bytes change (generation or md5). */
  etag: string;
  stream(): Readable;
}

export interface MediaDeps {
  /**
   * Firebase Auth: the uid behind a valid ID token; throws otherwise (SessionEndedError when the
   * session was revoked or the account disabled: access/caller.ts cachedIdTokenVerifier).
   */
  verifyIdToken(idToken: string): Promise<{ uid: string }>;
  /** App Check: whether the `X-Firebase-AppCheck` header value lets the request in (access/caller.ts appCheckAllowed). */
  appCheck(headerValue: string | undefined): Promise<boolean>;
  /** The object's metadata and a way to read it; null when it does not exist. */
  open(objectPath: string): Promise<MediaObject | null>;
  /** Seconds the browser may keep a response (private cache only). */
  maxAgeSeconds: number;
}

export interface MediaRequest {
  method: string;
  /** `/api/media/{uid}/…` behind Hosting, `/{uid}/…` when the function is called directly. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface MediaResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
  /** Set on 200 GET: the bytes to stream. */
  stream?: () => Readable;
}

/** Types served as themselves; anything else is sent as a download, never rendered. */
const INLINE_TYPES = new Set(["image/jpeg", "image/png", "image/webp", "image/gif", "video/mp4"]);
const BEARER = /^Bearer\s+([A-Za-z0-9._-]{1,8192})$/;
const PREFIX = "/api/media/";
/**
 * Folders under `{uid}/` whose objects live a short time (an export is deleted after a day, an
 * upload once imported): never kept by the browser, so a deleted file cannot be served from cache.
 */
const UNCACHED_FOLDERS = new Set(["exports", "imports"]);

function header(req: MediaRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function text(status: number, message: string, extra: Record<string, string> = {}): MediaResponse {
  return {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", ...extra },
    body: message,
  };
}

/** The object path named by the request path; InvalidInputError when it is not decodable. */
export function objectPathOf(path: string): string {
  const raw = path.startsWith(PREFIX) ? path.slice(PREFIX.length) : path.replace(/^\/+/, "");
  try {
    return raw.split("/").map(decodeURIComponent).join("/");
  } catch {
    throw new InvalidInputError("The media path is not valid URL encoding.");
  }
}

export async function serveMedia(deps: MediaDeps, req: MediaRequest): Promise<MediaResponse> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return text(405, "Use GET.", { Allow: "GET, HEAD" });
  }
  if (!(await deps.appCheck(header(req, APP_CHECK_HEADER)))) return text(401, APP_CHECK_REQUIRED);
  const bearer = BEARER.exec(header(req, "authorization") ?? "");
  if (!bearer) return text(401, "Sign in first: an ID token is required.", { "WWW-Authenticate": "Bearer" });
  let uid: string;
  try {
    ({ uid } = await deps.verifyIdToken(bearer[1]!));
  } catch (e) {
    if (e instanceof SessionEndedError) {
      logs.warn("media.unauthenticated", { reason: "session_ended", error: e });
      return text(401, SESSION_ENDED, { "WWW-Authenticate": "Bearer" });
    }
    logs.warn("media.unauthenticated", { reason: "invalid_id_token", error: e });
    return text(401, "The ID token is invalid or expired; sign in again.", { "WWW-Authenticate": "Bearer" });
  }

  let objectPath: string;
  try {
    objectPath = objectPathOf(req.path);
    if (!isOwnedObject(uid, objectPath)) {
      logs.warn("media.denied", { uid, reason: "not_owner" });
      return text(403, "This object belongs to someone else.");
    }
  } catch (e) {
    if (e instanceof InvalidInputError) return text(400, e.message);
    throw e;
  }

  const obj = await deps.open(objectPath);
  if (!obj) return text(404, "No such object (not synced yet, or deleted).");

  const etag = `"${obj.etag}"`;
  const type = obj.contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  const inline = INLINE_TYPES.has(type);
  const headers: Record<string, string> = {
    // Private: the browser may keep it; shared caches (Hosting's CDN) must not, it is per person.
    "Cache-Control": UNCACHED_FOLDERS.has(objectPath.split("/")[1] ?? "")
      ? "private, no-store"
      : `private, max-age=${deps.maxAgeSeconds}`,
    Vary: "Authorization",
    ETag: etag,
    "Content-Type": inline ? type : "application/octet-stream",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
  };
  if (!inline) headers["Content-Disposition"] = "attachment";
  if (header(req, "if-none-match") === etag) return { status: 304, headers };
  headers["Content-Length"] = String(obj.size);
  if (req.method === "HEAD") return { status: 200, headers };
  return { status: 200, headers, stream: obj.stream };
}
