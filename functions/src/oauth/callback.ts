/**
 * End of the connect flow (`GET /api/oauth/callback/{provider}`): the provider sends the browser
 * back with `code` and `state` (or `error`).
 *
 *   1. the provider comes from the path (each provider has its own redirect URI);
 *   2. the query is checked with zod (Meta's trailing `#_` is stripped);
 *   3. the state is consumed atomically (missing / unknown / expired / used / wrong provider /
 *      another browser than the one that started the flow → an error page, status 400: without a
 *      valid state there is no trusted place to go back to, and nothing is saved);
 *   4. with a valid state, every later failure (consent denied, provider error, failed exchange
 *      or identity call, storage failure) redirects to the state's return URL with
 *      `?oauth_error=<code>`;
 *   5. the code is exchanged (Instagram: short → long-lived inside the provider module), the
 *      account identified, and tokens + connection written in one transaction — refused when that
 *      provider account is connected under another person of the app (`account_in_use`);
 *   6. the first sync is enqueued (reason `connect`), so data arrives in seconds rather than at
 *      the next hourly fan-out; if enqueueing fails the connection is still due and the next
 *      fan-out picks it up, so the person is not told about it;
 *   7. 302 to the return URL with `?connected=<provider>`.
 *
 * Nothing is written before step 5 succeeds, and logs carry codes and reasons, never the code,
 * the state or a token.
 */
import { z } from "zod";
import type { Config } from "../config";
import { NotAllowedError, OwnAppRejectedError, RateLimitedError, TransientError, isAppError } from "../errors";
import { logs } from "../logs";
import type { Provider } from "../paths";
import type { ProviderAccount, ProviderApp, ProviderContext, ProviderModule, TokenSet } from "../providers/types";
import { type QueueLane, type TaskQueue, laneOf, syncTaskId } from "../sync/ports";
import { AccountInUseError, type ConnectionStore } from "./connectionStore";
import { browserHash, browserNonce } from "./browser";
import { type HttpRequest, type HttpResponse, errorPage, redirect } from "./http";
import type { StateRejection } from "./state";
import type { StateStore } from "./state";
import { providerFromPath, redirectUriFor } from "./urls";

export interface CallbackDeps {
  config: Config;
  now: () => Date;
  states: StateStore;
  connections: ConnectionStore;
  provider: (id: Provider) => ProviderModule;
  /** False when the Auth user behind the state no longer exists (deleted mid-flow). */
  userExists: (uid: string) => Promise<boolean>;
  /** The sync task queues: the first sync is enqueued right after connecting. */
  queue: TaskQueue;
  /** People's own OAuth apps (apps/store.ts): a flow started through one finishes through it. */
  apps: { load(uid: string, provider: Provider): Promise<ProviderApp | null> };
}

/** Codes put in `?oauth_error=` (the app shows a sentence for each). */
export type OAuthErrorCode =
  | "access_denied"
  | "provider_error"
  | "missing_code"
  | "exchange_failed"
  | "identify_failed"
  | "not_allowed"
  | "provider_unavailable"
  | "account_gone"
  | "account_in_use"
  | "not_registered"
  | "app_changed"
  | "app_credentials"
  | "redirect_uri"
  | "server_error";

/** Codes of the error page (no trusted return URL). */
export type CallbackPageCode =
  | "unknown_provider"
  | "invalid_request"
  | "state_missing"
  | "state_invalid"
  | "state_expired"
  | "state_used"
  | "state_wrong_provider"
  | "state_wrong_browser";

const PAGE_MESSAGES: Record<CallbackPageCode, string> = {
  unknown_provider: "This address does not name a provider the app can connect.",
  invalid_request: "The provider's reply was malformed.",
  state_missing: "The provider's reply is missing the state that ties it to your sign-in, so it cannot be trusted.",
  state_invalid: "This connect link was not issued by the app, or it was damaged on the way.",
  state_expired: "This connect link has expired: connecting must be finished within 10 minutes.",
  state_used: "This connect link was already used. Each one works once.",
  state_wrong_provider: "This connect link was issued for a different provider.",
  state_wrong_browser:
    "This connect link was started in another browser, or your browser did not keep the app's cookie. " +
    "Nothing was connected. Start connecting again from the app, in this browser.",
};

const PAGE_CODE_OF: Record<StateRejection, CallbackPageCode> = {
  missing: "state_missing",
  malformed: "state_invalid",
  unknown: "state_invalid",
  expired: "state_expired",
  used: "state_used",
  wrong_provider: "state_wrong_provider",
  wrong_browser: "state_wrong_browser",
};

