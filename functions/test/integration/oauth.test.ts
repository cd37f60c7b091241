/**
 * The whole connect flow over real HTTP: Hosting rewrites → Functions emulator → the fake provider
 * server (started here on 127.0.0.1:9090, where functions/.env.local points the functions) →
 * Firestore / Storage emulators. No browser: the consent form is POSTed directly.
 */
import { randomBytes } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { bucket, db } from "../../src/admin";
import { getConfig } from "../../src/config";
import { createTokenStore } from "../../src/crypto/tokenStore";
import { vaultFromConfig } from "../../src/crypto/vault";
import { stateId } from "../../src/oauth/state";
import { type Provider, firestorePaths, storagePaths } from "../../src/paths";
import { EMULATORS, FAKE_PROVIDERS, PROJECT_ID, REGION } from "../../../scripts/lib/local-env";
import { type FakeProviders, startFakeProviders } from "../../../scripts/fake-providers";
import { connectSyncsFinished } from "../support/first-sync";
import { newSignedInPerson } from "../support/people";

const HOSTING = `http://${EMULATORS.hosting.host}:${EMULATORS.hosting.port}`;
const FUNCTIONS = `http://${EMULATORS.functions.host}:${EMULATORS.functions.port}/${PROJECT_ID}/${REGION}`;
const APP = HOSTING; // APP_URL in functions/.env.local

// jest ignores `testTimeout` inside a project entry; the first call cold-starts the functions.
jest.setTimeout(60_000);

let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders({ host: FAKE_PROVIDERS.host, port: FAKE_PROVIDERS.port });
});

afterAll(async () => {
  await fake?.stop();
});

afterEach(() => fake.clearFaults());

// --- helpers ----------------------------------------------------------------------------------

interface Person {
  uid: string;
  idToken: string;
  /** The person's browser: the `__session` cookie the app's start call set (sent back to the callback). */
  cookie?: string;
}

const newPerson = (): Promise<Person> => newSignedInPerson("oauth");

async function start(
  person: Person | undefined,
  provider: string,
  opts: { returnTo?: string; redirect?: boolean } = {},
): Promise<Response> {
  const u = new URL(`${HOSTING}/api/oauth/start`);
  u.searchParams.set("provider", provider);
  if (opts.returnTo !== undefined) u.searchParams.set("returnTo", opts.returnTo);
  if (opts.redirect) u.searchParams.set("redirect", "1");
  const res = await fetch(u, {
    redirect: "manual",
    headers: {
      Origin: APP,
      ...(person ? { Authorization: `Bearer ${person.idToken}` } : {}),
      ...(person?.cookie ? { Cookie: person.cookie } : {}),
    },
  });
  // Keep what a browser keeps: the cookie's name=value (its attributes stay with the browser).
  const set = res.headers.get("set-cookie");
  if (person && set) person.cookie = set.split(";")[0]!;
  return res;
}

async function authorizeUrlFor(person: Person, provider: Provider, returnTo?: string): Promise<URL> {
  const res = await start(person, provider, { returnTo });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { authorizeUrl: string };
  return new URL(body.authorizeUrl);
}

/** GETs the consent page (it must render the form), then POSTs the decision like the browser would. */
async function consent(authorizeUrl: URL, decision: "allow" | "deny", account = "new"): Promise<URL> {
  const page = await fetch(authorizeUrl);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('name="decision"');
  const form = new URLSearchParams(authorizeUrl.searchParams);
  form.set("decision", decision);
  form.set("account", account);
  const res = await fetch(`${authorizeUrl.origin}${authorizeUrl.pathname}/decision`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form,
  });
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location")!);
}

/** The browser of `from` following the provider's redirect back to the callback (with its cookie). */
async function follow(
  url: URL | string,
  from: Person | null,
): Promise<{ status: number; location: URL | null; body: string }> {
  const res = await fetch(url, { redirect: "manual", headers: from?.cookie ? { Cookie: from.cookie } : {} });
  const location = res.headers.get("location");
  return { status: res.status, location: location ? new URL(location) : null, body: await res.text() };
}

