/**
 * The backend calls the app makes: OAuth start (HTTPS via Hosting), Sync now, Disconnect and a
 * person's own provider app (callables).
 */
import { FirebaseError } from "firebase/app";
import { httpsCallable } from "firebase/functions";
import type { ProviderId } from "../../functions/src/providers/catalog";
import { isObj, isoDate, str } from "./fields";
import { type Services, appCheckToken } from "./firebase";

export type { ProviderId };

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    /** When the server says "not before T" (cooldown, rate limit, error backoff). */
    readonly retryAt: Date | null = null,
    /** The server's reason for a refusal, e.g. Sync now's "cooldown" | "rate_limited" | "backoff". */
    readonly reason: string | null = null,
  ) {
    super(message);
  }
}

async function idToken(s: Services): Promise<string> {
  const user = s.auth.currentUser;
  if (!user) throw new ApiError("You are signed out. Sign in again.", "unauthenticated");
  return user.getIdToken();
}

/**
 * Starts connecting a provider: the function stores a one-time state and answers the provider's
 * consent URL; the caller sends the browser there. The provider comes back to the callback, which
 * sends the browser back to `returnTo` on this app. `app` picks whose provider app to connect
 * through (the site's shared one or the person's own); absent, the server picks by its setting.
 */
export async function startConnect(
  s: Services,
  provider: ProviderId,
  returnTo: string,
  app?: AppChoice,
): Promise<string> {
  let res: Response;
  const appCheck = await appCheckToken(s);
  try {
    res = await fetch("/api/oauth/start", {
      method: "POST",
      headers: {
        Authorization: `Bearer ${await idToken(s)}`,
        "Content-Type": "application/json",
        ...(appCheck ? { "X-Firebase-AppCheck": appCheck } : {}),
      },
      body: JSON.stringify(app ? { provider, returnTo, app } : { provider, returnTo }),
    });
  } catch {
    throw new ApiError("The server cannot be reached. Try again in a moment.", "network");
  }
  const body = (await res.json().catch(() => ({}))) as { authorizeUrl?: string; message?: string; error?: string };
  if (!res.ok || !body.authorizeUrl) {
    throw new ApiError(body.message ?? `Connecting could not start (HTTP ${res.status}).`, body.error ?? "http");
  }
  return body.authorizeUrl;
}

function retryAtOf(details: unknown): Date | null {
  if (!details || typeof details !== "object") return null;
  const d = details as Record<string, unknown>;
  const raw = d.retryAt ?? d.nextAllowedAt ?? d.availableAt;
  if (typeof raw === "string" || typeof raw === "number") {
    const at = new Date(raw);
    return Number.isNaN(at.getTime()) ? null : at;
  }
  return null;
}

