/**
 * Start of the connect flow (`GET|POST /api/oauth/start`).
 *
 * The signed-in person's app calls it with their Firebase ID token (`Authorization: Bearer …`),
 * the provider and an optional return path. It stores a one-time state bound to them and to this
 * browser (the `__session` cookie it sets, see browser.ts) and answers `{ authorizeUrl }` (or a
 * 302 to it with `redirect=1`); the app then sends the browser there. It must be called from the
 * app's own site (same-site fetch), or the browser does not keep the cookie and the callback
 * refuses the flow.
 */
import { z } from "zod";
import { type Config, providerSettings } from "../config";
import { APP_CHECK_HEADER, APP_CHECK_REQUIRED } from "../access/caller";
import { AppError, InvalidInputError } from "../errors";
import { logs } from "../logs";
import { PROVIDERS, type Provider } from "../paths";
import { providerName } from "../providers/catalog";
import type { ProviderApp, ProviderModule } from "../providers/types";
import { type HttpRequest, type HttpResponse, corsHeaders, header, json, redirect } from "./http";
import { browserCookie, browserHash, nonceFor } from "./browser";
import { type StateStore, TooManyPendingStatesError } from "./state";
import { redirectUriFor, resolveReturnUrl } from "./urls";

export interface StartDeps {
  config: Config;
  now: () => Date;
  states: StateStore;
  provider: (id: Provider) => ProviderModule;
  /** Firebase Auth: the uid behind a valid, unrevoked ID token; throws otherwise. */
  verifyIdToken: (idToken: string) => Promise<{ uid: string }>;
  /** App Check (access/caller.ts appCheckAllowed): whether the `X-Firebase-AppCheck` value lets the request in. */
  appCheck: (headerValue: string | undefined) => Promise<boolean>;
  /** People's own OAuth apps (apps/store.ts). */
  apps: { load(uid: string, provider: Provider): Promise<ProviderApp | null> };
}

const StartInput = z.object({
  provider: z.enum(PROVIDERS),
  returnTo: z.string().max(4096).optional(),
  redirect: z.enum(["1", "true", "0", "false"]).optional(),
  /** Through whose app: the operator's (`shared`) or the person's own (`own`); default from the provider's mode. */
  app: z.enum(["shared", "own"]).optional(),
});

/** The app asked for is not available to this person (the provider's apps mode, or no own app saved). */
export class AppChoiceError extends AppError {
  readonly action = "give_up";
  constructor(
    readonly code: "no_own_app" | "app_not_allowed",
    message: string,
  ) {
    super(message);
  }
}

/**
 * The app a connect goes through: the person's choice, or the provider's mode (catalog `ownApps`):
 * `own` when only own apps are allowed, the operator's otherwise. Null: the operator's app.
 */
export async function connectApp(
  deps: Pick<StartDeps, "config" | "apps">,
  uid: string,
  provider: Provider,
  choice: "shared" | "own" | undefined,
): Promise<ProviderApp | null> {
  const mode = providerSettings(deps.config, provider).apps;
  const name = providerName(provider);
  const want = choice ?? (mode === "own" ? "own" : "shared");
  if (want === "own" && mode === "shared")
    throw new AppChoiceError("app_not_allowed", `${name} connects through this site's app only.`);
  if (want === "shared" && mode === "own")
    throw new AppChoiceError(
      "app_not_allowed",
      `This site connects ${name} through your own ${name} app: save it on the Connections page, then connect.`,
    );
  if (want === "shared") return null;
  const app = await deps.apps.load(uid, provider);
  if (!app)
    throw new AppChoiceError("no_own_app", `Save your own ${name} app on the Connections page first, then connect.`);
  return { clientId: app.clientId, clientSecret: app.clientSecret };
}

const BEARER = /^Bearer\s+([A-Za-z0-9._-]{1,8192})$/;

