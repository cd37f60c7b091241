/**
 * The bench's environment: the settings the emulated functions see (functions/.env.local +
 * .secret.local), pointed at the emulators and at a fake provider server started in this process
 * on a random loopback port. Call setupEnv() before the first use of functions/src/admin.
 */
import { emulatorEnv, localFunctionsEnv } from "../lib/local-env";

/**
 * Production defaults where functions/.env.local shortens them for tests: the bench measures the
 * product as deployed (a 30 s Retry-After is waited in place; provider calls may take 15 s).
 */
export const BENCH_SETTINGS: Record<string, string> = {
  HTTP_TIMEOUT_MS: "15000",
  RETRY_AFTER_CAP_SECONDS: "30",
};

export function setupEnv(): void {
  for (const [k, v] of Object.entries(localFunctionsEnv())) {
    if (v !== undefined && process.env[k] === undefined) process.env[k] = v;
  }
  Object.assign(process.env, emulatorEnv(), BENCH_SETTINGS);
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
