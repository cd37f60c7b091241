/**
 * Makes this process see the local system the way the emulated functions do: emulator hosts
 * (firebase-admin talks to the emulators, never to Google) and the functions' local settings
 * (functions/.env.local + .secret.local). Call before anything touches firebase-admin.
 */
import { emulatorEnv, localFunctionsEnv } from "../lib/local-env";

export function useLocalEnv(): void {
  Object.assign(process.env, emulatorEnv());
  for (const [k, v] of Object.entries(localFunctionsEnv())) {
    if (v !== undefined && process.env[k] === undefined) process.env[k] = v;
  }
  // Never let a local run pick up real credentials.
  process.env.GOOGLE_APPLICATION_CREDENTIALS = "";
}
