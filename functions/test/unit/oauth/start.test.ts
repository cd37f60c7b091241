import type { HttpRequest } from "../../../src/oauth/http";
import { handleStart, type StartDeps } from "../../../src/oauth/start";
import { stateId } from "../../../src/oauth/state";
import type { Provider } from "../../../src/paths";
import { MemoryStateStore, fakeProvider, testConfig } from "./fakes";

const APP = "https://app.example.test";

function setup() {
  const states = new MemoryStateStore();
  const providers = { spotify: fakeProvider("spotify"), instagram: fakeProvider("instagram") };
  const deps: StartDeps = {
    config: testConfig(),
    now: () => new Date("2026-11-01T12:00:00Z"),
    states,
    provider: (id: Provider) => providers[id].module,
    verifyIdToken: async (t) => {
      if (t === "good-token") return { uid: "user-1" };
      throw new Error("bad token");
    },
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
    expect(res.headers["Cache-Control"]).toBe("no-store");
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

  it("when the method is DELETE, then it answers 405", async () => {
    const { deps } = setup();
    expect((await handleStart(deps, req({ method: "DELETE" }))).status).toBe(405);
  });
});