/** The authorize URL for a person and provider (the state is stored before the URL is returned). */
export async function startConnect(
  deps: Omit<StartDeps, "verifyIdToken" | "appCheck">,
  args: { uid: string; provider: Provider; returnTo?: string; browserHash: string; app?: "shared" | "own" },
): Promise<{ authorizeUrl: string; returnTo: string }> {
  const returnTo = resolveReturnUrl(deps.config, args.returnTo);
  const app = await connectApp(deps, args.uid, args.provider, args.app);
  const now = deps.now();
  const { state } = await deps.states.create({
    uid: args.uid,
    provider: args.provider,
    returnTo,
    browserHash: args.browserHash,
    now,
    app: app ? { clientId: app.clientId } : null,
  });
  const authorizeUrl = deps
    .provider(args.provider)
    .authorizeUrl(
      { config: deps.config, now: deps.now, ...(app ? { app } : {}) },
      { state, redirectUri: redirectUriFor(deps.config, args.provider) },
    );
  return { authorizeUrl, returnTo };
}

function inputOf(req: HttpRequest): unknown {
  const fromQuery = req.query;
  if (req.method === "POST" && req.body && typeof req.body === "object" && !Array.isArray(req.body)) {
    return { ...fromQuery, ...(req.body as Record<string, unknown>) };
  }
  return fromQuery;
}

export async function handleStart(deps: StartDeps, req: HttpRequest): Promise<HttpResponse> {
  const origin = header(req, "origin");
  const cors = corsHeaders(deps.config, origin);
  if (req.method === "OPTIONS") {
    const allowed = "Access-Control-Allow-Origin" in cors;
    return { status: allowed ? 204 : 403, headers: cors };
  }
  if (req.method !== "GET" && req.method !== "POST") {
    return json(405, { error: "method_not_allowed", message: "Use GET or POST." }, { ...cors, Allow: "GET, POST" });
  }

  if (!(await deps.appCheck(header(req, APP_CHECK_HEADER)))) {
    return json(401, { error: "app_check_required", message: APP_CHECK_REQUIRED }, cors);
  }
  const bearer = BEARER.exec(header(req, "authorization") ?? "");
  if (!bearer) {
    logs.warn("oauth.start.unauthenticated", { reason: "no_bearer_token" });
    return json(401, { error: "unauthenticated", message: "Sign in first: an ID token is required." }, cors);
  }
  let uid: string;
  try {
    ({ uid } = await deps.verifyIdToken(bearer[1]!));
  } catch (e) {
    logs.warn("oauth.start.unauthenticated", { reason: "invalid_id_token", error: e });
    return json(401, { error: "unauthenticated", message: "The ID token is invalid or expired; sign in again." }, cors);
  }

  const parsed = StartInput.safeParse(inputOf(req));
  if (!parsed.success) {
    const field = String(parsed.error.issues[0]?.path[0] ?? "request");
    logs.warn("oauth.start.invalid", { uid, field });
    return json(
      400,
      {
        error: "invalid_request",
        message:
          field === "provider"
            ? `provider must be one of ${PROVIDERS.join(", ")}.`
            : `The parameter ${field} is invalid.`,
      },
      cors,
    );
  }
  const { provider, returnTo, redirect: wantsRedirect, app } = parsed.data;

  const nonce = nonceFor(req);
  try {
    const started = await startConnect(deps, {
      uid,
      provider,
      returnTo,
      browserHash: browserHash(nonce),
      ...(app ? { app } : {}),
    });
    logs.info("oauth.start", { uid, provider, returnOrigin: new URL(started.returnTo).origin });
    const headers = { ...cors, "Set-Cookie": browserCookie(deps.config, nonce) };
    return wantsRedirect === "1" || wantsRedirect === "true"
      ? redirect(started.authorizeUrl, headers)
      : json(200, { authorizeUrl: started.authorizeUrl }, headers);
  } catch (e) {
    if (e instanceof InvalidInputError) {
      logs.warn("oauth.start.return_url_refused", { uid, provider, reason: e.message });
      return json(400, { error: "return_url_not_allowed", message: e.message }, cors);
    }
    if (e instanceof AppChoiceError) {
      logs.warn("oauth.start.app_refused", { uid, provider, reason: e.code });
      return json(400, { error: e.code, message: e.message }, cors);
    }
    if (e instanceof TooManyPendingStatesError) {
      logs.warn("oauth.start.too_many_pending", { uid, provider });
      const retryAfter = String(Math.max(1, Math.ceil((e.retryAt.getTime() - deps.now().getTime()) / 1000)));
      return json(429, { error: "too_many_pending", message: e.message }, { ...cors, "Retry-After": retryAfter });
    }
    logs.error("oauth.start.failed", { uid, provider, error: e });
    return json(500, { error: "internal", message: "Could not start connecting; try again." }, cors);
  }
}
