/**
 * Every provider's web app part, by id. Typed over the catalog's ids, so a catalog entry without
 * its panels (web/src/providers/<id>/) does not compile.
 */
import type { ProviderId } from "../../../functions/src/providers/catalog";
import { instagramWeb } from "./instagram/panels";
import { spotifyWeb } from "./spotify/panels";
import type { WebProvider } from "./types";
import { youtubeWeb } from "./youtube/panels";

export const WEB_PROVIDERS: { readonly [P in ProviderId]: WebProvider<P> } = {
  spotify: spotifyWeb,
  instagram: instagramWeb,
  youtube: youtubeWeb,
};
