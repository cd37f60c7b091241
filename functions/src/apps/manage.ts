/**
 * A person's own OAuth app, managed from the Connections page (the `ownApp` callable):
 *
 *   { action: "describe", provider } → { mode, redirectUri, app: { clientId, savedAt } | null }
 *   { action: "save", provider, clientId, clientSecret } → { app: { clientId, savedAt }, disconnected }
 *   { action: "remove", provider } → { removed, disconnected }
 *
 * `save` checks the pair with the provider first (its module's `checkApp`, e.g. a
 * client-credentials grant) and stores nothing when the provider refuses it. The secret is sealed
 * by the vault (apps/store.ts) and never returned. Own apps exist only for providers whose catalog
 * entry has `ownApps`, and only while its mode setting (catalog `ownApps.setting`) is `own` or `both`.
 */
import { z } from "zod";
import { type Config, providerSettings } from "../config";
import { AppError, InvalidInputError, RateLimitedError, TransientError, isAppError } from "../errors";
import { logs } from "../logs";
import { PROVIDERS, type Provider } from "../paths";
import { type OwnAppsMode, catalogEntry, providerName } from "../providers/catalog";
import type { ProviderModule } from "../providers/types";
import { redirectUriFor } from "../oauth/urls";
import { AppInUseError, type OwnAppStore } from "./store";

export interface ManageDeps {
  config: Config;
  now: () => Date;
  apps: OwnAppStore;
  provider: (id: Provider) => ProviderModule;
}

const provider = z.enum(PROVIDERS);
/** Client ids are printable tokens (often 32 hexadecimal characters). */
const CLIENT_ID = /^[A-Za-z0-9._-]{8,128}$/;
/** Secrets: printable ASCII without spaces. */
const CLIENT_SECRET = /^[\x21-\x7e]{8,256}$/;

const ManageInput = z.discriminatedUnion("action", [
  z.object({ action: z.literal("describe"), provider }).strict(),
  z
    .object({
      action: z.literal("save"),
      provider,
      clientId: z
        .string()
        .max(512)
        .transform((s) => s.trim()),
      clientSecret: z
        .string()
        .max(1024)
        .transform((s) => s.trim()),
    })
    .strict(),
  z.object({ action: z.literal("remove"), provider }).strict(),
]);

/** Own apps are off for this provider (the operator's mode setting, or the provider has none). */
export class OwnAppsOffError extends AppError {
  readonly code = "own_apps_off";
  readonly action = "give_up";
}

/** The provider could not be asked about the app (unavailable, rate limited): nothing was stored. */
export class AppCheckUnavailableError extends AppError {
  readonly code = "app_check_unavailable";
  readonly action = "retry";
}

export interface OwnAppView {
  clientId: string;
  savedAt: string;
}

export type ManageResult =
  | { mode: OwnAppsMode; redirectUri: string; app: OwnAppView | null }
  | { app: OwnAppView; disconnected: boolean }
  | { removed: boolean; disconnected: boolean };

function inputError(error: z.ZodError): InvalidInputError {
  const field = String(error.issues[0]?.path[0] ?? "request");
  if (field === "provider") return new InvalidInputError(`provider must be one of ${PROVIDERS.join(", ")}.`);
  if (field === "action") return new InvalidInputError('action must be "describe", "save" or "remove".');
  return new InvalidInputError(`The field ${field} is missing or not text.`);
}

function view(app: { clientId: string; savedAt: Date }): OwnAppView {
  return { clientId: app.clientId, savedAt: app.savedAt.toISOString() };
}

export async function manageOwnApp(deps: ManageDeps, uid: string, input: unknown): Promise<ManageResult> {
  const parsed = ManageInput.safeParse(input);
  if (!parsed.success) throw inputError(parsed.error);
  const req = parsed.data;
  const p = req.provider;
  const name = providerName(p);
  const mode = providerSettings(deps.config, p).apps;

  if (req.action === "describe") {
    const info = catalogEntry(p).ownApps ? await deps.apps.info(uid, p) : null;
    return { mode, redirectUri: redirectUriFor(deps.config, p), app: info ? view(info) : null };
  }
  if (req.action === "remove") {
    // Always allowed: a person may take their app away even after the operator switched own apps off.
    const r = await deps.apps.remove(uid, p, deps.now());
    logs.info("apps.removed", { uid, provider: p, removed: r.removed, disconnected: r.disconnected });
    return r;
  }

  const module = deps.provider(p);
  if (!catalogEntry(p).ownApps || !module.checkApp)
    throw new OwnAppsOffError(`${name} connects through this site's app only.`);
  if (mode === "shared") throw new OwnAppsOffError(`This site connects ${name} through its own app only.`);
  if (!CLIENT_ID.test(req.clientId))
    throw new InvalidInputError(
      `That is not a ${name} client id: copy the Client ID from your app's Settings (letters and digits).`,
    );
  if (!CLIENT_SECRET.test(req.clientSecret))
    throw new InvalidInputError(
      `That is not a ${name} client secret: copy the Client secret from your app's Settings ("View client secret").`,
    );
  const app = { clientId: req.clientId, clientSecret: req.clientSecret };
  try {
    await module.checkApp({ config: deps.config, now: deps.now }, app);
  } catch (e) {
    if (e instanceof InvalidInputError) {
      logs.warn("apps.check_refused", { uid, provider: p });
      throw e;
    }
    logs.warn("apps.check_failed", { uid, provider: p, error: isAppError(e) ? e.code : "unexpected" });
    if (e instanceof RateLimitedError || e instanceof TransientError || !isAppError(e))
      throw new AppCheckUnavailableError(
        `${name} could not be asked about this app right now; nothing was saved. Try again in a moment.`,
        { cause: e },
      );
    throw new InvalidInputError(`${name} did not accept this app; nothing was saved. Check the client id and secret.`, {
      cause: e,
    });
  }
  const now = deps.now();
  let saved: { disconnected: boolean; savedAt: Date };
  try {
    saved = await deps.apps.save(uid, p, app, now);
  } catch (e) {
    if (!(e instanceof AppInUseError)) throw e;
    logs.warn("apps.in_use", { uid, provider: p });
    throw new InvalidInputError(
      `This ${name} app is already used by another person of this site: each person registers their own app and uses it only for themselves.`,
    );
  }
  logs.info("apps.saved", { uid, provider: p, disconnected: saved.disconnected });
  return { app: view({ clientId: app.clientId, savedAt: saved.savedAt }), disconnected: saved.disconnected };
}
