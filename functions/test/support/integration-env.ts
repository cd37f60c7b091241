/**
 * Integration tests run inside scripts/emulators.ts. Fail fast with a clear sentence when they
 * are started without the emulators, instead of timing out against nothing.
 */
import { emulatorEnv, localFunctionsEnv } from "../../../scripts/lib/local-env";

if (!process.env.FIRESTORE_EMULATOR_HOST || !process.env.FIREBASE_AUTH_EMULATOR_HOST) {
  throw new Error(
    "Integration tests need the emulators: run `npm run test:integration` (it starts them), not jest directly.",
  );
}
// Same variables the functions see, so in-process code and emulated functions agree.
Object.assign(process.env, emulatorEnv());
for (const [k, v] of Object.entries(localFunctionsEnv())) {
  if (v !== undefined && process.env[k] === undefined) process.env[k] = v;
}