async function tokenDoc(uid: string, provider: Provider) {
  return db().doc(firestorePaths.oauthToken(uid, provider)).get();
}
async function connectionDoc(uid: string, provider: Provider) {
  return db().doc(firestorePaths.connection(uid, provider)).get();
}

async function expectNothingStored(uid: string, provider: Provider) {
  expect((await tokenDoc(uid, provider)).exists).toBe(false);
  expect((await connectionDoc(uid, provider)).exists).toBe(false);
}

/** The first syncs the callback started for (uid, provider), once `n` have finished. */
const firstSyncs = (uid: string, provider: Provider, n = 1) =>
  connectSyncsFinished(uid, provider, { n, timeoutMs: 30_000 });

/** Connects `provider` for `person` all the way, and waits for the first sync it starts. */
async function connect(person: Person, provider: Provider, returnTo?: string) {
  const account = fake.addAccount(provider, { allowListed: true });
  const authorizeUrl = await authorizeUrlFor(person, provider, returnTo);
  const callback = await consent(authorizeUrl, "allow", account.id);
  const connectedBy = Date.now();
  const res = await follow(callback, person);
  const syncs = res.status === 302 ? await firstSyncs(person.uid, provider) : [];
  return { account, authorizeUrl, callback, res, connectedBy, syncs };
}

async function callDisconnect(person: Person | undefined, data: unknown) {
  const res = await fetch(`${FUNCTIONS}/disconnect`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(person ? { Authorization: `Bearer ${person.idToken}` } : {}),
    },
    body: JSON.stringify({ data }),
  });
  return {
    status: res.status,
    body: (await res.json()) as { result?: Record<string, unknown>; error?: { status: string } },
  };
}

const tokens = () => createTokenStore(db(), vaultFromConfig(getConfig()));

// --- the happy path -----------------------------------------------------------------------------