function callableError(e: unknown, what: string): ApiError {
  if (e instanceof FirebaseError) {
    const code = e.code.replace(/^functions\//, "");
    const details = (e as FirebaseError & { details?: unknown }).details;
    if (code === "unavailable" || code === "internal") {
      return new ApiError(`${what} failed: the server is unavailable. Try again in a moment.`, code);
    }
    const reason = details && typeof details === "object" ? (details as { reason?: unknown }).reason : undefined;
    return new ApiError(
      e.message || `${what} failed.`,
      code,
      retryAtOf(details),
      typeof reason === "string" ? reason : null,
    );
  }
  return new ApiError(`${what} failed.`, "unknown");
}

export interface SyncNowResult {
  /** What the server said, in words. */
  message: string;
  /** When the next manual sync is allowed. */
  nextAllowedAt: Date | null;
}

export async function syncNow(s: Services, provider: ProviderId): Promise<SyncNowResult> {
  try {
    const res = await httpsCallable(s.functions, "syncNow")({ provider });
    const data = (res.data ?? {}) as Record<string, unknown>;
    return {
      message: typeof data.message === "string" ? data.message : "Sync started.",
      nextAllowedAt: retryAtOf(data),
    };
  } catch (e) {
    throw callableError(e, "Sync now");
  }
}

/**
 * Deletes plays of the person's listening history (the `eraseHistory` callable): a date range
 * ("YYYY-MM-DD", both days included, in their time zone), an artist, or both. A refusal is an
 * ApiError whose message is the server's sentence.
 */
export async function eraseHistory(
  s: Services,
  provider: ProviderId,
  choice: { from?: string; to?: string; artistId?: string },
): Promise<{ deleted: number; months: string[] }> {
  let data: unknown;
  try {
    data = (await httpsCallable(s.functions, "eraseHistory")({ provider, ...choice })).data;
  } catch (e) {
    throw callableError(e, "Deleting");
  }
  const d = isObj(data) ? data : {};
  if (typeof d.deleted !== "number")
    throw new ApiError("Deleting: the server's answer was not understood.", "malformed");
  return { deleted: d.deleted, months: Array.isArray(d.months) ? d.months.filter((m) => typeof m === "string") : [] };
}

export async function disconnect(s: Services, provider: ProviderId, deleteData: boolean): Promise<void> {
  try {
    await httpsCallable(s.functions, "disconnect")({ provider, deleteData });
  } catch (e) {
    throw callableError(e, "Disconnecting");
  }
}

/** Whose provider app a connection goes through: the site's shared one, or the person's own. */
export type AppChoice = "shared" | "own";

/** Which apps the server offers for a provider (the provider's `…_APPS` setting). */
export type OwnAppMode = "shared" | "own" | "both";

/** A person's own provider app as the server describes it (the secret never comes back). */
export interface OwnApp {
  clientId: string;
  savedAt: Date | null;
}

export interface OwnAppDescription {
  mode: OwnAppMode;
  /** The exact redirect URI the person's app must list. */
  redirectUri: string;
  app: OwnApp | null;
}

function readOwnApp(v: unknown): OwnApp | null {
  if (!isObj(v)) return null;
  const clientId = str(v.clientId);
  return clientId ? { clientId, savedAt: isoDate(v.savedAt) } : null;
}

/** Reads `ownApp`'s describe answer defensively; an unknown mode reads as `shared` (nothing offered). */
export function readOwnAppDescription(data: unknown): OwnAppDescription {
  const d = isObj(data) ? data : {};
  const mode = d.mode === "own" || d.mode === "both" ? d.mode : "shared";
  return { mode, redirectUri: str(d.redirectUri) ?? "", app: readOwnApp(d.app) };
}

async function ownAppCall(s: Services, input: Record<string, unknown>, what: string): Promise<unknown> {
  try {
    return (await httpsCallable(s.functions, "ownApp")(input)).data;
  } catch (e) {
    throw callableError(e, what);
  }
}

/** Which apps the server offers for `provider`, its redirect URI and the person's saved app. */
export async function describeOwnApp(s: Services, provider: ProviderId): Promise<OwnAppDescription> {
  return readOwnAppDescription(await ownAppCall(s, { action: "describe", provider }, "Loading your own app"));
}

/**
 * Saves the person's own app (the server checks the pair with the provider first). A refusal is
 * an ApiError whose message is the server's sentence, meant to be shown as is. `disconnected`:
 * saving a different app disconnected the provider (its data kept).
 */
export async function saveOwnApp(
  s: Services,
  provider: ProviderId,
  clientId: string,
  clientSecret: string,
): Promise<{ app: OwnApp; disconnected: boolean }> {
  const data = await ownAppCall(s, { action: "save", provider, clientId, clientSecret }, "Saving your app");
  const app = readOwnApp(isObj(data) ? data.app : null);
  if (!app) throw new ApiError("Saving your app failed: the server's answer was not understood.", "malformed");
  return { app, disconnected: isObj(data) && data.disconnected === true };
}

/**
 * Removes the person's own app; `disconnected`: the provider was connected through it, and is
 * disconnected now (its data kept).
 */
export async function removeOwnApp(
  s: Services,
  provider: ProviderId,
): Promise<{ removed: boolean; disconnected: boolean }> {
  const data = await ownAppCall(s, { action: "remove", provider }, "Removing your app");
  const d = isObj(data) ? data : {};
  return { removed: d.removed === true, disconnected: d.disconnected === true };
}

/**
 * The `operator` callable (people with the `admin` claim only): the overview as the server sends
 * it (functions/src/operator/overview.ts; read defensively by web/src/views/operator.ts), or lifting a
 * provider's pause. A refusal is an ApiError with the server's sentence (permission-denied for
 * someone who is not an operator).
 */
export async function operatorCall(
  s: Services,
  input: { action: "overview" } | { action: "liftPause"; provider: ProviderId; clientId?: string },
): Promise<unknown> {
  try {
    return (await httpsCallable(s.functions, "operator", { timeout: 120_000 })(input)).data;
  } catch (e) {
    throw callableError(e, input.action === "overview" ? "Loading the operator view" : "Lifting the pause");
  }
}
