/**
 * OAuth connect triggers: thin wrappers that build the real dependencies and call oauth/.
 *
 *   oauthStart     onRequest  /api/oauth/start                (Hosting rewrite)
 *   oauthCallback  onRequest  /api/oauth/callback/{provider}  (Hosting rewrite)
 *   disconnect     onCall     { provider, deleteData? }
 *
 * Config is read inside the handlers, never at module load.
 */
import type { Request } from "firebase-functions/v2/https";
import { HttpsError, onCall, onRequest } from "firebase-functions/v2/https";
import type { Response } from "express";
import { getAppCheck } from "firebase-admin/app-check";
import { adminApp, auth, bucket, db, taskQueueService } from "../admin";
import { ALL_SECRETS, getConfig, params } from "../config";
import { ownAppStoreFromConfig } from "../apps/store";
import { tokenStoreFromConfig } from "../crypto/tokenStore";
import { InvalidInputError } from "../errors";
import { logs } from "../logs";
import { handleCallback } from "../oauth/callback";
import { FirestoreConnectionStore } from "../oauth/connectionStore";
import { FirestoreStorageEraser, disconnect as disconnectProvider, storedTokenRevoker } from "../oauth/disconnect";
import type { HttpRequest, HttpResponse } from "../oauth/http";
import { handleStart } from "../oauth/start";
import { FirestoreStateStore } from "../oauth/state";
import { getProvider } from "../providers/registry";
import { firebaseTaskQueue } from "../sync/taskQueue";
import { CALLABLE_OPTIONS, appCheckAllowed, verifiedCaller } from "../access/caller";

const now = () => new Date();

function toHttpRequest(req: Request): HttpRequest {
  return {
    method: req.method,
    path: req.path,
    query: req.query as Record<string, unknown>,
    headers: req.headers,
    body: req.body as unknown,
  };
}

function send(res: Response, out: HttpResponse): void {
  res.status(out.status);
  for (const [k, v] of Object.entries(out.headers)) res.setHeader(k, v);
  if (out.body !== undefined) res.send(out.body);
  else res.end();
}

function connectionStore() {
  return new FirestoreConnectionStore(db(), tokenStoreFromConfig());
}

/** Public HTTP endpoints, bounded like the callables: at most HTTP_MAX_INSTANCES instances. */
const HTTP_OPTIONS = { secrets: ALL_SECRETS, invoker: "public", maxInstances: params.HTTP_MAX_INSTANCES } as const;

export const oauthStart = onRequest(HTTP_OPTIONS, async (req, res) => {
  const config = getConfig();
  const out = await handleStart(
    {
      config,
      now,
      states: new FirestoreStateStore(db()),
      provider: getProvider,
      verifyIdToken: async (idToken) => {
        const decoded = await auth().verifyIdToken(idToken, true);
        return { uid: decoded.uid };
      },
      appCheck: (token) => appCheckAllowed(config, token, (t) => getAppCheck(adminApp()).verifyToken(t)),
      apps: ownAppStoreFromConfig(),
    },
    toHttpRequest(req),
  );
  send(res, out);
});

export const oauthCallback = onRequest(HTTP_OPTIONS, async (req, res) => {
  const config = getConfig();
  const out = await handleCallback(
    {
      config,
      now,
      states: new FirestoreStateStore(db()),
      connections: connectionStore(),
      provider: getProvider,
      userExists: async (uid) => {
        try {
          await auth().getUser(uid);
          return true;
        } catch (e) {
          if ((e as { code?: string }).code === "auth/user-not-found") return false;
          throw e;
        }
      },
      queue: firebaseTaskQueue(taskQueueService()),
      apps: ownAppStoreFromConfig(),
    },
    toHttpRequest(req),
  );
  send(res, out);
});

export const disconnect = onCall(CALLABLE_OPTIONS, async (request) => {
  const uid = await verifiedCaller(request, "Sign in to disconnect an account.");
  try {
    return await disconnectProvider(
      {
        now,
        connections: connectionStore(),
        eraser: new FirestoreStorageEraser(db(), bucket()),
        revoke: storedTokenRevoker({
          tokens: tokenStoreFromConfig(),
          provider: getProvider,
          context: () => ({ config: getConfig(), now }),
        }),
      },
      uid,
      request.data,
    );
  } catch (e) {
    if (e instanceof InvalidInputError) throw new HttpsError("invalid-argument", e.message);
    logs.error("oauth.disconnect.failed", { uid, error: e });
    throw new HttpsError("internal", "Could not disconnect; try again.");
  }
});
