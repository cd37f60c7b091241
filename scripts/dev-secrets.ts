/** Writes functions/.secret.local (a development key ring and fake client secrets) if it is missing. */
import { SECRET_FILE, ensureDevSecrets } from "./lib/local-env";

const { created } = ensureDevSecrets();
process.stdout.write(`${created ? "created" : "kept existing"} ${SECRET_FILE}\n`);
