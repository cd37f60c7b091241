/**
 * Makes functions/.secret.local hold every secret the settings declare (a development key ring and
 * the fake providers' client secrets): written when missing, completed when a secret is new.
 */
import { SECRET_FILE, ensureDevSecrets } from "./lib/local-env";

const { created, added } = ensureDevSecrets();
process.stdout.write(
  `${created ? "created" : added.length > 0 ? `added ${added.join(", ")} to` : "kept existing"} ${SECRET_FILE}\n`,
);