describe("connecting an account", () => {
  it.each(["spotify", "instagram"] as const)(
    "when a signed-in person connects %s, then encrypted tokens and a connection are stored, the first sync runs at once, and they return with ?connected",
    async (provider) => {
      const person = await newPerson();
      const { account, authorizeUrl, callback, res, connectedBy, syncs } = await connect(
        person,
        provider,
        "/settings?tab=accounts",
      );

      // The authorize URL goes to the fake provider with this provider's own redirect URI.
      expect(authorizeUrl.origin).toBe(`http://${FAKE_PROVIDERS.host}:${FAKE_PROVIDERS.port}`);
      expect(authorizeUrl.searchParams.get("redirect_uri")).toBe(`${APP}/api/oauth/callback/${provider}`);
      expect(callback.pathname).toBe(`/api/oauth/callback/${provider}`);

      expect(res.status).toBe(302);
      expect(res.location?.toString()).toBe(`${APP}/settings?tab=accounts&connected=${provider}`);

      // The state is stored hashed only, and now used.
      const state = authorizeUrl.searchParams.get("state")!;
      const stateSnap = await db()
        .doc(firestorePaths.oauthState(stateId(state)))
        .get();
      expect(stateSnap.data()).toMatchObject({ uid: person.uid, provider });
      expect(stateSnap.get("consumedAt")).toBeInstanceOf(Timestamp);
      expect(JSON.stringify(stateSnap.data())).not.toContain(state);

      // Tokens: encrypted at rest, decryptable through the vault, and really the provider's tokens.
      const snap = await tokenDoc(person.uid, provider);
      expect(snap.exists).toBe(true);
      const stored = tokens().fromDoc(person.uid, provider, snap.data());
      expect(stored.accessToken.length).toBeGreaterThan(10);
      const raw = JSON.stringify(snap.data());
      expect(raw).not.toContain(stored.accessToken);
      if (stored.refreshToken) expect(raw).not.toContain(stored.refreshToken);
      // The decrypted access token is the one the provider issued: its API accepts it for this account.
      const me = await fetch(
        provider === "spotify"
          ? `${fake.baseUrls.SPOTIFY_API_BASE_URL}/v1/me`
          : `${fake.baseUrls.INSTAGRAM_GRAPH_BASE_URL}/me?fields=user_id`,
        { headers: { Authorization: `Bearer ${stored.accessToken}` } },
      );
      expect(me.status).toBe(200);
      const meBody = (await me.json()) as { id?: string; user_id?: string };
      expect(provider === "spotify" ? meBody.id : meBody.user_id).toBe(account.id);
      if (provider === "spotify") expect(stored.refreshToken).toBeTruthy();
      else expect(stored.expiresAt.getTime() - Date.now()).toBeGreaterThan(50 * 24 * 3600_000); // long-lived

      // The connection: connected, with the account and scopes, and synced once by the first
      // sync the callback enqueued (not by the hourly fan-out): next due at the next slot.
      const conn = (await connectionDoc(person.uid, provider)).data()!;
      expect(conn).toMatchObject({
        uid: person.uid,
        provider,
        status: "connected",
        lastError: null,
        consecutiveFailures: 0,
      });
      expect(conn.providerAccountId).toBe(account.id); // Instagram: user_id, which the fake sets to its account id
      expect(conn.scopes.length).toBeGreaterThan(0);
      expect(syncs).toHaveLength(1);
      expect(syncs[0]).toMatchObject({ outcome: "success", reason: "connect" });
      expect((syncs[0]!.startedAt as Timestamp).toMillis()).toBeGreaterThanOrEqual(connectedBy - 1000);
      expect((conn.lastSuccessAt as Timestamp).toMillis()).toBe((syncs[0]!.finishedAt as Timestamp).toMillis());
      expect((conn.nextSyncAt as Timestamp).toMillis()).toBeGreaterThan(Date.now());
      const profile = await db()
        .doc(firestorePaths.snapshot(person.uid, provider, "profile"))
        .get();
      expect(profile.exists).toBe(true);
    },
  );

  it("when start is called with redirect=1, then it answers 302 to the provider's authorize page", async () => {
    const person = await newPerson();
    const res = await start(person, "spotify", { redirect: true });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toMatch(/^http:\/\/127\.0\.0\.1:9090\/spotify-accounts\/authorize\?/);
  });

  it("when the app's origin sends a CORS preflight to start, then Authorization is allowed for it", async () => {
    const res = await fetch(`${HOSTING}/api/oauth/start`, {
      method: "OPTIONS",
      headers: {
        Origin: APP,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-headers")).toMatch(/Authorization/i);
  });

  it("when a person reconnects after an error, then the tokens are replaced, the error state reset, and a first sync runs again", async () => {
    const person = await newPerson();
    const account = fake.addAccount("spotify", { allowListed: true });
    const first = await follow(await consent(await authorizeUrlFor(person, "spotify"), "allow", account.id), person);
    expect(first.status).toBe(302);
    await firstSyncs(person.uid, "spotify", 1);
    const oldTokens = tokens().fromDoc(person.uid, "spotify", (await tokenDoc(person.uid, "spotify")).data());
    await db()
      .doc(firestorePaths.connection(person.uid, "spotify"))
      .update({
        status: "needs_reauth",
        reauthReason: "revoked",
        consecutiveFailures: 5,
        lastError: { code: "needs_reauth", message: "revoked", at: Timestamp.now() },
        lastManualSyncAt: Timestamp.fromMillis(1_700_000_000_000),
        nextSyncAt: Timestamp.fromMillis(Date.now() + 86_400_000),
      });

    const reconnectedBy = Date.now();
    const again = await follow(await consent(await authorizeUrlFor(person, "spotify"), "allow", account.id), person);
    expect(again.location?.searchParams.get("connected")).toBe("spotify");
    const newTokens = tokens().fromDoc(person.uid, "spotify", (await tokenDoc(person.uid, "spotify")).data());
    expect(newTokens.accessToken).not.toBe(oldTokens.accessToken);
    const syncs = await firstSyncs(person.uid, "spotify", 2);
    expect(syncs[1]).toMatchObject({ outcome: "success", reason: "connect" });
    const conn = (await connectionDoc(person.uid, "spotify")).data()!;
    expect(conn).toMatchObject({ status: "connected", reauthReason: null, consecutiveFailures: 0, lastError: null });
    expect((conn.lastManualSyncAt as Timestamp).toMillis()).toBe(1_700_000_000_000); // history kept
    // The day-long wait set with the error did not survive the reconnect: it synced right away.
    expect((conn.lastSuccessAt as Timestamp).toMillis()).toBeGreaterThanOrEqual(reconnectedBy - 1000);
    expect((conn.nextSyncAt as Timestamp).toMillis()).toBeLessThan(reconnectedBy + 86_400_000);
  });
});

// --- failures -----------------------------------------------------------------------------------

describe("a connect attempt that fails stores nothing", () => {
  it.each(["spotify", "instagram"] as const)(
    "when the person denies consent on %s, then they return with oauth_error=access_denied",
    async (provider) => {
      const person = await newPerson();
      const res = await follow(await consent(await authorizeUrlFor(person, provider, "/settings"), "deny"), person);
      expect(res.status).toBe(302);
      expect(res.location?.pathname).toBe("/settings");
      expect(res.location?.searchParams.get("oauth_error")).toBe("access_denied");
      expect(res.location?.searchParams.get("connected")).toBeNull();
      await expectNothingStored(person.uid, provider);
    },
  );

  it("when the callback has no state, then an error page (400) says so", async () => {
    const person = await newPerson();
    const callback = await consent(await authorizeUrlFor(person, "spotify"), "allow");
    callback.searchParams.delete("state");
    const res = await follow(callback, person);
    expect(res.status).toBe(400);
    expect(res.body).toContain("state_missing");
    await expectNothingStored(person.uid, "spotify");
  });

  it("when the callback's state was never issued, then an error page (400) says so", async () => {
    const person = await newPerson();
    const callback = await consent(await authorizeUrlFor(person, "spotify"), "allow");
    callback.searchParams.set("state", randomBytes(32).toString("base64url"));
    const res = await follow(callback, person);
    expect(res.status).toBe(400);
    expect(res.body).toContain("state_invalid");
    await expectNothingStored(person.uid, "spotify");
  });

  it("when a state already used by a denied attempt is replayed with a fresh code, then it is refused", async () => {
    const person = await newPerson();
    const authorizeUrl = await authorizeUrlFor(person, "instagram");
    const denied = await follow(await consent(authorizeUrl, "deny"), person);
    expect(denied.location?.searchParams.get("oauth_error")).toBe("access_denied");
    const replay = await follow(await consent(authorizeUrl, "allow"), person);
    expect(replay.status).toBe(400);
    expect(replay.body).toContain("state_used");
    await expectNothingStored(person.uid, "instagram");
  });

  it("when a successful callback is replayed, then it is refused and the stored tokens are untouched", async () => {
    const person = await newPerson();
    const { callback, res } = await connect(person, "spotify");
    expect(res.status).toBe(302);
    const before = (await tokenDoc(person.uid, "spotify")).updateTime!;
    const replay = await follow(callback, person);
    expect(replay.status).toBe(400);
    expect(replay.body).toContain("state_used");
    expect((await tokenDoc(person.uid, "spotify")).updateTime!.isEqual(before)).toBe(true);
  });

  it("when the same callback arrives twice at once, then exactly one connects and the other is refused as used", async () => {
    const person = await newPerson();
    const account = fake.addAccount("spotify", { allowListed: true });
    const callback = await consent(await authorizeUrlFor(person, "spotify"), "allow", account.id);
    const results = await Promise.all([follow(callback, person), follow(callback, person)]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([302, 400]);
    expect(results.find((r) => r.status === 400)!.body).toContain("state_used");
    expect(results.find((r) => r.status === 302)!.location?.searchParams.get("connected")).toBe("spotify");
    expect((await connectionDoc(person.uid, "spotify")).get("status")).toBe("connected");
    expect(await firstSyncs(person.uid, "spotify")).toHaveLength(1);
  });

  it("when the state has expired, then an error page (400) says so", async () => {
    const person = await newPerson();
    const authorizeUrl = await authorizeUrlFor(person, "spotify");
    const id = stateId(authorizeUrl.searchParams.get("state")!);
    await db()
      .doc(firestorePaths.oauthState(id))
      .update({ expiresAt: Timestamp.fromMillis(Date.now() - 1000) });
    const res = await follow(await consent(authorizeUrl, "allow"), person);
    expect(res.status).toBe(400);
    expect(res.body).toContain("state_expired");
    await expectNothingStored(person.uid, "spotify");
  });

  it("when a Spotify code and state arrive at the Instagram callback, then it is refused as the wrong provider", async () => {
    const person = await newPerson();
    const callback = await consent(await authorizeUrlFor(person, "spotify"), "allow");
    callback.pathname = "/api/oauth/callback/instagram";
    const res = await follow(callback, person);
    expect(res.status).toBe(400);
    expect(res.body).toContain("state_wrong_provider");
    await expectNothingStored(person.uid, "spotify");
    await expectNothingStored(person.uid, "instagram");
  });

  it("when Spotify's token endpoint rejects the code, then the person returns with oauth_error=exchange_failed", async () => {
    const person = await newPerson();
    const callback = await consent(await authorizeUrlFor(person, "spotify", "/settings"), "allow");
    fake.fault("spotify", { endpoint: "token", kind: "invalid_grant" });
    const res = await follow(callback, person);
    expect(res.status).toBe(302);
    expect(res.location?.searchParams.get("oauth_error")).toBe("exchange_failed");
    await expectNothingStored(person.uid, "spotify");
  });

  it("when Instagram's long-lived token exchange fails, then the person returns with an oauth_error", async () => {
    const person = await newPerson();
    const callback = await consent(await authorizeUrlFor(person, "instagram"), "allow");
    fake.fault("instagram", { endpoint: "access_token", kind: "ig190" });
    const res = await follow(callback, person);
    expect(res.status).toBe(302);
    expect(res.location?.searchParams.get("oauth_error")).toBe("exchange_failed");
    await expectNothingStored(person.uid, "instagram");
  });

  it("when Spotify's profile call fails after the exchange, then no tokens are kept", async () => {
    const person = await newPerson();
    const callback = await consent(await authorizeUrlFor(person, "spotify"), "allow");
    fake.fault("spotify", { endpoint: "me", kind: "403" });
    const res = await follow(callback, person);
    expect(res.status).toBe(302);
    expect(res.location?.searchParams.get("oauth_error")).toMatch(/^(not_allowed|identify_failed)$/);
    await expectNothingStored(person.uid, "spotify");
  });

  it("when start is called without an ID token or with a forged one, then it answers 401 and stores no state", async () => {
    const count = async () => (await db().collection(firestorePaths.oauthStates()).count().get()).data().count;
    const before = await count();
    expect((await start(undefined, "spotify")).status).toBe(401);
    const forged = await start({ uid: "x", idToken: "not.a.token" }, "spotify");
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: string }).error).toBe("unauthenticated");
    expect(await count()).toBe(before);
  });

  it("when the return URL is outside the allow-list, then start answers 400 and stores no state", async () => {
    const person = await newPerson();
    const res = await start(person, "spotify", { returnTo: "https://evil.example/steal" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("return_url_not_allowed");
    const states = await db().collection(firestorePaths.oauthStates()).where("uid", "==", person.uid).get();
    expect(states.size).toBe(0);
  });
});

// --- the connect flow is bound to the browser that started it ------------------------------------

describe("login CSRF: a connect link works only in the browser that started it", () => {
  it.each(["spotify", "instagram"] as const)(
    "when an attacker's %s link is approved in a browser without the attacker's cookie, then nothing is connected under anyone and the state is burnt",
    async (provider) => {
      const attacker = await newPerson();
      const victimAccount = fake.addAccount(provider, { allowListed: true });
      // The attacker starts a connect through Hosting with their own ID token…
      const authorizeUrl = await authorizeUrlFor(attacker, provider);
      expect(attacker.cookie).toMatch(/^__session=[A-Za-z0-9_-]{43}$/);
      // …and sends the provider link to the victim, whose browser approves it with the victim's
      // own provider account and is sent back to the callback: it carries no attacker cookie.
      const callback = await consent(authorizeUrl, "allow", victimAccount.id);
      const victimBrowser = await follow(callback, null);
      expect(victimBrowser.status).toBe(400);
      expect(victimBrowser.location).toBeNull();
      expect(victimBrowser.body).toContain("state_wrong_browser");
      await expectNothingStored(attacker.uid, provider);
      const anyConnection = await db()
        .collectionGroup("connections")
        .where("providerAccountId", "==", victimAccount.id)
        .get();
      expect(anyConnection.size).toBe(0);
      // The state is consumed: the attacker cannot replay the victim's code from their own browser.
      const replay = await follow(callback, attacker);
      expect(replay.status).toBe(400);
      expect(replay.body).toContain("state_used");
      await expectNothingStored(attacker.uid, provider);
    },
  );

  it("when the callback carries another person's cookie, then it is refused the same way", async () => {
    const attacker = await newPerson();
    const bystander = await newPerson();
    await authorizeUrlFor(bystander, "spotify"); // the bystander's browser has a cookie of its own
    const callback = await consent(await authorizeUrlFor(attacker, "spotify"), "allow");
    const res = await follow(callback, bystander);
    expect(res.status).toBe(400);
    expect(res.body).toContain("state_wrong_browser");
    await expectNothingStored(attacker.uid, "spotify");
    await expectNothingStored(bystander.uid, "spotify");
  });

  it("when one browser starts Spotify and Instagram in two tabs, then both flows connect (the browser keeps one nonce)", async () => {
    const person = await newPerson();
    const spotifyAccount = fake.addAccount("spotify", { allowListed: true });
    const instagramAccount = fake.addAccount("instagram");
    const spotifyUrl = await authorizeUrlFor(person, "spotify");
    const cookie = person.cookie;
    const instagramUrl = await authorizeUrlFor(person, "instagram");
    expect(person.cookie).toBe(cookie);
    const a = await follow(await consent(instagramUrl, "allow", instagramAccount.id), person);
    const b = await follow(await consent(spotifyUrl, "allow", spotifyAccount.id), person);
    expect(a.location?.searchParams.get("connected")).toBe("instagram");
    expect(b.location?.searchParams.get("connected")).toBe("spotify");
    await firstSyncs(person.uid, "spotify");
    await firstSyncs(person.uid, "instagram");
  });

  it("when start answers, then its cookie is HttpOnly, SameSite=Lax, scoped to /api/oauth, and not Secure on the http loopback app", async () => {
    const person = await newPerson();
    const res = await start(person, "spotify");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^__session=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).toContain("Path=/api/oauth");
    expect(cookie).not.toContain("Secure");
  });

  it("when Spotify's consent page is requested, then it is asked to show the dialog every time (an old grant never connects silently)", async () => {
    const person = await newPerson();
    const url = await authorizeUrlFor(person, "spotify");
    expect(url.searchParams.get("show_dialog")).toBe("true");
  });

  it("when a person has 10 connect attempts pending, then the 11th start is refused with 429 and stores no state", async () => {
    const person = await newPerson();
    for (let i = 0; i < 10; i++) expect((await start(person, i % 2 ? "spotify" : "instagram")).status).toBe(200);
    const refused = await start(person, "spotify");
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: string }).error).toBe("too_many_pending");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const states = await db().collection(firestorePaths.oauthStates()).where("uid", "==", person.uid).get();
    expect(states.size).toBe(10);
    // Finishing one frees a place.
    await db().doc(states.docs[0]!.ref.path).update({ consumedAt: Timestamp.now() });
    expect((await start(person, "spotify")).status).toBe(200);
  });
});

