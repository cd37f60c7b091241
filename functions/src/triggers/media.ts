/**
 * media  onRequest  GET /api/media/{uid}/…  (Hosting rewrite): a person's own Storage objects.
 * A thin wrapper over media/serve.ts with the real Auth, App Check and Storage. Revocation is
 * checked through a per-instance cache (access/caller.ts): one Auth API read per uid per minute,
 * not one per image.
 */
import { getAppCheck } from "firebase-admin/app-check";
import { onRequest } from "firebase-functions/v2/https";
import { authIdTokenVerifier } from "../access/authVerifier";
import { appCheckAllowed } from "../access/caller";
import { adminApp, bucket } from "../admin";
import { ALL_SECRETS, getConfig, params } from "../config";
import { logs } from "../logs";
import { type MediaObject, serveMedia } from "../media/serve";

/** One hour: covers and media change rarely, and their ETag revalidates cheaply. */
const MAX_AGE_SECONDS = 3600;

async function open(objectPath: string): Promise<MediaObject | null> {
  const file = bucket().file(objectPath);
  try {
    const [meta] = await file.getMetadata();
    return {
      contentType: meta.contentType,
      size: Number(meta.size ?? 0),
      etag: String(meta.generation ?? meta.md5Hash ?? meta.etag ?? "0"),
      stream: () => file.createReadStream(),
    };
  } catch (e) {
    if ((e as { code?: number }).code === 404) return null;
    throw e;
  }
}

/** Per instance: signature per request, revocation state per uid at most once a minute. */
const verifyIdToken = authIdTokenVerifier();

export const media = onRequest(
  {
    invoker: "public",
    cpu: 1,
    memory: "512MiB",
    concurrency: 80,
    maxInstances: params.HTTP_MAX_INSTANCES,
    secrets: ALL_SECRETS,
  },
  async (req, res) => {
    try {
      const config = getConfig();
      const out = await serveMedia(
        {
          verifyIdToken,
          appCheck: (token) => appCheckAllowed(config, token, (t) => getAppCheck(adminApp()).verifyToken(t)),
          open,
          maxAgeSeconds: MAX_AGE_SECONDS,
        },
        { method: req.method, path: req.path, headers: req.headers },
      );
      res.status(out.status);
      for (const [k, v] of Object.entries(out.headers)) res.setHeader(k, v);
      if (out.stream) {
        const s = out.stream();
        s.on("error", (e) => {
          logs.error("media.stream_failed", { error: e });
          res.destroy(e);
        });
        s.pipe(res);
      } else if (out.body !== undefined) res.send(out.body);
      else res.end();
    } catch (e) {
      logs.error("media.failed", { error: e });
      if (!res.headersSent) res.status(500).setHeader("Cache-Control", "no-store").send("Could not read the object.");
    }
  },
);
