/**
 * The bench's environment: the settings the emulated functions see (functions/.env.local +
 * .secret.local), pointed at the emulators and at a fake provider server started in this process
 * on a random loopback port. Call setupEnv() before the first use of functions/src/admin.
 */
import { SETTINGS } from "../../functions/src/config";
import { ENV_LOCAL_FILE, emulatorEnv, localFunctionsEnv, readDotenv } from "../lib/local-env";

/**
 * functions/.env.local also shortens timeouts and retry backoffs for tests. The bench measures the
 * product as deployed: every setting .env.local sets, other than the ones that point at local
 * services and fake credentials, goes back to its documented default (SETTINGS in config.ts).
 */
const LOCAL_ONLY = /^(APP_URL|OAUTH_REDIRECT_URI|RETURN_URL_ALLOWLIST|.*_CLIENT_ID|.*_BASE_URL)$/;

/** The settings the bench reset to their defaults (reported with the results). */
export const resetToDefault: Record<string, string> = {};

export function setupEnv(): void {
  const local = readDotenv(ENV_LOCAL_FILE);
  for (const [k, v] of Object.entries(localFunctionsEnv())) {
    if (v !== undefined && process.env[k] === undefined) process.env[k] = v;
  }
  Object.assign(process.env, emulatorEnv());
  for (const k of Object.keys(local)) {
    const spec = (SETTINGS as Record<string, { default?: string }>)[k];
    if (LOCAL_ONLY.test(k) || spec?.default === undefined) continue;
    process.env[k] = spec.default;
    resetToDefault[k] = spec.default;
  }
}

/** Points the provider base-URL settings at a fake provider server (before loadConfig). */
export function useFakeProviders(baseUrls: Record<string, string>): void {
  Object.assign(process.env, baseUrls);
}

export function requireEmulators(): void {
  if (!process.env.FIRESTORE_EMULATOR_HOST || !process.env.CLOUD_TASKS_EMULATOR_HOST) {
    throw new Error(
      "The bench runs inside the emulators: use `npm run bench` (it starts them), not this file directly.",
    );
  }
}

/** Bench 1's connections are due since this instant, so nothing else in the emulator is due at its clock. */
export const FANOUT_EPOCH_MS = Date.UTC(2000, 0, 1);
