/**
 * A value for every secret setting, for tests that build a config with loadConfig(): taken from
 * config.ts (`localSecrets`), so a provider added to the catalog brings its secret along and no
 * test copies the list of secrets by hand.
 */
import { localSecrets } from "../../src/config";

/** Every secret, with TOKEN_ENCRYPTION_KEYS = `keyRing` (default: one fixed 32-byte key, id "k1"). */
export function testSecrets(keyRing = `k1:${Buffer.alloc(32, 7).toString("base64")}`): Record<string, string> {
  return { ...localSecrets(() => Buffer.alloc(32, 7).toString("base64")), TOKEN_ENCRYPTION_KEYS: keyRing };
}
