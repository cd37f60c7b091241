/**
 * Uploads one file of Spotify's export to the `imports` function (functions/src/imports/upload.ts),
 * through Hosting's `/api/imports/**` rewrite: start → parts (4 MiB each, one after another, each
 * retried a few times) → finish. The import itself then runs on the server; the card follows its
 * progress in Firestore.
 */
import { ApiError } from "../api";
import { type Services, appCheckToken } from "../firebase";

export interface UploadProgress {
  sent: number;
  total: number;
}

async function headers(s: Services, type: string): Promise<Record<string, string>> {
  const user = s.auth.currentUser;
  if (!user) throw new ApiError("You are signed out. Sign in again.", "unauthenticated");
  const appCheck = await appCheckToken(s);
  return {
    Authorization: `Bearer ${await user.getIdToken()}`,
    "Content-Type": type,
    ...(appCheck ? { "X-Firebase-AppCheck": appCheck } : {}),
  };
}

async function call(
  s: Services,
  method: string,
  path: string,
  body: BodyInit | undefined,
  type: string,
): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(`/api/imports${path}`, { method, headers: await headers(s, type), body });
  } catch {
    throw new ApiError("The server cannot be reached. Try again in a moment.", "network");
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const message = typeof json.message === "string" ? json.message : `The upload failed (HTTP ${res.status}).`;
    throw new ApiError(message, res.status >= 500 ? "unavailable" : `http-${res.status}`);
  }
  return json;
}

const TRIES = 3;

/** Sends one part, again after a network failure or a server error (a part overwrites itself). */
async function sendPart(s: Services, importId: string, index: number, blob: Blob): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await call(s, "PUT", `/${encodeURIComponent(importId)}/parts/${index}`, blob, "application/octet-stream");
      return;
    } catch (e) {
      const retry = e instanceof ApiError && (e.code === "network" || e.code === "unavailable");
      if (!retry || attempt >= TRIES) throw e;
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}

/**
 * Uploads `file` and queues its import; `onProgress` hears the bytes sent after each part.
 * Throws an ApiError whose message is the server's sentence (a refusal) or says what failed.
 */
export async function uploadImport(
  s: Services,
  file: File,
  minPlaySeconds: number,
  onProgress: (p: UploadProgress) => void,
): Promise<string> {
  const started = await call(
    s,
    "POST",
    "",
    JSON.stringify({ fileName: file.name, size: file.size, minPlaySeconds }),
    "application/json",
  );
  const importId = typeof started.importId === "string" ? started.importId : "";
  const partBytes = typeof started.partBytes === "number" ? started.partBytes : 0;
  if (!importId || partBytes <= 0)
    throw new ApiError("The upload could not start: the server's answer was not understood.", "malformed");
  onProgress({ sent: 0, total: file.size });
  for (let i = 0, at = 0; at < file.size; i++, at += partBytes) {
    const end = Math.min(file.size, at + partBytes);
    await sendPart(s, importId, i, file.slice(at, end));
    onProgress({ sent: end, total: file.size });
  }
  await call(s, "POST", `/${encodeURIComponent(importId)}/finish`, undefined, "application/json");
  return importId;
}
