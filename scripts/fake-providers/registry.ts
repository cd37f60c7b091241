/**
 * Every provider's fake, by catalog id. FAKES is typed over the catalog's ids: a catalog entry
 * without a fake here (its folder `scripts/fake-providers/<id>/`) does not compile.
 */
import type { ProviderId } from "../../functions/src/providers/catalog";
import type { CommonAccountSpec } from "./data";
import type { FakeProvider } from "./fake";
import { instagramFake } from "./instagram";
import { spotifyFake } from "./spotify";
import { youtubeFake } from "./youtube";

const REGISTRY = { spotify: spotifyFake, instagram: instagramFake, youtube: youtubeFake } as const;

export const FAKES: { readonly [P in ProviderId]: FakeProvider<P> } = REGISTRY;

/** One provider's fake with its own account class and spec. */
export type FakeOf<P extends ProviderId> = (typeof REGISTRY)[P];
/** The account class of a provider's fake: `fake.account("spotify", id)` is a SpotifyAccount. */
export type AccountOf<P extends ProviderId> = ReturnType<FakeOf<P>["newAccount"]>;
export type FakeAccount = AccountOf<ProviderId>;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** What addAccount accepts: the common fields and every provider's own (each reads its own). */
export type AccountSpec = CommonAccountSpec & UnionToIntersection<Parameters<FakeOf<ProviderId>["newAccount"]>[2]>;
