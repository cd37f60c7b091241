/**
 * The providers the product knows. Adding one: a folder with its descriptor, schemas, mapping and
 * module, a line here, and its name in paths.ts PROVIDERS.
 */
import { InvalidInputError } from "../errors";
import type { Provider } from "../paths";
import { instagram } from "./instagram";
import { spotify } from "./spotify";
import type { ProviderModule } from "./types";

export const PROVIDER_MODULES: Readonly<Record<Provider, ProviderModule>> = { spotify, instagram };

export function getProvider(id: Provider): ProviderModule {
  const module = (PROVIDER_MODULES as Record<string, ProviderModule | undefined>)[id];
  if (!module) throw new InvalidInputError(`Unknown provider ${JSON.stringify(String(id).slice(0, 32))}.`);
  return module;
}
