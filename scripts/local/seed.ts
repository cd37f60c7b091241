/**
 * Demo people for `npm start`: Auth users with known passwords, connected to fake Spotify,
 * Instagram and YouTube accounts of different sizes, and one in trouble (its Instagram grant is revoked at
 * the fake, so its first sync ends in "needs re-auth" — the real path, not a faked status).
 *
 * Connections are written the way the OAuth callback writes them (encrypted tokens + connection
 * document in one transaction, oauth/connectionStore.ts), so they are due for sync at once.
 */
import { auth, db } from "../../functions/src/admin";
import { tokenStoreFromConfig } from "../../functions/src/crypto/tokenStore";
import { FirestoreConnectionStore } from "../../functions/src/oauth/connectionStore";
import type { Provider } from "../../functions/src/paths";
import type { FakeProviders } from "../fake-providers";

export const DEMO_PASSWORD = "demo-password";

export interface DemoPerson {
  uid: string;
  email: string;
  displayName: string;
  /** What is connected, in words, for the start screen. */
  summary: string;
  spotify?: { playlists: number; revoked?: boolean };
  instagram?: { media: number; revoked?: boolean };
  youtube?: { likedVideos: number; hasChannel?: boolean; revoked?: boolean };
}

export const DEMO_PEOPLE: DemoPerson[] = [
  {
    uid: "demo-ada",
    email: "ada@demo.test",
    displayName: "Ada",
    summary: "Spotify (8 playlists) + Instagram (12 posts) + YouTube (40 liked videos)",
    spotify: { playlists: 8 },
    instagram: { media: 12 },
    youtube: { likedVideos: 40 },
  },
  {
    uid: "demo-grace",
    email: "grace@demo.test",
    displayName: "Grace",
    summary: "Spotify (120 playlists, several pages) + Instagram (60 posts) + YouTube without a channel",
    spotify: { playlists: 120 },
    instagram: { media: 60 },
    youtube: { likedVideos: 0, hasChannel: false },
  },
  {
    uid: "demo-linus",
    email: "linus@demo.test",
    displayName: "Linus",
    summary: "Spotify (20 playlists); Instagram revoked → needs re-auth",
    spotify: { playlists: 20 },
    instagram: { media: 9, revoked: true },
  },
  {
    uid: "demo-new",
    email: "new@demo.test",
    displayName: "Newcomer",
    summary: "nothing connected yet (empty states; connect through the fake consent page)",
  },
];

async function connect(
  fake: FakeProviders,
  person: DemoPerson,
  provider: Provider,
  spec: { playlists?: number; media?: number; likedVideos?: number; hasChannel?: boolean; revoked?: boolean },
  seed: number,
): Promise<void> {
  const name = `${person.displayName.toLowerCase()}.${provider}`;
  const { id } = fake.addAccount(provider, {
    // Instagram user ids are numeric, and the fake's Graph routes (like Graph's) take only numeric
    // ids: with a readable id, the next-page link of a person with more than one page of media
    // (grace: 60 posts) answered 404. The fake picks a numeric one from the seed.
    ...(provider === "spotify" ? { id: `${person.uid}-spotify` } : {}),
    seed,
    displayName: name,
    // Spotify listens on: new plays reach recently-played while `npm start` runs (the active-
    // listener interval and the history charts have something to show).
    ...(provider === "spotify" ? { playlists: spec.playlists, listening: { playsPerHour: 12 } } : {}),
    ...(provider === "instagram" ? { media: spec.media } : {}),
    ...(provider === "youtube" ? { likedVideos: spec.likedVideos, hasChannel: spec.hasChannel ?? true } : {}),
  });
  const issued = fake.issueTokens(provider, id);
  const now = new Date();
  await new FirestoreConnectionStore(db(), tokenStoreFromConfig()).saveConnected({
    uid: person.uid,
    provider,
    tokens: {
      accessToken: issued.accessToken,
      ...(issued.refreshToken ? { refreshToken: issued.refreshToken } : {}),
      expiresAt: new Date(now.getTime() + issued.expiresIn * 1000),
      issuedAt: now,
      scopes: issued.scopes,
    },
    account: { id, displayName: name },
    scopes: issued.scopes,
    now,
  });
  if (spec.revoked) fake.revokeTokens(provider, id);
}

/** A Spotify app "of one's own" on the fake, for trying "Connect with my own app" locally. */
export interface DemoOwnApp {
  clientId: string;
  clientSecret: string;
  /** The fake account under the app's User Management: pick it on the consent page. */
  accountName: string;
}

/**
 * Registers an own Spotify app on the fake (the local redirect URI, one fake account under its
 * User Management), as a person would in Spotify's dashboard. Nobody has saved it yet: a person
 * signs up (or uses new@demo.test), pastes its client id and secret on Connections, connects with
 * their own app and picks the account on the consent page.
 */
export function seedOwnApp(fake: FakeProviders, appUrl: string): DemoOwnApp {
  const accountName = "Own-app listener";
  const { id } = fake.addAccount("spotify", { displayName: accountName, playlists: 6, seed: 4242 });
  const app = fake.createApp("spotify", {
    name: "My metrics app",
    redirectUris: [`${appUrl}/api/oauth/callback/spotify`],
    users: [id],
  });
  return { ...app, accountName };
}

/** Creates the demo people and their connections. Returns how many connections were made. */
export async function seedDemo(fake: FakeProviders, people: DemoPerson[] = DEMO_PEOPLE): Promise<number> {
  let connections = 0;
  let seed = 1;
  for (const person of people) {
    await auth().createUser({
      uid: person.uid,
      email: person.email,
      password: DEMO_PASSWORD,
      displayName: person.displayName,
      emailVerified: true,
    });
    if (person.spotify) {
      await connect(fake, person, "spotify", person.spotify, seed++);
      connections++;
    }
    if (person.instagram) {
      await connect(fake, person, "instagram", person.instagram, seed++);
      connections++;
    }
    if (person.youtube) {
      await connect(fake, person, "youtube", person.youtube, seed++);
      connections++;
    }
  }
  return connections;
}
