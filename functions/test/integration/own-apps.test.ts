/**
 * People's own Spotify apps over real HTTP: the `ownApp` callable and the connect flow through
 * Hosting → Functions emulator → the fake provider server (127.0.0.1:9090, where
 * functions/.env.local points the functions, with SPOTIFY_APPS=both), and syncs through the
 * Cloud Tasks emulator. Each test uses fresh people, fake accounts and fake apps.
 */
import { Timestamp } from "firebase-admin/firestore";
import { auth, db, taskQueueService } from "../../src/admin";
import { FirestoreOwnAppStore } from "../../src/apps/store";
import { getConfig, loadConfig } from "../../src/config";
import { vaultFromConfig } from "../../src/crypto/vault";
import { firestorePaths } from "../../src/paths";
import { runFanOut } from "../../src/sync/fanOut";
import type { TaskQueue } from "../../src/sync/ports";
import { firebaseTaskQueue } from "../../src/sync/taskQueue";
import { EMULATORS, FAKE_PROVIDERS, PROJECT_ID, REGION } from "../../../scripts/lib/local-env";
import { type FakeProviders, startFakeProviders } from "../../../scripts/fake-providers";
import { connectSyncsFinished } from "../support/first-sync";
import { newSignedInPerson } from "../support/people";
import { FakeClock } from "../support/sync-fakes";
import { waitFor } from "../support/wait";

const HOSTING = `http://${EMULATORS.hosting.host}:${EMULATORS.hosting.port}`;
const FUNCTIONS = `http://${EMULATORS.functions.host}:${EMULATORS.functions.port}/${PROJECT_ID}/${REGION}`;
const APP = HOSTING;
const REDIRECT_URI = `${APP}/api/oauth/callback/spotify`;

jest.setTimeout(90_000);

let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders({ host: FAKE_PROVIDERS.host, port: FAKE_PROVIDERS.port });
});
afterAll(async () => {
  await fake?.stop();
});
afterEach(() => fake.clearFaults());

interface Person {
  uid: string;
  idToken: string;
  cookie?: string;
}

const newPerson = (): Promise<Person> => newSignedInPerson("ownapp");

