/**
 * The server side of each provider of the catalog (catalog.ts): its module (OAuth, refresh, the
 * sync's fetch) and its descriptor. Both maps are typed over the catalog's ids, so a catalog entry
 * without its folder here does not compile. Adding a provider: CONTRIBUTING.md, "Adding a provider".
 */
import { InvalidInputError } from "../errors";
import type { ProviderId } from "./catalog";
import type { ProviderDescriptor } from "./descriptor";
import { instagram } from "./instagram";
import { instagramDescriptor } from "./instagram/descriptor";
import { spotify } from "./spotify";
import { spotifyDescriptor } from "./spotify/descriptor";
import type { ProviderModule } from "./types";
import { youtube } from "./youtube";
import { youtubeDescriptor } from "./youtube/descriptor";

export const PROVIDER_MODULES: { readonly [P in ProviderId]: ProviderModule } = { spotify, instagram, youtube };

/** Each provider's descriptor (for what is read as data outside the module, e.g. download rules). */
export const PROVIDER_DESCRIPTORS: { readonly [P in ProviderId]: ProviderDescriptor } = {
  spotify: spotifyDescriptor,
  instagram: instagramDescriptor,
  youtube: youtubeDescriptor,
};

export function getProvider(id: ProviderId): ProviderModule {
  const module = (PROVIDER_MODULES as Record<string, ProviderModule | undefined>)[id];
  if (!module) throw new InvalidInputError(`Unknown provider ${JSON.stringify(String(id).slice(0, 32))}.`);
  return module;
}
