import type { HttpRequest } from "../../../src/oauth/http";
import { AppChoiceError, connectApp, handleStart, type StartDeps } from "../../../src/oauth/start";
import { browserHash } from "../../../src/oauth/browser";
import { TooManyPendingStatesError, stateId } from "../../../src/oauth/state";
import type { Provider } from "../../../src/paths";
import { MemoryStateStore, fakeProvider, testConfig } from "./fakes";

const APP = "https://app.example.test";

function setup() {
  const states = new MemoryStateStore();
  const providers = {
    spotify: fakeProvider("spotify"),
    instagram: fakeProvider("instagram"),
    youtube: fakeProvider("youtube"),
  };
  const deps: StartDeps = {
    config: testConfig(),
    now: () => new Date("2026-11-01T12:00:00Z"),
    states,
    provider: (id: Provider) => providers[id].module,
    verifyIdToken: async (t) => {
      if (t === "good-token") return { uid: "user-1" };
      throw new Error("bad token");
    },
    appCheck: async () => true,
    apps: { load: async () => null },
  };
  return { deps, states, providers };
}

const req = (over: Partial<HttpRequest> = {}): HttpRequest => ({
  method: "GET",
  path: "/api/oauth/start",
  query: { provider: "spotify" },
  headers: { authorization: "Bearer good-token", origin: APP },
  ...over,
});

describe("handleStart", () => {
  it("when a signed-in person starts Spotify, then it answers the authorize URL with a stored, hashed state bound to them", async () => {
    const { deps, states, providers } = setup();
    const res = await handleStart(deps, req());
    expect(res.status).toBe(200);
    const { authorizeUrl } = JSON.parse(res.body!) as { authorizeUrl: string };
    const state = new URL(authorizeUrl).searchParams.get("state")!;
    expect(providers.spotify.calls.authorize).toEqual([
      { state, redirectUri: "https://app.example.test/api/oauth/callback/spotify" },
    ]);
    expect(states.records.has(state)).toBe(false);
    const record = states.records.get(stateId(state))!;
    expect(record).toMatchObject({ uid: "user-1", provider: "spotify", returnTo: `${APP}/`, consumedAt: null });
    expect(res.headers["Access-Control-Allow-Origin"]).toBe(APP);
    // private: Hosting drops Set-Cookie from responses that do not say so.
    expect(res.headers["Cache-Control"]).toBe("private, no-store");
  });

  it("when a browser without the app's cookie starts, then it gets a fresh HttpOnly, SameSite=Lax, Secure nonce and the state stores only its hash", async () => {
    const { deps, states } = setup();
    const res = await handleStart(deps, req());
    const cookie = res.headers["Set-Cookie"]!;
    const nonce = /^__session=([A-Za-z0-9_-]{43});/.exec(cookie)?.[1];
    expect(nonce).toBeDefined();
    expect(cookie).toContain("; HttpOnly");
    expect(cookie).toContain("; SameSite=Lax");
    expect(cookie).toContain("; Secure");
    expect(cookie).toContain("; Path=/api/oauth");
    const record = [...states.records.values()][0]!;
    expect(record.browserHash).toBe(browserHash(nonce!));
    expect(JSON.stringify(record)).not.toContain(nonce!);
  });

  it("when the browser already holds a nonce, then it is kept, so flows in two tabs both stay bound to it", async () => {
    const { deps, states } = setup();
    const nonce = "k".repeat(43);
    const res = await handleStart(deps, req({ headers: { ...req().headers, cookie: `a=1; __session=${nonce}` } }));
    expect(res.headers["Set-Cookie"]).toMatch(new RegExp(`^__session=${nonce};`));
    expect([...states.records.values()][0]!.browserHash).toBe(browserHash(nonce));
  });

  it("when the app is served over plain http on loopback, then the cookie is not Secure (browsers would drop it)", async () => {
    const { deps } = setup();
    deps.config = testConfig({ APP_URL: "http://127.0.0.1:5002" });
    const res = await handleStart(
      deps,
      req({ headers: { authorization: "Bearer good-token", origin: "http://127.0.0.1:5002" } }),
    );
    expect(res.status).toBe(200);
    expect(res.headers["Set-Cookie"]).not.toContain("Secure");
  });

  it("when the person already has the maximum of pending connect attempts, then it answers 429 with Retry-After and sets no cookie", async () => {
    const { deps } = setup();
    deps.states.create = async () => {
      throw new TooManyPendingStatesError(new Date("2026-11-01T12:07:30Z"));
    };
    const res = await handleStart(deps, req());
    expect(res.status).toBe(429);
    expect(JSON.parse(res.body!).error).toBe("too_many_pending");
    expect(res.headers["Retry-After"]).toBe("450");
    expect(res.headers["Set-Cookie"]).toBeUndefined();
  });

  it("when redirect=1 is asked with a return path, then it answers 302 to the authorize URL and stores the resolved return URL", async () => {
    const { deps, states } = setup();
    const res = await handleStart(
      deps,
      req({ query: { provider: "instagram", redirect: "1", returnTo: "/settings?x=1" } }),
    );
    expect(res.status).toBe(302);
    expect(res.headers.Location).toMatch(/^https:\/\/instagram\.example\.test\/authorize\?/);
    expect([...states.records.values()][0]).toMatchObject({
      provider: "instagram",
      returnTo: `${APP}/settings?x=1`,
    });
  });

  it("when the input comes as a POST JSON body, then it is used", async () => {
    const { deps, states } = setup();
    const res = await handleStart(deps, req({ method: "POST", query: {}, body: { provider: "instagram" } }));
    expect(res.status).toBe(200);
    expect([...states.records.values()][0]).toMatchObject({ provider: "instagram" });
  });

  it("when there is no bearer token, then it answers 401 and stores no state", async () => {
    const { deps, states } = setup();
    const res = await handleStart(deps, req({ headers: { origin: APP } }));
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body!).error).toBe("unauthenticated");
    expect(states.records.size).toBe(0);
  });

  it("when the ID token does not verify, then it answers 401 and stores no state", async () => {
    const { deps, states } = setup();
    const res = await handleStart(deps, req({ headers: { authorization: "Bearer forged" } }));
    expect(res.status).toBe(401);
    expect(states.records.size).toBe(0);
  });

  it("when the provider is unknown, then it answers 400 naming the valid providers", async () => {
    const { deps, states } = setup();
    const res = await handleStart(deps, req({ query: { provider: "myspace" } }));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body!).message).toMatch(/spotify, instagram/);
    expect(states.records.size).toBe(0);
  });

  it("when the return URL is outside the allow-list, then it answers 400 and stores no state", async () => {
    const { deps, states } = setup();
    const res = await handleStart(deps, req({ query: { provider: "spotify", returnTo: "https://evil.example/" } }));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body!).error).toBe("return_url_not_allowed");
    expect(states.records.size).toBe(0);
  });

  it("when the state store fails, then it answers 500 without details", async () => {
    const { deps } = setup();
    deps.states.create = async () => {
      throw new Error("firestore down");
    };
    const res = await handleStart(deps, req());
    expect(res.status).toBe(500);
    expect(res.body).not.toMatch(/firestore down/);
  });

  it("when the app's origin sends a preflight, then it gets 204 with CORS headers allowing Authorization", async () => {
    const { deps } = setup();
    const res = await handleStart(deps, req({ method: "OPTIONS", headers: { origin: APP } }));
    expect(res.status).toBe(204);
    expect(res.headers["Access-Control-Allow-Origin"]).toBe(APP);
    expect(res.headers["Access-Control-Allow-Headers"]).toMatch(/Authorization/);
  });

  it("when another origin sends a preflight, then it gets 403 without CORS headers", async () => {
    const { deps } = setup();
    const res = await handleStart(deps, req({ method: "OPTIONS", headers: { origin: "https://evil.example" } }));
    expect(res.status).toBe(403);
    expect(res.headers["Access-Control-Allow-Origin"]).toBeUndefined();
  });

  it("when App Check refuses the request, then it answers 401 before reading the ID token and stores no state", async () => {
    const { deps, states } = setup();
    const seen: (string | undefined)[] = [];
    deps.appCheck = async (token) => {
      seen.push(token);
      return false;
    };
    let verified = false;
    deps.verifyIdToken = async () => {
      verified = true;
      return { uid: "user-1" };
    };
    const res = await handleStart(deps, req({ headers: { ...req().headers, "x-firebase-appcheck": "app-token" } }));
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body!).error).toBe("app_check_required");
    expect(seen).toEqual(["app-token"]);
    expect(verified).toBe(false);
    expect(states.records.size).toBe(0);
  });

  it("when the method is DELETE, then it answers 405", async () => {
    const { deps } = setup();
    expect((await handleStart(deps, req({ method: "DELETE" }))).status).toBe(405);
  });
});