async function ownApp(
  person: Person,
  data: unknown,
): Promise<{ status: number; result?: Record<string, unknown>; error?: { status: string; message: string } }> {
  const res = await fetch(`${FUNCTIONS}/ownApp`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${person.idToken}` },
    body: JSON.stringify({ data }),
  });
  const body = (await res.json()) as { result?: Record<string, unknown>; error?: { status: string; message: string } };
  return { status: res.status, ...body };
}

async function start(person: Person, body: Record<string, unknown>): Promise<Response> {
  const res = await fetch(`${HOSTING}/api/oauth/start`, {
    method: "POST",
    redirect: "manual",
    headers: {
      Origin: APP,
      "Content-Type": "application/json",
      Authorization: `Bearer ${person.idToken}`,
      ...(person.cookie ? { Cookie: person.cookie } : {}),
    },
    body: JSON.stringify({ provider: "spotify", ...body }),
  });
  const set = res.headers.get("set-cookie");
  if (set) person.cookie = set.split(";")[0]!;
  return res;
}

/** Consent on the fake (as `account`), then the browser follows the redirect back to the callback. */
async function consentAndReturn(person: Person, authorizeUrl: URL, account: string): Promise<URL> {
  const form = new URLSearchParams(authorizeUrl.searchParams);
  form.set("decision", "allow");
  form.set("account", account);
  const decided = await fetch(`${authorizeUrl.origin}${authorizeUrl.pathname}/decision`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form,
  });
  expect(decided.status).toBe(302);
  const back = await fetch(decided.headers.get("location")!, {
    redirect: "manual",
    headers: person.cookie ? { Cookie: person.cookie } : {},
  });
  expect(back.status).toBe(302);
  return new URL(back.headers.get("location")!);
}

async function authorizeUrl(person: Person, app: "own" | "shared"): Promise<URL> {
  const res = await start(person, { app });
  expect(res.status).toBe(200);
  return new URL(((await res.json()) as { authorizeUrl: string }).authorizeUrl);
}

const appDoc = (uid: string) => db().doc(firestorePaths.providerApp(uid, "spotify")).get();
const connection = (uid: string) => db().doc(firestorePaths.connection(uid, "spotify")).get();
const tokenDoc = (uid: string) => db().doc(firestorePaths.oauthToken(uid, "spotify")).get();
const apps = () => new FirestoreOwnAppStore(db(), vaultFromConfig(getConfig()));

/** A person with a fake Spotify account and their own app (with them under User Management), saved. */
async function personWithOwnApp(opts: { inUserManagement?: boolean } = {}) {
  const person = await newPerson();
  const account = fake.addAccount("spotify", { playlists: 3 });
  const app = fake.createApp("spotify", {
    redirectUris: [REDIRECT_URI],
    users: opts.inUserManagement === false ? [] : [account.id],
  });
  const saved = await ownApp(person, { action: "save", provider: "spotify", ...app });
  expect(saved.status).toBe(200);
  return { person, account, app };
}

/** Connects through the person's own app and waits for the first sync. */
async function connectOwn(person: Person, accountId: string): Promise<URL> {
  const url = await authorizeUrl(person, "own");
  const back = await consentAndReturn(person, url, accountId);
  expect(back.searchParams.get("connected")).toBe("spotify");
  await connectSyncsFinished(person.uid, "spotify", { timeoutMs: 30_000 });
  return url;
}

describe("saving an own app", () => {
  it("when a person describes Spotify, then the mode, the exact redirect URI and no app are answered", async () => {
    const person = await newPerson();
    const r = await ownApp(person, { action: "describe", provider: "spotify" });
    expect(r.result).toEqual({ mode: "both", redirectUri: REDIRECT_URI, app: null });
  });

  it("when the pair is right, then it is sealed in the vault, shown by client id only, and never returned", async () => {
    const person = await newPerson();
    const app = fake.createApp("spotify", { redirectUris: [REDIRECT_URI] });
    const saved = await ownApp(person, { action: "save", provider: "spotify", ...app });
    expect(saved.result).toMatchObject({ app: { clientId: app.clientId }, disconnected: false });
    const described = await ownApp(person, { action: "describe", provider: "spotify" });
    expect(described.result).toMatchObject({ app: { clientId: app.clientId, savedAt: expect.any(String) } });
    expect(JSON.stringify([saved, described])).not.toContain(app.clientSecret);
    const raw = (await appDoc(person.uid)).data()!;
    expect(raw.clientId).toBe(app.clientId);
    expect(JSON.stringify(raw)).not.toContain(app.clientSecret);
    expect((await apps().load(person.uid, "spotify"))?.clientSecret).toBe(app.clientSecret);
  });

  it.each([
    [
      "a wrong secret",
      { clientSecret: "0123456789abcdef0123456789abcdef" },
      "INVALID_ARGUMENT",
      /refused this client id and secret/,
    ],
    [
      "an unknown client id",
      { clientId: "ffffffffffffffffffffffffffffffff" },
      "INVALID_ARGUMENT",
      /refused this client id and secret/,
    ],
    ["a client id with spaces", { clientId: "not a client id" }, "INVALID_ARGUMENT", /not a Spotify client id/],
    ["a secret too short", { clientSecret: "abc" }, "INVALID_ARGUMENT", /not a Spotify client secret/],
  ] as const)(
    "when the person saves %s, then one sentence says what to fix and nothing is stored",
    async (_n, change, status, message) => {
      const person = await newPerson();
      const app = fake.createApp("spotify", { redirectUris: [REDIRECT_URI] });
      const r = await ownApp(person, { action: "save", provider: "spotify", ...app, ...change });
      expect(r.status).toBe(400);
      expect(r.error?.status).toBe(status);
      expect(r.error?.message).toMatch(message);
      expect(r.error?.message).not.toContain(app.clientSecret);
      expect((await appDoc(person.uid)).exists).toBe(false);
    },
  );

  it("when a second person saves an app someone else saved, then it is refused until the first removes it", async () => {
    const first = await newPerson();
    const second = await newPerson();
    const app = fake.createApp("spotify", { redirectUris: [REDIRECT_URI] });
    expect((await ownApp(first, { action: "save", provider: "spotify", ...app })).status).toBe(200);
    const refused = await ownApp(second, { action: "save", provider: "spotify", ...app });
    expect(refused.error?.status).toBe("INVALID_ARGUMENT");
    expect(refused.error?.message).toMatch(/already used by another person/);
    expect((await appDoc(second.uid)).exists).toBe(false);
    expect((await ownApp(first, { action: "remove", provider: "spotify" })).result).toMatchObject({ removed: true });
    expect((await ownApp(second, { action: "save", provider: "spotify", ...app })).status).toBe(200);
  });

  it("when the person saves an app for a provider without own apps, then it is refused", async () => {
    const person = await newPerson();
    const r = await ownApp(person, {
      action: "save",
      provider: "instagram",
      clientId: "0123456789abcdef",
      clientSecret: "0123456789abcdef",
    });
    expect(r.error?.status).toBe("FAILED_PRECONDITION");
    expect((await db().doc(firestorePaths.providerApp(person.uid, "instagram")).get()).exists).toBe(false);
  });
});

describe("connecting through an own app", () => {
  it("when the person connects with their app, then every call is made as it and the first sync stores playlists", async () => {
    const { person, account, app } = await personWithOwnApp();
    const url = await connectOwn(person, account.id);
    expect(url.searchParams.get("client_id")).toBe(app.clientId);
    expect(url.searchParams.get("redirect_uri")).toBe(REDIRECT_URI);
    const conn = (await connection(person.uid)).data()!;
    expect(conn).toMatchObject({ status: "connected", app: { clientId: app.clientId }, lastError: null });
    expect(conn.counts.playlists).toBe(3);
    // The fake accepts this person's tokens only as the app they were issued to; a refresh as
    // the operator's app is refused, so the sync above really ran as the own app.
    const refreshed = await fetch(`${fake.baseUrls.SPOTIFY_ACCOUNTS_BASE_URL}/api/token`, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Authorization: `Basic ${Buffer.from("fake-spotify-client-id:fake-spotify-client-secret").toString("base64")}`,
      },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: (await tokensOf(person.uid)).refreshToken!,
      }),
    });
    expect(refreshed.status).toBe(400);
  });

  it("when the person is not in their app's User Management, then the connect ends with not_registered and nothing is stored", async () => {
    const { person, account } = await personWithOwnApp({ inUserManagement: false });
    const back = await consentAndReturn(person, await authorizeUrl(person, "own"), account.id);
    expect(back.searchParams.get("oauth_error")).toBe("not_registered");
    expect((await tokenDoc(person.uid)).exists).toBe(false);
    expect((await connection(person.uid)).exists).toBe(false);
  });

  it("when the app lacks the redirect URI, then Spotify's page says so and nothing is stored", async () => {
    const { person, app } = await personWithOwnApp();
    fake.app("spotify", app.clientId, "setRedirectUris", [["https://elsewhere.example/callback"]]);
    const page = await fetch(await authorizeUrl(person, "own"));
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("INVALID_CLIENT: Invalid redirect URI");
    expect((await connection(person.uid)).exists).toBe(false);
  });

  it("when the secret changes at Spotify before the code is exchanged, then the connect ends with app_credentials", async () => {
    const { person, account, app } = await personWithOwnApp();
    const url = await authorizeUrl(person, "own");
    fake.app("spotify", app.clientId, "setSecret", []);
    const back = await consentAndReturn(person, url, account.id);
    expect(back.searchParams.get("oauth_error")).toBe("app_credentials");
    expect((await connection(person.uid)).exists).toBe(false);
  });

  it("when the app is replaced while the person is on Spotify's page, then the connect ends with app_changed", async () => {
    const { person, account } = await personWithOwnApp();
    const url = await authorizeUrl(person, "own");
    const other = fake.createApp("spotify", { redirectUris: [REDIRECT_URI], users: [account.id] });
    expect((await ownApp(person, { action: "save", provider: "spotify", ...other })).status).toBe(200);
    const back = await consentAndReturn(person, url, account.id);
    expect(back.searchParams.get("oauth_error")).toBe("app_changed");
    expect((await connection(person.uid)).exists).toBe(false);
  });

  it("when a person without an app asks for their own, then start refuses with no_own_app", async () => {
    const person = await newPerson();
    const res = await start(person, { app: "own" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "no_own_app", message: expect.stringMatching(/Save your own/) });
  });

  it("when the person replaces their app, then Spotify is disconnected (tokens gone, data kept); removing it disconnects too", async () => {
    const { person, account } = await personWithOwnApp();
    await connectOwn(person, account.id);
    const other = fake.createApp("spotify", { redirectUris: [REDIRECT_URI], users: [account.id] });
    const replaced = await ownApp(person, { action: "save", provider: "spotify", ...other });
    expect(replaced.result).toMatchObject({ app: { clientId: other.clientId }, disconnected: true });
    expect((await connection(person.uid)).get("status")).toBe("disconnected");
    expect((await tokenDoc(person.uid)).exists).toBe(false);
    expect(
      (
        await db()
          .doc(firestorePaths.snapshot(person.uid, "spotify", "playlists"))
          .get()
      ).exists,
    ).toBe(true);

    await connectOwn(person, account.id);
    expect((await connection(person.uid)).get("app")).toEqual({ clientId: other.clientId });
    const removed = await ownApp(person, { action: "remove", provider: "spotify" });
    expect(removed.result).toEqual({ removed: true, disconnected: true });
    expect((await appDoc(person.uid)).exists).toBe(false);
    expect((await connection(person.uid)).get("status")).toBe("disconnected");
  });

  it("when the account is deleted, then its own app goes with it", async () => {
    const { person } = await personWithOwnApp();
    await auth().deleteUser(person.uid);
    await waitFor(async () => !(await appDoc(person.uid)).exists, { timeoutMs: 30_000, what: "the app deleted" });
  });
});

async function tokensOf(uid: string) {
  const { createTokenStore } = await import("../../src/crypto/tokenStore");
  return (await createTokenStore(db(), vaultFromConfig(getConfig())).load(uid, "spotify"))!;
}

describe("two own apps and the shared app in one fan-out", () => {
  const config = loadConfig();

  /** The queue lane each uid's last task went to. */
  const lanes = new Map<string, string>();

  function recording(inner: TaskQueue, seen: string[]): TaskQueue {
    return {
      enqueue: async (provider, payload, opts) => {
        seen.push(payload.uid);
        lanes.set(payload.uid, opts.lane ?? "shared");
        return inner.enqueue(provider, payload, opts);
      },
    };
  }

  async function makeDue(uids: string[]) {
    for (const uid of uids)
      await db()
        .doc(firestorePaths.connection(uid, "spotify"))
        .update({ nextSyncAt: Timestamp.fromMillis(Date.now() - 1000) });
  }

  async function syncedSince(uids: string[], since: number) {
    await waitFor(
      async () => {
        const snaps = await db().getAll(...uids.map((u) => db().doc(firestorePaths.connection(u, "spotify"))));
        return snaps.every((s) => ((s.get("lastSyncAt") as Timestamp | null)?.toMillis() ?? 0) >= since);
      },
      { timeoutMs: 60_000, what: "the fan-out's syncs" },
    );
  }

  it("when one own app is rate-limited, then only its connection pauses; the other own app and the shared app sync", async () => {
    const a = await personWithOwnApp();
    const b = await personWithOwnApp();
    await connectOwn(a.person, a.account.id);
    await connectOwn(b.person, b.account.id);
    const shared = await newPerson();
    const sharedAccount = fake.addAccount("spotify", { playlists: 2, allowListed: true });
    const back = await consentAndReturn(shared, await authorizeUrl(shared, "shared"), sharedAccount.id);
    expect(back.searchParams.get("connected")).toBe("spotify");
    await connectSyncsFinished(shared.uid, "spotify", { timeoutMs: 30_000 });
    expect((await connection(shared.uid)).get("app")).toBeNull();
    const uids = [a.person.uid, b.person.uid, shared.uid];

    // Spotify asks a's app (only) to wait 6 hours.
    fake.fault("spotify", { kind: "429", retryAfterSeconds: 21_600, clientId: a.app.clientId });
    const pause = db().doc(firestorePaths.appState("spotify", a.app.clientId));
    try {
      await makeDue(uids);
      const t0 = Date.now();
      const seen: string[] = [];
      const queue = recording(firebaseTaskQueue(taskQueueService()), seen);
      const first = await runFanOut({ db: db(), queue, clock: new FakeClock(t0), config });
      expect(first.failed).toBe(0);
      expect(seen).toEqual(expect.arrayContaining(uids));
      // Own apps' tasks go to their own queue (syncSpotifyOwnApps), the shared app's to syncSpotify.
      expect([lanes.get(a.person.uid), lanes.get(b.person.uid), lanes.get(shared.uid)]).toEqual([
        "own",
        "own",
        "shared",
      ]);
      await syncedSince(uids, t0);

      const ca = (await connection(a.person.uid)).data()!;
      expect(ca.lastError).toMatchObject({ code: "rate_limited" });
      expect(ca.nextSyncAt.toMillis()).toBeGreaterThan(t0 + 21_000_000);
      expect((await pause.get()).get("pausedUntil").toMillis()).toBe(ca.nextSyncAt.toMillis());
      for (const uid of [b.person.uid, shared.uid])
        expect((await connection(uid)).data()).toMatchObject({ status: "connected", lastError: null });
      // The operator's app is not paused: the shared connection's budget is its own.
      expect((await db().doc(firestorePaths.providerState("spotify")).get()).exists).toBe(false);

      // The next fan-out, with all three due again: a's connection waits for its app, the others go.
      await makeDue(uids);
      const seen2: string[] = [];
      const t1 = Date.now();
      const second = await runFanOut({
        db: db(),
        queue: recording(firebaseTaskQueue(taskQueueService()), seen2),
        clock: new FakeClock(t1 + 3_600_000), // the next slot: new task ids
        config,
      });
      expect(second.skippedPaused).toBeGreaterThanOrEqual(1);
      expect(seen2).not.toContain(a.person.uid);
      expect(seen2).toEqual(expect.arrayContaining([b.person.uid, shared.uid]));
      await syncedSince([b.person.uid, shared.uid], t1);
    } finally {
      await pause.delete();
    }
  });

  it("when Spotify answers 429 QUOTA_EXCEEDED to an own app, then the connection records quota_exceeded and only that app pauses", async () => {
    const a = await personWithOwnApp();
    await connectOwn(a.person, a.account.id);
    fake.fault("spotify", { kind: "quota", retryAfterSeconds: 7_200, clientId: a.app.clientId });
    const pause = db().doc(firestorePaths.appState("spotify", a.app.clientId));
    try {
      await makeDue([a.person.uid]);
      const t0 = Date.now();
      await runFanOut({
        db: db(),
        queue: firebaseTaskQueue(taskQueueService()),
        clock: new FakeClock(t0),
        config,
      });
      await syncedSince([a.person.uid], t0);
      const conn = (await connection(a.person.uid)).data()!;
      expect(conn.lastError).toMatchObject({ code: "quota_exceeded" });
      expect(conn.rateLimitedUntil.toMillis()).toBeGreaterThan(t0 + 7_000_000);
      expect((await pause.get()).exists).toBe(true);
      expect((await db().doc(firestorePaths.providerState("spotify")).get()).exists).toBe(false);
    } finally {
      await pause.delete();
    }
  });
});
