import { NotAllowedError, ReauthRequiredError, TransientError } from "../../../src/errors";
import { type CallbackDeps, classifyFailure, handleCallback, resultUrl } from "../../../src/oauth/callback";
import type { HttpRequest } from "../../../src/oauth/http";
import { browserHash } from "../../../src/oauth/browser";
import { AccountInUseError } from "../../../src/oauth/connectionStore";
import { STATE_TTL_MS } from "../../../src/oauth/state";
import type { Provider } from "../../../src/paths";
import {
  MemoryConnectionStore,
  MemoryStateStore,
  SECRET_ACCESS,
  SECRET_CODE,
  SECRET_REFRESH,
  fakeProvider,
  testConfig,
} from "./fakes";
import { RecordingQueue } from "../../support/sync-fakes";

const logged: unknown[] = [];
jest.mock("firebase-functions/logger", () => {
  const record = (...args: unknown[]) => logged.push(args);
  return { debug: record, info: record, warn: record, error: record, log: record, write: record };
});

const APP = "https://app.example.test";
const T0 = new Date("2026-11-01T12:00:00Z");

async function setup(opts: { provider?: Provider; returnTo?: string } = {}) {
  let clock = T0;
  const states = new MemoryStateStore();
  const connections = new MemoryConnectionStore();
  const providers = {
    spotify: fakeProvider("spotify"),
    instagram: fakeProvider("instagram"),
    youtube: fakeProvider("youtube"),
  };
  const queue = new RecordingQueue();
  const deps: CallbackDeps = {
    config: testConfig(),
    now: () => clock,
    states,
    connections,
    provider: (id) => providers[id].module,
    userExists: async () => true,
    queue,
    apps: { load: async () => null },
  };
  const provider = opts.provider ?? "spotify";
  const { state } = await states.create({
    uid: "user-1",
    provider,
    returnTo: opts.returnTo ?? `${APP}/settings`,
    browserHash: browserHash(BROWSER_NONCE),
    now: T0,
  });
  const advance = (ms: number) => {
    clock = new Date(clock.getTime() + ms);
  };
  return { deps, states, connections, providers, queue, state, advance };
}

/** The nonce in the `__session` cookie of the browser that started the flow. */
const BROWSER_NONCE = "n".repeat(43);

/** The provider's redirect back, from the starting browser (its cookie) unless `cookie` says otherwise. */
const cb = (
  provider: string,
  query: Record<string, unknown>,
  cookie: string | null = `__session=${BROWSER_NONCE}`,
): HttpRequest => ({
  method: "GET",
  path: `/api/oauth/callback/${provider}`,
  query,
  headers: cookie === null ? {} : { cookie },
});

beforeEach(() => {
  logged.length = 0;
});

afterEach(() => {
  const text = JSON.stringify(logged);
  for (const secret of [SECRET_CODE, SECRET_ACCESS, SECRET_REFRESH]) expect(text).not.toContain(secret);
});

describe("handleCallback: success", () => {
  it.each(["spotify", "instagram"] as const)(
    "when %s answers a code with a valid state, then tokens + connection are saved and the person returns with ?connected",
    async (provider) => {
      const { deps, connections, providers, state } = await setup({ provider });
      const res = await handleCallback(deps, cb(provider, { code: SECRET_CODE, state }));
      expect(res.status).toBe(302);
      expect(res.headers.Location).toBe(`${APP}/settings?connected=${provider}`);
      expect(providers[provider].calls.exchange).toEqual([
        { code: SECRET_CODE, redirectUri: `${APP}/api/oauth/callback/${provider}` },
      ]);
      expect(providers[provider].calls.identify).toEqual([SECRET_ACCESS]);
      expect(connections.saved).toHaveLength(1);
      expect(connections.saved[0]).toMatchObject({
        uid: "user-1",
        provider,
        account: { id: `${provider}-account-1`, displayName: "Ada" },
        scopes: ["user-top-read"],
      });
      expect(connections.saved[0]!.tokens.accessToken).toBe(SECRET_ACCESS);
      // The state's hash never appears in the state itself, and the state is not logged.
      expect(JSON.stringify(logged)).not.toContain(state);
      expect(JSON.stringify(logged)).toContain("oauth.connected");
    },
  );

  it("when the connection is saved, then its first sync is enqueued, requested at the moment it was saved due", async () => {
    const { deps, connections, queue, state } = await setup({ provider: "instagram" });
    await handleCallback(deps, cb("instagram", { code: SECRET_CODE, state }));
    expect(queue.tasks).toEqual([
      {
        provider: "instagram",
        id: expect.stringMatching(/^[0-9a-f]{64}$/),
        payload: { uid: "user-1", provider: "instagram", reason: "connect", requestedAt: T0.getTime() },
      },
    ]);
    expect(connections.saved[0]!.now).toEqual(T0);
  });

  it("when the first sync cannot be enqueued, then the person is still connected (the next fan-out syncs)", async () => {
    const { deps, connections, queue, state } = await setup();
    queue.enqueue = async () => {
      throw new Error("Cloud Tasks unavailable");
    };
    const res = await handleCallback(deps, cb("spotify", { code: SECRET_CODE, state }));
    expect(res.headers.Location).toBe(`${APP}/settings?connected=spotify`);
    expect(connections.saved).toHaveLength(1);
    expect(JSON.stringify(logged)).toContain("oauth.first_sync_not_enqueued");
  });

  it("when Meta appends #_ to code and state, then it is stripped and the flow succeeds", async () => {
    const { deps, connections, providers, state } = await setup({ provider: "instagram" });
    const res = await handleCallback(deps, cb("instagram", { code: `${SECRET_CODE}#_`, state: `${state}#_` }));
    expect(res.headers.Location).toBe(`${APP}/settings?connected=instagram`);
    expect(providers.instagram.calls.exchange[0]!.code).toBe(SECRET_CODE);
    expect(connections.saved).toHaveLength(1);
  });

  it("when the provider grants no scope list, then the module's requested scopes are recorded", async () => {
    const { deps, connections, providers, state } = await setup();
    providers.spotify.behaviour.scopes = [];
    await handleCallback(deps, cb("spotify", { code: SECRET_CODE, state }));
    expect(connections.saved[0]!.scopes).toEqual(["user-top-read", "playlist-read-private"]);
  });

  it("when the return URL carries an old result, then it is replaced by the new one", () => {
    expect(resultUrl(`${APP}/s?oauth_error=x&provider=spotify&k=1`, { connected: "spotify" })).toBe(
      `${APP}/s?k=1&connected=spotify`,
    );
  });
});