describe("one provider account, one person", () => {
  it("when a second person connects a Spotify account the first has connected, then they return with account_in_use and nothing is stored for them", async () => {
    const first = await newPerson();
    const second = await newPerson();
    const { account } = await connect(first, "spotify");
    const res = await follow(await consent(await authorizeUrlFor(second, "spotify"), "allow", account.id), second);
    expect(res.status).toBe(302);
    expect(res.location?.searchParams.get("oauth_error")).toBe("account_in_use");
    await expectNothingStored(second.uid, "spotify");
    expect((await connectionDoc(first.uid, "spotify")).get("status")).toBe("connected");
    expect((await tokenDoc(first.uid, "spotify")).exists).toBe(true);
  });

  it("when the first person disconnects, then the account can be connected by the second", async () => {
    const first = await newPerson();
    const second = await newPerson();
    const { account } = await connect(first, "instagram");
    expect((await callDisconnect(first, { provider: "instagram" })).status).toBe(200);
    const res = await follow(await consent(await authorizeUrlFor(second, "instagram"), "allow", account.id), second);
    expect(res.location?.searchParams.get("connected")).toBe("instagram");
    await firstSyncs(second.uid, "instagram");
    // …and now the first cannot take it back while the second holds it.
    const back = await follow(await consent(await authorizeUrlFor(first, "instagram"), "allow", account.id), first);
    expect(back.location?.searchParams.get("oauth_error")).toBe("account_in_use");
  });

  it("when the same person reconnects the same account, then it is not refused", async () => {
    const person = await newPerson();
    const { account } = await connect(person, "spotify");
    const again = await follow(await consent(await authorizeUrlFor(person, "spotify"), "allow", account.id), person);
    expect(again.location?.searchParams.get("connected")).toBe("spotify");
    await firstSyncs(person.uid, "spotify", 2);
  });
});

