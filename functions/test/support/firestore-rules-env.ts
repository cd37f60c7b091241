/**
 * A rules-unit-testing environment for firestore.rules on the Firestore emulator.
 *
 * The harness runs the Storage emulator in-process (see scripts/emulators.ts), so the emulator hub
 * does not list it while FIREBASE_STORAGE_EMULATOR_HOST is set for the Admin SDK; the library
 * would warn about that on every file. Firestore-only environments do not need the variable, so
 * it is hidden for the duration of the discovery.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type RulesTestEnvironment, initializeTestEnvironment } from "@firebase/rules-unit-testing";
import { EMULATORS, ROOT } from "../../../scripts/lib/local-env";

export async function firestoreRulesEnv(projectId: string): Promise<RulesTestEnvironment> {
  const storageHost = process.env.FIREBASE_STORAGE_EMULATOR_HOST;
  delete process.env.FIREBASE_STORAGE_EMULATOR_HOST;
  try {
    return await initializeTestEnvironment({
      projectId,
      firestore: {
        host: EMULATORS.firestore.host,
        port: EMULATORS.firestore.port,
        rules: readFileSync(join(ROOT, "firestore.rules"), "utf8"),
      },
    });
  } finally {
    if (storageHost !== undefined) process.env.FIREBASE_STORAGE_EMULATOR_HOST = storageHost;
  }
}