describe("handleCallback: failures with a valid state redirect with ?oauth_error and save nothing", () => {
  it.each([
    ["consent is denied", { error: "access_denied", error_reason: "user_denied" }, "access_denied"],
    ["the provider reports another error", { error: "server_error" }, "provider_error"],
    ["the code is missing", {}, "missing_code"],
  ])("when %s, then the person returns with that error", async (_what, extra, code) => {
    const { deps, connections, providers, state } = await setup();
    const res = await handleCallback(deps, cb("spotify", { state, ...extra }));
    expect(res.status).toBe(302);
    expect(res.headers.Location).toBe(`${APP}/settings?oauth_error=${code}&provider=spotify`);
    expect(providers.spotify.calls.exchange).toHaveLength(0);
    expect(connections.saved).toHaveLength(0);
  });

  it.each([
    ["exchange", new ReauthRequiredError("invalid_grant"), "exchange_failed"],
    ["exchange", new TransientError("503"), "provider_unavailable"],
    ["exchange", new Error("bug"), "exchange_failed"],
    ["identify", new NotAllowedError("not on the allow-list"), "not_allowed"],
    ["identify", new Error("bug"), "identify_failed"],
  ] as const)("when %s throws %p, then the person returns with %s", async (stage, error, code) => {
    const { deps, connections, providers, queue, state } = await setup();
    if (stage === "exchange") providers.spotify.behaviour.exchangeError = error;
    else providers.spotify.behaviour.identifyError = error;
    const res = await handleCallback(deps, cb("spotify", { code: SECRET_CODE, state }));
    expect(res.headers.Location).toBe(`${APP}/settings?oauth_error=${code}&provider=spotify`);
    expect(connections.saved).toHaveLength(0);
    expect(queue.tasks).toHaveLength(0);
  });

  it("when saving fails, then the person returns with server_error", async () => {
    const { deps, connections, state } = await setup();
    connections.failSave = new Error("aborted");
    const res = await handleCallback(deps, cb("spotify", { code: SECRET_CODE, state }));
    expect(res.headers.Location).toBe(`${APP}/settings?oauth_error=server_error&provider=spotify`);
  });

  it("when the Auth user was deleted mid-flow, then nothing is saved and the person returns with account_gone", async () => {
    const { deps, connections, state } = await setup();
    deps.userExists = async () => false;
    const res = await handleCallback(deps, cb("spotify", { code: SECRET_CODE, state }));
    expect(res.headers.Location).toContain("oauth_error=account_gone");
    expect(connections.saved).toHaveLength(0);
  });
});