/** Meta may append `#_` to the redirect; depending on the browser it ends up inside the last value. */
const stripMetaFragment = (s: string) => s.replace(/#_$/, "");

const param = (max: number) => z.string().max(max).transform(stripMetaFragment).optional();

const CallbackQuery = z.object({
  code: param(4096),
  state: param(512),
  error: param(256),
  error_reason: param(256),
  error_description: param(2048),
});

export function resultUrl(
  returnTo: string,
  result: { connected: Provider } | { error: OAuthErrorCode; provider: Provider },
) {
  const u = new URL(returnTo);
  u.searchParams.delete("connected");
  u.searchParams.delete("oauth_error");
  u.searchParams.delete("provider");
  if ("connected" in result) {
    u.searchParams.set("connected", result.connected);
  } else {
    u.searchParams.set("oauth_error", result.error);
    u.searchParams.set("provider", result.provider);
  }
  return u.toString();
}

/** Maps a provider-call failure to the code shown to the person. */
export function classifyFailure(e: unknown, stage: "exchange" | "identify"): OAuthErrorCode {
  if (e instanceof OwnAppRejectedError) {
    if (e.problem === "credentials") return "app_credentials";
    if (e.problem === "redirect_uri") return "redirect_uri";
    return "not_registered";
  }
  if (e instanceof NotAllowedError) return "not_allowed";
  if (e instanceof RateLimitedError || e instanceof TransientError) return "provider_unavailable";
  return stage === "exchange" ? "exchange_failed" : "identify_failed";
}

function errorSummary(e: unknown): Record<string, unknown> {
  return isAppError(e) ? { errorCode: e.code, errorMessage: e.message } : { error: e };
}

export async function handleCallback(deps: CallbackDeps, req: HttpRequest): Promise<HttpResponse> {
  const page = (code: CallbackPageCode) => errorPage(400, code, PAGE_MESSAGES[code], deps.config.APP_URL);
  if (req.method !== "GET" && req.method !== "POST") {
    return { ...page("invalid_request"), status: 405 };
  }
  const provider = providerFromPath(req.path);
  if (!provider) {
    logs.warn("oauth.callback.rejected", { reason: "unknown_provider" });
    return page("unknown_provider");
  }
  const parsed = CallbackQuery.safeParse(req.query);
  if (!parsed.success) {
    logs.warn("oauth.callback.rejected", { provider, reason: "invalid_request" });
    return page("invalid_request");
  }
  const q = parsed.data;
  const now = deps.now();

  let check;
  try {
    const nonce = browserNonce(req);
    check = await deps.states.consume(q.state, {
      provider,
      browserHash: nonce === undefined ? undefined : browserHash(nonce),
      now,
    });
  } catch (e) {
    logs.error("oauth.callback.state_failed", { provider, error: e });
    return {
      ...errorPage(500, "server_error", "The app could not check this sign-in; try again.", deps.config.APP_URL),
    };
  }
  if (!check.ok) {
    logs.warn("oauth.callback.rejected", { provider, reason: `state_${check.reason}`, providerError: q.error ?? null });
    return page(PAGE_CODE_OF[check.reason]);
  }
  const { uid, returnTo } = check.record;
  const fail = (error: OAuthErrorCode, fields: Record<string, unknown> = {}) => {
    logs.warn("oauth.callback.failed", { uid, provider, oauthError: error, ...fields });
    return redirect(resultUrl(returnTo, { error, provider }));
  };

  if (q.error !== undefined) {
    return fail(q.error === "access_denied" ? "access_denied" : "provider_error", {
      providerError: q.error,
      providerErrorReason: q.error_reason ?? null,
    });
  }
  if (!q.code) return fail("missing_code");

  const module = deps.provider(provider);
  // A flow started through the person's own app ends through it: the same app, still saved.
  let app: ProviderApp | undefined;
  const wanted = check.record.app?.clientId;
  if (wanted !== undefined) {
    let saved: ProviderApp | null;
    try {
      saved = await deps.apps.load(uid, provider);
    } catch (e) {
      return fail("server_error", errorSummary(e));
    }
    if (!saved || saved.clientId !== wanted) return fail("app_changed");
    app = { clientId: saved.clientId, clientSecret: saved.clientSecret };
  }
  const ctx: ProviderContext = { config: deps.config, now: deps.now, ...(app ? { app } : {}) };
  let tokens: TokenSet;
  try {
    tokens = await module.exchangeCode(ctx, { code: q.code, redirectUri: redirectUriFor(deps.config, provider) });
  } catch (e) {
    return fail(classifyFailure(e, "exchange"), errorSummary(e));
  }
  let account: ProviderAccount;
  try {
    account = await module.identify(ctx, tokens.accessToken);
  } catch (e) {
    return fail(classifyFailure(e, "identify"), errorSummary(e));
  }

  let connectedAt: Date;
  try {
    if (!(await deps.userExists(uid))) return fail("account_gone");
    const scopes = tokens.scopes.length > 0 ? tokens.scopes : [...module.scopes];
    connectedAt = deps.now();
    const { mode } = await deps.connections.saveConnected({
      uid,
      provider,
      tokens,
      account,
      scopes,
      now: connectedAt,
      app: app ? { clientId: app.clientId } : null,
    });
    logs.info("oauth.connected", {
      uid,
      provider,
      providerAccountId: account.id,
      scopes,
      reconnect: mode === "update",
      ownApp: app !== undefined,
    });
  } catch (e) {
    if (e instanceof AccountInUseError) return fail("account_in_use");
    return fail("server_error", errorSummary(e));
  }
  await enqueueFirstSync(deps.queue, uid, provider, connectedAt, laneOf({ app: app ?? null }));
  return redirect(resultUrl(returnTo, { connected: provider }));
}

/**
 * The connection was saved due at `connectedAt`; a `connect` task requested at that moment is due
 * for exactly as long as no sync has run since (runSync's lease compares the two).
 */
async function enqueueFirstSync(
  queue: TaskQueue,
  uid: string,
  provider: Provider,
  connectedAt: Date,
  lane: QueueLane,
): Promise<void> {
  const at = connectedAt.getTime();
  try {
    const r = await queue.enqueue(
      provider,
      { uid, provider, reason: "connect", requestedAt: at },
      { id: syncTaskId(uid, provider, `connect-${at}`), lane },
    );
    logs.info("oauth.first_sync_enqueued", { uid, provider, duplicate: r === "duplicate" });
  } catch (e) {
    logs.warn("oauth.first_sync_not_enqueued", { uid, provider, ...errorSummary(e) });
  }
}