describe("the app a connect goes through (SPOTIFY_APPS)", () => {
  const saved = { clientId: "0123456789abcdef0123456789abcdef", clientSecret: "s3cret-s3cret" };
  const depsFor = (mode: string, app: typeof saved | null) => ({
    config: testConfig({ SPOTIFY_APPS: mode }),
    apps: { load: async () => app },
  });

  it.each([
    ["shared", undefined, null, null],
    ["both", undefined, saved, null],
    ["both", "own", saved, saved],
    ["own", undefined, saved, saved],
  ] as const)(
    "when the mode is %s and the person asks for %s, then the connect goes through %o → %o",
    async (mode, choice, app, expected) => {
      expect(await connectApp(depsFor(mode, app), "user-1", "spotify", choice)).toEqual(expected);
    },
  );

  it.each([
    ["shared", "own", saved, "app_not_allowed"],
    ["own", "shared", saved, "app_not_allowed"],
    ["own", undefined, null, "no_own_app"],
    ["both", "own", null, "no_own_app"],
  ] as const)(
    "when the mode is %s and the person asks for %s, then it is refused (%s)",
    async (mode, choice, app, code) => {
      const e = await connectApp(depsFor(mode, app), "user-1", "spotify", choice).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(AppChoiceError);
      expect((e as AppChoiceError).code).toBe(code);
    },
  );

  it("when a person starts with their own app, then the state records its client id and no secret, and the URL carries it", async () => {
    const { deps, states } = setup();
    const res = await handleStart(
      { ...deps, config: testConfig({ SPOTIFY_APPS: "both" }), apps: { load: async () => saved } },
      req({ method: "POST", query: {}, body: { provider: "spotify", app: "own" } }),
    );
    expect(res.status).toBe(200);
    const [record] = [...states.records.values()];
    expect(record).toMatchObject({ app: { clientId: saved.clientId } });
    expect(JSON.stringify(record)).not.toContain(saved.clientSecret);
    const refused = await handleStart(
      deps,
      req({ method: "POST", query: {}, body: { provider: "spotify", app: "own" } }),
    );
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body!)).toMatchObject({ error: "app_not_allowed" });
  });
});