describe("handleCallback: without a valid state, an error page (400) and nothing saved", () => {
  async function expectPage(res: Awaited<ReturnType<typeof handleCallback>>, code: string) {
    expect(res.status).toBe(400);
    expect(res.headers.Location).toBeUndefined();
    expect(res.headers["Content-Type"]).toMatch(/text\/html/);
    expect(res.body).toContain(`<code>${code}</code>`);
  }

  it("when the state is missing, then state_missing", async () => {
    const { deps, connections } = await setup();
    await expectPage(await handleCallback(deps, cb("spotify", { code: SECRET_CODE })), "state_missing");
    expect(connections.saved).toHaveLength(0);
  });

  it("when the state was never issued, then state_invalid", async () => {
    const { deps, connections, providers } = await setup();
    const res = await handleCallback(deps, cb("spotify", { code: SECRET_CODE, state: "A".repeat(43) }));
    await expectPage(res, "state_invalid");
    expect(providers.spotify.calls.exchange).toHaveLength(0);
    expect(connections.saved).toHaveLength(0);
  });

  it("when the state is replayed after a success, then state_used and only the first connect counts", async () => {
    const { deps, connections, state } = await setup();
    expect((await handleCallback(deps, cb("spotify", { code: SECRET_CODE, state }))).status).toBe(302);
    await expectPage(await handleCallback(deps, cb("spotify", { code: SECRET_CODE, state })), "state_used");
    expect(connections.saved).toHaveLength(1);
  });

  it("when the state is older than 10 minutes, then state_expired", async () => {
    const { deps, connections, state, advance } = await setup();
    advance(STATE_TTL_MS + 1);
    await expectPage(await handleCallback(deps, cb("spotify", { code: SECRET_CODE, state })), "state_expired");
    expect(connections.saved).toHaveLength(0);
  });

  it("when a Spotify state arrives at the Instagram callback, then state_wrong_provider and it is burnt", async () => {
    const { deps, connections, providers, state } = await setup({ provider: "spotify" });
    await expectPage(await handleCallback(deps, cb("instagram", { code: SECRET_CODE, state })), "state_wrong_provider");
    expect(providers.instagram.calls.exchange).toHaveLength(0);
    await expectPage(await handleCallback(deps, cb("spotify", { code: SECRET_CODE, state })), "state_used");
    expect(connections.saved).toHaveLength(0);
  });

  it.each([
    ["no cookie at all (a link followed in another browser)", null],
    ["another browser's cookie", `__session=${"x".repeat(43)}`],
    ["a malformed cookie", "__session=not-a-nonce"],
  ])(
    "when the callback comes with %s, then state_wrong_browser, no code is exchanged, nothing is saved and the state is burnt",
    async (_what, cookie) => {
      const { deps, connections, providers, queue, state } = await setup();
      await expectPage(
        await handleCallback(deps, cb("spotify", { code: SECRET_CODE, state }, cookie)),
        "state_wrong_browser",
      );
      expect(providers.spotify.calls.exchange).toHaveLength(0);
      expect(connections.saved).toHaveLength(0);
      expect(queue.tasks).toHaveLength(0);
      // The starting browser cannot use it afterwards either: a refused state is consumed.
      await expectPage(await handleCallback(deps, cb("spotify", { code: SECRET_CODE, state })), "state_used");
    },
  );

  it("when other cookies come before the app's, then the app's __session cookie is still found", async () => {
    const { deps, connections, state } = await setup();
    const res = await handleCallback(
      deps,
      cb("spotify", { code: SECRET_CODE, state }, `theme=dark; __session=${BROWSER_NONCE}; other=1`),
    );
    expect(res.status).toBe(302);
    expect(connections.saved).toHaveLength(1);
  });

  it("when consent is denied with a bad state, then the page is shown rather than a redirect", async () => {
    const { deps } = await setup();
    await expectPage(await handleCallback(deps, cb("spotify", { error: "access_denied" })), "state_missing");
  });

  it("when a parameter is repeated (an array), then invalid_request", async () => {
    const { deps, state } = await setup();
    await expectPage(await handleCallback(deps, cb("spotify", { code: [SECRET_CODE, "x"], state })), "invalid_request");
  });

  it("when the path names no provider, then unknown_provider", async () => {
    const { deps, state } = await setup();
    await expectPage(await handleCallback(deps, cb("myspace", { code: SECRET_CODE, state })), "unknown_provider");
  });

  it("when the provider's error text contains markup, then the page does not echo it", async () => {
    const { deps } = await setup();
    const res = await handleCallback(deps, cb("spotify", { error: "<script>x</script>" }));
    expect(res.body).not.toContain("<script>");
  });
});

describe("handleCallback: a provider account connected under someone else", () => {
  it("when the account is connected under another person, then they return with oauth_error=account_in_use and no sync is enqueued", async () => {
    const { deps, connections, queue, state } = await setup();
    connections.failSave = new AccountInUseError(
      "This spotify account is already connected to another account of this app.",
    );
    const res = await handleCallback(deps, cb("spotify", { code: SECRET_CODE, state }));
    expect(res.status).toBe(302);
    const to = new URL(res.headers.Location!);
    expect(to.searchParams.get("oauth_error")).toBe("account_in_use");
    expect(to.searchParams.get("provider")).toBe("spotify");
    expect(queue.tasks).toHaveLength(0);
  });
});

describe("classifyFailure", () => {
  it("when an unknown error happens during identify, then identify_failed", () => {
    expect(classifyFailure(new Error("x"), "identify")).toBe("identify_failed");
  });
});
