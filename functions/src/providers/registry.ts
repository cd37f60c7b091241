/**
 * The providers the product knows. Adding one: a folder with its descriptor, schemas, mapping and
 * module, a line here, and its name in paths.ts PROVIDERS.
 */
import { InvalidInputError } from "../errors";
import type { Provider } from "../paths";
import type { ProviderDescriptor } from "./descriptor";
import { instagram } from "./instagram";
import { instagramDescriptor } from "./instagram/descriptor";
import { spotify } from "./spotify";
import { spotifyDescriptor } from "./spotify/descriptor";
import type { ProviderModule } from "./types";

export const PROVIDER_MODULES: Readonly<Record<Provider, ProviderModule>> = { spotify, instagram };

/** Each provider's descriptor (for what is read as data outside the module, e.g. download rules). */
export const PROVIDER_DESCRIPTORS: Readonly<Record<Provider, ProviderDescriptor>> = {
  spotify: spotifyDescriptor,
  instagram: instagramDescriptor,
};

export function getProvider(id: Provider): ProviderModule {
  const module = (PROVIDER_MODULES as Record<string, ProviderModule | undefined>)[id];
  if (!module) throw new InvalidInputError(`Unknown provider ${JSON.stringify(String(id).slice(0, 32))}.`);
  return module;
}
