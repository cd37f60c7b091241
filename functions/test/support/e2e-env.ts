/**
 * Browser tests run inside the local system (`npm run test:e2e` starts it the way `npm start`
 * does). Fail fast, with one sentence, when the system or the browser is missing.
 */
import { existsSync } from "node:fs";
import { CHROMIUM } from "./browser";

if (!process.env.LOCAL_SYSTEM || !process.env.FIRESTORE_EMULATOR_HOST) {
  throw new Error("Browser tests need the local system: run `npm run test:e2e` (it starts it), not jest directly.");
}
if (!existsSync(CHROMIUM)) {
  throw new Error(
    `Browser tests need Chromium at ${CHROMIUM}, and it is missing: install it (Debian: apt-get install chromium; .ci/run does this).`,
  );
}