// --- disconnect ---------------------------------------------------------------------------------

describe("disconnecting", () => {
  async function seedData(uid: string) {
    const snap = db().doc(firestorePaths.snapshot(uid, "spotify", "playlists"));
    await snap.set({ items: [] });
    await db()
      .doc(firestorePaths.snapshotPart(uid, "spotify", "playlists", 0))
      .set({ items: [1] });
    await db()
      .doc(firestorePaths.snapshot(uid, "spotify", "top-tracks"))
      .set({ items: [] });
    await db()
      .doc(firestorePaths.snapshot(uid, "instagram", "media"))
      .set({ items: [] });
    await bucket()
      .file(storagePaths.mirrorObject(uid, "spotify", "p1", "jpg"))
      .save(Buffer.from("jpg1"));
    await bucket()
      .file(storagePaths.mirrorObject(uid, "spotify", "p2", "jpg"))
      .save(Buffer.from("jpg2"));
    await bucket()
      .file(storagePaths.mirrorObject(uid, "instagram", "m1", "jpg"))
      .save(Buffer.from("jpg3"));
  }
  const objects = async (prefix: string) => (await bucket().getFiles({ prefix }))[0].length;
  /** Every document under users/{uid}/{provider}, parts included. */
  const documents = async (uid: string, provider: Provider) => {
    const refs = await db().collection(firestorePaths.snapshots(uid, provider)).listDocuments();
    let n = 0;
    for (const ref of refs) {
      if ((await ref.get()).exists) n++;
      for (const sub of await ref.listCollections()) n += (await sub.get()).size;
    }
    return n;
  };

  it("when a person disconnects without deleteData, then tokens go, the connection is disconnected, data stays", async () => {
    const person = await newPerson();
    const { account } = await connect(person, "spotify");
    await seedData(person.uid);
    const [docsBefore, objectsBefore] = [
      await documents(person.uid, "spotify"),
      await objects(storagePaths.providerPrefix(person.uid, "spotify")),
    ];
    expect(objectsBefore).toBeGreaterThan(2); // the first sync's covers and the two seeded
    const res = await callDisconnect(person, { provider: "spotify" });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ provider: "spotify", hadConnection: true, deletedDocuments: 0 });
    expect((await tokenDoc(person.uid, "spotify")).exists).toBe(false);
    const conn = (await connectionDoc(person.uid, "spotify")).data()!;
    expect(conn.status).toBe("disconnected");
    expect(conn.providerAccountId).toBe(account.id);
    expect(
      (
        await db()
          .doc(firestorePaths.snapshot(person.uid, "spotify", "playlists"))
          .get()
      ).exists,
    ).toBe(true);
    expect(await documents(person.uid, "spotify")).toBe(docsBefore);
    expect(await objects(storagePaths.providerPrefix(person.uid, "spotify"))).toBe(objectsBefore);
  });

  it("when a person disconnects with deleteData, then that provider's snapshots, parts and objects go, others stay", async () => {
    const person = await newPerson();
    await connect(person, "spotify");
    await seedData(person.uid);
    const [docsBefore, objectsBefore] = [
      await documents(person.uid, "spotify"),
      await objects(storagePaths.providerPrefix(person.uid, "spotify")),
    ];
    expect(docsBefore).toBeGreaterThan(3); // the first sync's snapshots, and the seeded ones with a part
    // The first sync also logged the account's plays, their month aggregates and a daily point.
    const history = async () =>
      (
        await Promise.all(
          [
            firestorePaths.plays(person.uid),
            firestorePaths.playStats(person.uid),
            firestorePaths.history(person.uid),
          ].map((c) => db().collection(c).get()),
        )
      ).reduce((n, q) => n + q.size, 0);
    const historyBefore = await history();
    expect(historyBefore).toBeGreaterThan(2);
    const res = await callDisconnect(person, { provider: "spotify", deleteData: true });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({
      deletedDocuments: docsBefore + historyBefore,
      deletedObjects: objectsBefore,
    });
    expect(await history()).toBe(0);
    expect((await db().collection(firestorePaths.snapshots(person.uid, "spotify")).get()).size).toBe(0);
    expect(
      (
        await db()
          .collection(firestorePaths.snapshotParts(person.uid, "spotify", "playlists"))
          .get()
      ).size,
    ).toBe(0);
    expect(await objects(storagePaths.providerPrefix(person.uid, "spotify"))).toBe(0);
    expect(
      (
        await db()
          .doc(firestorePaths.snapshot(person.uid, "instagram", "media"))
          .get()
      ).exists,
    ).toBe(true);
    expect(await objects(storagePaths.providerPrefix(person.uid, "instagram"))).toBe(1);
    expect((await connectionDoc(person.uid, "spotify")).get("status")).toBe("disconnected");
    expect((await tokenDoc(person.uid, "spotify")).exists).toBe(false);
  });

  it("when a signed-out caller disconnects, then it is refused and nothing changes", async () => {
    const person = await newPerson();
    await connect(person, "instagram");
    const res = await callDisconnect(undefined, { provider: "instagram" });
    expect(res.status).toBe(401);
    expect(res.body.error?.status).toBe("UNAUTHENTICATED");
    expect((await tokenDoc(person.uid, "instagram")).exists).toBe(true);
  });

  it("when the provider is unknown, then it is refused as invalid-argument", async () => {
    const person = await newPerson();
    const res = await callDisconnect(person, { provider: "myspace" });
    expect(res.status).toBe(400);
    expect(res.body.error?.status).toBe("INVALID_ARGUMENT");
  });
});
