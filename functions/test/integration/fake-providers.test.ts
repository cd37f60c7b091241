/**
 * The fake provider server (scripts/fake-providers) over real HTTP, on a random loopback port:
 * its Spotify responses validate against the OpenAPI description in docs/reference, and its
 * OAuth, token, paging, fault, rate-limit, clock and control behaviour is what the clients rely on.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import * as jpeg from "jpeg-js";
import YAML from "yaml";
import { ROOT } from "../../../scripts/lib/local-env";
import { type FakeProviders, startFakeProviders } from "../../../scripts/fake-providers";

const SPOTIFY_BASIC = `Basic ${Buffer.from("fake-spotify-client-id:fake-spotify-client-secret").toString("base64")}`;
const REDIRECT = "http://127.0.0.1:5002/api/oauth/callback";
const HOUR = 3600_000;
const DAY = 24 * HOUR;

let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders({ port: 0 });
});

afterAll(async () => {
  await fake?.stop();
});

afterEach(() => {
  fake.clearFaults();
  fake.rateLimit("spotify", null);
  fake.rateLimit("instagram", null);
  fake.rotateRefreshTokens(false);
  fake.latency(0);
});

// --- OpenAPI (3.0) → JSON Schema for ajv --------------------------------------------------------

type Json = Record<string, unknown>;
const OPENAPI = YAML.parse(readFileSync(join(ROOT, "docs", "reference", "spotify-web-api.openapi.yml"), "utf8")) as {
  paths: Record<string, Record<string, Json>>;
  components: Json;
};

/**
 * OpenAPI 3.0 → JSON Schema: `nullable: true` becomes "or null", local $refs point into the
 * registered document, and vendor/doc keywords are dropped.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== "object") return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k.startsWith("x-") || k === "example" || k === "nullable" || k === "deprecated") continue;
    out[k] = k === "$ref" && typeof v === "string" ? `spotify${v}` : toJsonSchema(v);
  }
  if ((node as Json).nullable === true) {
    if (typeof out.type === "string" && !out.allOf && !out.$ref) {
      out.type = [out.type, "null"];
      if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
      return out;
    }
    return { anyOf: [out, { type: "null" }] };
  }
  return out;
}

const components = toJsonSchema(OPENAPI.components) as { schemas: Record<string, Json> };
/**
 * One documented divergence: Spotify answers `"next": null, "cursors": null` on the last (or an
 * empty) recently-played page, but the description types both as non-nullable. The fake sends
 * what Spotify sends, so the test allows null for exactly these two fields.
 */
const cursorPaging = components.schemas.CursorPagingObject as { properties: Record<string, Json> };
cursorPaging.properties.next = { anyOf: [cursorPaging.properties.next!, { type: "null" }] };
cursorPaging.properties.cursors = { anyOf: [cursorPaging.properties.cursors!, { type: "null" }] };

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: "spotify", components });

/** The validator for an operation's 200 response (following components/responses refs). */
function responseValidator(path: string): ValidateFunction {
  let response = OPENAPI.paths[path]?.get?.responses as Json | undefined;
  let ok = response?.["200"] as Json | undefined;
  if (!ok) throw new Error(`No 200 response for GET ${path} in the OpenAPI description.`);
  while (typeof ok.$ref === "string") {
    const name = ok.$ref.split("/").pop()!;
    response = (OPENAPI.components.responses as Json)[name] as Json;
    ok = response;
  }
  const schema = ((ok.content as Json)["application/json"] as Json).schema;
  return ajv.compile(toJsonSchema(schema) as Json);
}

function expectValid(validate: ValidateFunction, body: unknown): void {
  const valid = validate(body);
  expect(valid ? [] : validate.errors?.slice(0, 5)).toEqual([]);
}

// --- HTTP helpers --------------------------------------------------------------------------------

async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: body as Json };
}

function spotify(path: string, token: string) {
  return getJson(`${fake.baseUrls.SPOTIFY_API_BASE_URL}${path}`, { authorization: `Bearer ${token}` });
}

function spotifyToken(form: Record<string, string>, auth = SPOTIFY_BASIC) {
  return fetch(`${fake.baseUrls.SPOTIFY_ACCOUNTS_BASE_URL}/api/token`, {
    method: "POST",
    headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Json }));
}

function graph(path: string, params: Record<string, string>) {
  const u = new URL(`${fake.baseUrls.INSTAGRAM_GRAPH_BASE_URL}${path}`);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return getJson(u.toString());
}

/** Drives the consent page like a browser would: GET the authorize URL, POST the form's decision. */
async function consent(
  provider: "spotify" | "instagram",
  decision: "allow" | "deny",
  account: string,
  extra: Record<string, string> = {},
) {
  const base =
    provider === "spotify"
      ? `${fake.baseUrls.SPOTIFY_ACCOUNTS_BASE_URL}/authorize`
      : `${fake.baseUrls.INSTAGRAM_AUTHORIZE_BASE_URL}/oauth/authorize`;
  const query = new URLSearchParams({
    client_id: provider === "spotify" ? "fake-spotify-client-id" : "fake-instagram-app-id",
    response_type: "code",
    redirect_uri: REDIRECT,
    state: "st-123",
    scope: provider === "spotify" ? "playlist-read-private user-top-read" : "instagram_business_basic",
    ...extra,
  });
  const page = await fetch(`${base}?${query}`);
  const html = await page.text();
  const form = new URLSearchParams(query);
  form.set("decision", decision);
  form.set("account", account);
  const res = await fetch(`${base}/decision`, { method: "POST", body: form, redirect: "manual" });
  return { pageStatus: page.status, html, status: res.status, location: res.headers.get("location") ?? "" };
}

async function spotifyCode(accountId: string): Promise<string> {
  const { location } = await consent("spotify", "allow", accountId);
  return new URL(location).searchParams.get("code")!;
}

/** Follows `next` links from a first URL; returns every page body. */
async function allPages(first: string, headers: Record<string, string>, nextOf: (b: Json) => unknown) {
  const pages: Json[] = [];
  let url: string | null = first;
  while (url) {
    const r = await getJson(url, headers);
    expect(r.status).toBe(200);
    pages.push(r.body);
    const next = nextOf(r.body);
    url = typeof next === "string" ? next : null;
  }
  return pages;
}

function newSpotify(spec: Parameters<FakeProviders["addAccount"]>[1] = {}) {
  const { id } = fake.addAccount("spotify", spec);
  return { id, ...fake.issueTokens("spotify", id) };
}

function newInstagram(spec: Parameters<FakeProviders["addAccount"]>[1] = {}) {
  const { id } = fake.addAccount("instagram", spec);
  return { id, ...fake.issueTokens("instagram", id) };
}

// --- Spotify responses against the OpenAPI description ------------------------------------------

describe("Spotify responses and the OpenAPI description", () => {
  const cases: [string, string, string][] = [
    ["/me", "/v1/me", "GET /me"],
    ["/me/playlists", "/v1/me/playlists?limit=50", "GET /me/playlists"],
    ["/me/top/artists", "/v1/me/top/artists?time_range=short_term&limit=50", "top artists"],
    ["/me/top/tracks", "/v1/me/top/tracks?time_range=long_term&limit=10&offset=5", "top tracks"],
    ["/me/player/recently-played", "/v1/me/player/recently-played?limit=50", "recently played"],
  ];

  for (const extendedQuota of [false, true]) {
    for (const [openapiPath, url, name] of cases) {
      test(`when ${name} is fetched (${extendedQuota ? "extended quota" : "development mode"}), then the body matches the operation's 200 schema`, async () => {
        const a = newSpotify({ playlists: 60, topItems: 50, recentlyPlayed: 50, extendedQuota });
        const r = await spotify(url, a.accessToken);
        expect(r.status).toBe(200);
        expectValid(responseValidator(openapiPath), r.body);
      });
    }
  }

  test("when an account has nothing (no playlists, tops or plays, empty name), then every response still matches", async () => {
    const a = newSpotify({ playlists: 0, topItems: 0, recentlyPlayed: 0, displayName: "" });
    for (const [openapiPath, url] of cases) {
      const r = await spotify(url, a.accessToken);
      expect(r.status).toBe(200);
      expectValid(responseValidator(openapiPath), r.body);
    }
    expect((await spotify("/v1/me", a.accessToken)).body.display_name).toBe("");
  });

  test("when the validator sees a broken body, then it rejects it (the schema test can fail)", async () => {
    const a = newSpotify({ playlists: 3 });
    fake.fault("spotify", { endpoint: "me/playlists", kind: "schema", times: 1 });
    const r = await spotify("/v1/me/playlists", a.accessToken);
    expect(r.status).toBe(200);
    expect(responseValidator("/me/playlists")(r.body)).toBe(false);
  });

  test("when 300 playlists are generated, then some have no images, some an unsized cover, and names include unicode and empty", async () => {
    const a = newSpotify({ playlists: 300, seed: 7 });
    const pages = await allPages(
      `${fake.baseUrls.SPOTIFY_API_BASE_URL}/v1/me/playlists?limit=50`,
      { authorization: `Bearer ${a.accessToken}` },
      (b) => b.next,
    );
    const items = pages.flatMap((p) => p.items as Json[]);
    expect(items).toHaveLength(300);
    expect(items.some((p) => (p.images as unknown[]).length === 0)).toBe(true);
    expect(items.some((p) => (p.images as Json[]).length === 1 && (p.images as Json[])[0]!.width === null)).toBe(true);
    expect(items.some((p) => p.name === "")).toBe(true);
    expect(items.some((p) => /[^ -~]/.test(String(p.name)))).toBe(true);
  });
});

// --- OAuth --------------------------------------------------------------------------------------

describe("Spotify OAuth", () => {
  test("when the consent page is allowed, then it redirects with a code and the state, and the code buys tokens once", async () => {
    const { id } = fake.addAccount("spotify");
    const c = await consent("spotify", "allow", id);
    expect(c.pageStatus).toBe(200);
    expect(c.html).toContain(id);
    expect(c.status).toBe(302);
    const back = new URL(c.location);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get("state")).toBe("st-123");
    const code = back.searchParams.get("code")!;

    const first = await spotifyToken({ grant_type: "authorization_code", code, redirect_uri: REDIRECT });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      token_type: "Bearer",
      expires_in: 3600,
      scope: "playlist-read-private user-top-read",
    });
    expect(typeof first.body.refresh_token).toBe("string");
    const me = await spotify("/v1/me", first.body.access_token as string);
    expect(me.body.id).toBe(id);

    const again = await spotifyToken({ grant_type: "authorization_code", code, redirect_uri: REDIRECT });
    expect(again).toEqual({
      status: 400,
      body: { error: "invalid_grant", error_description: "Invalid authorization code" },
    });
  });

  test("when the consent page is denied, then it redirects with error=access_denied and the state", async () => {
    const c = await consent("spotify", "deny", "new");
    expect(c.status).toBe(302);
    const back = new URL(c.location);
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("state")).toBe("st-123");
    expect(back.searchParams.has("code")).toBe(false);
  });

  test("when 'new account' is chosen, then a fresh fake account is created and the token belongs to it", async () => {
    const before = fake.accounts("spotify").length;
    const { location } = await consent("spotify", "allow", "new");
    const code = new URL(location).searchParams.get("code")!;
    const t = await spotifyToken({ grant_type: "authorization_code", code, redirect_uri: REDIRECT });
    expect(fake.accounts("spotify")).toHaveLength(before + 1);
    const me = await spotify("/v1/me", t.body.access_token as string);
    expect(me.body.id).toBe(fake.accounts("spotify").at(-1)!.id);
  });

  test("when the redirect URI is http://localhost or the client is unknown, then the authorize page refuses (no redirect)", async () => {
    const local = await consent("spotify", "allow", "new", { redirect_uri: "http://localhost:5002/cb" });
    expect(local.pageStatus).toBe(400);
    expect(local.html).toContain("Insecure redirect URI");
    const unknown = await consent("spotify", "allow", "new", { client_id: "someone-else" });
    expect(unknown.pageStatus).toBe(400);
    expect(unknown.status).toBe(400);
  });

  test("when the code is redeemed with another redirect_uri, a wrong secret or after 10 minutes, then the token endpoint refuses", async () => {
    const { id } = fake.addAccount("spotify");
    const code = await spotifyCode(id);
    expect(
      await spotifyToken({ grant_type: "authorization_code", code, redirect_uri: "http://127.0.0.1:1/x" }),
    ).toEqual({
      status: 400,
      body: { error: "invalid_grant", error_description: "Invalid redirect URI" },
    });
    const wrong = `Basic ${Buffer.from("fake-spotify-client-id:nope").toString("base64")}`;
    expect(
      (await spotifyToken({ grant_type: "authorization_code", code, redirect_uri: REDIRECT }, wrong)).body.error,
    ).toBe("invalid_client");
    const late = await spotifyCode(id);
    fake.clock.advance(11 * 60_000);
    expect(
      (await spotifyToken({ grant_type: "authorization_code", code: late, redirect_uri: REDIRECT })).body.error,
    ).toBe("invalid_grant");
  });

  test("when refresh tokens do not rotate, then a refresh omits refresh_token and the old one keeps working", async () => {
    const a = newSpotify();
    const r1 = await spotifyToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! });
    expect(r1.status).toBe(200);
    expect(r1.body.refresh_token).toBeUndefined();
    expect(r1.body.access_token).not.toBe(a.accessToken);
    const r2 = await spotifyToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! });
    expect(r2.status).toBe(200);
  });

  test("when refresh tokens rotate, then a refresh returns a new one, the old one is invalid_grant, and the new one keeps the old expiry", async () => {
    fake.rotateRefreshTokens(true);
    const a = newSpotify();
    const r1 = await spotifyToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! });
    expect(r1.status).toBe(200);
    const rotated = r1.body.refresh_token as string;
    expect(typeof rotated).toBe("string");
    expect(rotated).not.toBe(a.refreshToken);
    expect(await spotifyToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! })).toEqual({
      status: 400,
      body: { error: "invalid_grant", error_description: "Refresh token revoked" },
    });
    expect((await spotifyToken({ grant_type: "refresh_token", refresh_token: rotated })).status).toBe(200);
    // Refresh tokens die 6 months after the first one was issued, however often they were rotated.
    fake.clock.advance(184 * DAY);
    const dead = await spotifyToken({ grant_type: "refresh_token", refresh_token: r1.body.refresh_token as string });
    expect(dead.body.error).toBe("invalid_grant");
  });

  test("when tokens are revoked, then refresh answers invalid_grant and the API answers 401", async () => {
    const a = newSpotify();
    fake.revokeTokens("spotify", a.id);
    const r = await spotifyToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! });
    expect(r).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Refresh token revoked" } });
    const me = await spotify("/v1/me", a.accessToken);
    expect(me.status).toBe(401);
    expect(me.body).toEqual({ error: { status: 401, message: "Invalid access token" } });
  });

  test("when an hour of fake time passes, then the access token has expired (401) and a refresh gives a working one", async () => {
    const a = newSpotify();
    expect((await spotify("/v1/me", a.accessToken)).status).toBe(200);
    fake.clock.advance(HOUR + 1000);
    const expired = await spotify("/v1/me", a.accessToken);
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({ error: { status: 401, message: "The access token expired" } });
    expect(expired.headers.get("www-authenticate")).toContain("invalid_token");
    const r = await spotifyToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! });
    expect((await spotify("/v1/me", r.body.access_token as string)).status).toBe(200);
  });

  test("when the account is not allow-listed or a scope is missing, then the API answers 403", async () => {
    const blocked = newSpotify({ allowListed: false });
    const r = await spotify("/v1/me/playlists", blocked.accessToken);
    expect(r.status).toBe(403);
    expect((r.body.error as Json).message).toMatch(/may not be registered/);
    const { id } = fake.addAccount("spotify");
    const narrow = fake.issueTokens("spotify", id, { scopes: ["playlist-read-private"] });
    expect((await spotify("/v1/me/playlists", narrow.accessToken)).status).toBe(200);
    expect((await spotify("/v1/me/top/tracks", narrow.accessToken)).status).toBe(403);
  });
});

describe("Instagram OAuth and tokens", () => {
  async function shortLived(accountId: string) {
    const c = await consent("instagram", "allow", accountId);
    expect(c.location.endsWith("#_")).toBe(true);
    const code = new URL(c.location).searchParams.get("code")!;
    const res = await fetch(`${fake.baseUrls.INSTAGRAM_OAUTH_BASE_URL}/oauth/access_token`, {
      method: "POST",
      body: new URLSearchParams({
        client_id: "fake-instagram-app-id",
        client_secret: "fake-instagram-app-secret",
        grant_type: "authorization_code",
        redirect_uri: REDIRECT,
        code,
      }),
    });
    return { status: res.status, text: await res.text(), code };
  }

  test("when the code is exchanged, then a short-lived token comes back with user_id as a bare 17-digit number, once", async () => {
    const { id } = fake.addAccount("instagram");
    const r = await shortLived(id);
    expect(r.status).toBe(200);
    expect(r.text).toContain(`"user_id":${id}`);
    const body = JSON.parse(r.text) as Json;
    expect(body.permissions).toEqual(["instagram_business_basic"]);
    const me = await graph("/me", { fields: "user_id,username", access_token: body.access_token as string });
    expect(me.body.user_id).toBe(id);
    // Single use.
    const again = await fetch(`${fake.baseUrls.INSTAGRAM_OAUTH_BASE_URL}/oauth/access_token`, {
      method: "POST",
      body: new URLSearchParams({
        client_id: "fake-instagram-app-id",
        client_secret: "fake-instagram-app-secret",
        grant_type: "authorization_code",
        redirect_uri: REDIRECT,
        code: r.code,
      }),
    });
    expect(again.status).toBe(400);
    expect(((await again.json()) as Json).error_type).toBe("OAuthException");
  });

  test("when the consent page is denied, then Instagram redirects with error=access_denied, the reason and #_", async () => {
    const c = await consent("instagram", "deny", "new");
    expect(c.location.endsWith("#_")).toBe(true);
    const back = new URL(c.location);
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("error_reason")).toBe("user_denied");
    expect(back.searchParams.get("state")).toBe("st-123");
  });

  test("when a short-lived token is exchanged, then a 60-day token comes back; it refreshes only after 24 h and dies after 60 days", async () => {
    const { id } = fake.addAccount("instagram");
    const short = JSON.parse((await shortLived(id)).text) as Json;
    const wrongSecret = await graph("/access_token", {
      grant_type: "ig_exchange_token",
      client_secret: "nope",
      access_token: short.access_token as string,
    });
    expect(wrongSecret.status).toBe(400);
    const long = await graph("/access_token", {
      grant_type: "ig_exchange_token",
      client_secret: "fake-instagram-app-secret",
      access_token: short.access_token as string,
    });
    expect(long.status).toBe(200);
    expect(long.body).toMatchObject({ token_type: "bearer", expires_in: 60 * 24 * 3600 });
    const token = long.body.access_token as string;

    const tooEarly = await graph("/refresh_access_token", { grant_type: "ig_refresh_token", access_token: token });
    expect(tooEarly.status).toBe(400);
    expect((tooEarly.body.error as Json).type).toBe("OAuthException");
    expect((tooEarly.body.error as Json).code).not.toBe(190);

    fake.clock.advance(DAY);
    const refreshed = await graph("/refresh_access_token", { grant_type: "ig_refresh_token", access_token: token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.expires_in).toBe(60 * 24 * 3600);
    const fresh = refreshed.body.access_token as string;
    expect(fresh).not.toBe(token);

    fake.clock.advance(59 * DAY + HOUR); // the old token (61 days old) is dead; the refreshed one (59 days) lives
    const dead = await graph("/me", { fields: "user_id", access_token: token });
    expect(dead.status).toBe(400);
    expect(dead.body.error).toMatchObject({ type: "OAuthException", code: 190, error_subcode: 463 });
    expect((await graph("/me", { fields: "user_id", access_token: fresh })).status).toBe(200);
    const lateRefresh = await graph("/refresh_access_token", { grant_type: "ig_refresh_token", access_token: token });
    expect((lateRefresh.body.error as Json).code).toBe(190);
  });

  test("when tokens are revoked, then Graph answers error 190", async () => {
    const a = newInstagram();
    fake.revokeTokens("instagram", a.id);
    const r = await graph("/me/media", { fields: "id", access_token: a.accessToken });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ type: "OAuthException", code: 190 });
  });
});

// --- Paging ---------------------------------------------------------------------------------------

describe("paging", () => {
  for (const size of [0, 1, 50, 51]) {
    test(`when a Spotify account has ${size} playlists, then limit=50 pages return each exactly once`, async () => {
      const a = newSpotify({ playlists: size });
      const pages = await allPages(
        `${fake.baseUrls.SPOTIFY_API_BASE_URL}/v1/me/playlists?limit=50`,
        { authorization: `Bearer ${a.accessToken}` },
        (b) => b.next,
      );
      expect(pages).toHaveLength(Math.max(1, Math.ceil(size / 50)));
      const ids = pages.flatMap((p) => (p.items as Json[]).map((i) => i.id));
      expect(ids).toHaveLength(size);
      expect(new Set(ids).size).toBe(size);
      expect(pages.every((p) => p.total === size)).toBe(true);
    });

    test(`when an Instagram account has ${size} media, then limit=50 cursor pages return each exactly once`, async () => {
      const a = newInstagram({ media: size });
      const pages = await allPages(
        `${fake.baseUrls.INSTAGRAM_GRAPH_BASE_URL}/me/media?fields=id,media_type&limit=50&access_token=${a.accessToken}`,
        {},
        (b) => (b.paging as Json | undefined)?.next,
      );
      expect(pages).toHaveLength(Math.max(1, Math.ceil(size / 50)));
      const ids = pages.flatMap((p) => (p.data as Json[]).map((i) => i.id));
      expect(ids).toHaveLength(size);
      expect(new Set(ids).size).toBe(size);
    });
  }

  test("when a Spotify account has 5,000 playlists, then all 100 pages arrive", async () => {
    const a = newSpotify({ playlists: 5000 });
    const started = Date.now();
    const pages = await allPages(
      `${fake.baseUrls.SPOTIFY_API_BASE_URL}/v1/me/playlists?limit=50`,
      { authorization: `Bearer ${a.accessToken}` },
      (b) => b.next,
    );
    expect(pages).toHaveLength(100);
    expect(new Set(pages.flatMap((p) => (p.items as Json[]).map((i) => i.id))).size).toBe(5000);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  test("when limit is above 50 or offset is negative, then Spotify answers 400", async () => {
    const a = newSpotify();
    expect((await spotify("/v1/me/playlists?limit=51", a.accessToken)).status).toBe(400);
    expect((await spotify("/v1/me/playlists?offset=-1", a.accessToken)).status).toBe(400);
    expect((await spotify("/v1/me/top/tracks?time_range=forever", a.accessToken)).status).toBe(400);
  });

  test("when recently played is paged with before, then pages are newest first, disjoint, and end with next=null", async () => {
    const a = newSpotify({ recentlyPlayed: 45 });
    const pages = await allPages(
      `${fake.baseUrls.SPOTIFY_API_BASE_URL}/v1/me/player/recently-played?limit=20`,
      { authorization: `Bearer ${a.accessToken}` },
      (b) => b.next,
    );
    expect(pages.map((p) => (p.items as unknown[]).length)).toEqual([20, 20, 5]);
    const times = pages.flatMap((p) => (p.items as Json[]).map((i) => Date.parse(i.played_at as string)));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    const newest = times[0]!;
    const after = await spotify(`/v1/me/player/recently-played?after=${newest - 1}`, a.accessToken);
    expect((after.body.items as unknown[]).length).toBe(1);
    expect((await spotify("/v1/me/player/recently-played?after=1&before=2", a.accessToken)).status).toBe(400);
  });

  test("when carousels are on, then CAROUSEL_ALBUM items carry children and videos a thumbnail", async () => {
    const a = newInstagram({ media: 120, seed: 3 });
    const r = await graph("/me/media", {
      fields:
        "id,caption,media_type,media_url,permalink,thumbnail_url,timestamp,children{id,media_type,media_url,thumbnail_url}",
      limit: "100",
      access_token: a.accessToken,
    });
    const items = r.body.data as Json[];
    const carousel = items.find((m) => m.media_type === "CAROUSEL_ALBUM")!;
    expect(((carousel.children as Json).data as unknown[]).length).toBeGreaterThanOrEqual(2);
    const video = items.find((m) => m.media_type === "VIDEO")!;
    expect(typeof video.thumbnail_url).toBe("string");
    expect(items.filter((m) => m.media_type === "IMAGE").every((m) => m.thumbnail_url === undefined)).toBe(true);
    expect(items.some((m) => m.caption === undefined)).toBe(true);
    expect(items.every((m) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/.test(m.timestamp as string))).toBe(true);
    const flat = newInstagram({ media: 120, seed: 3, carousels: false });
    const r2 = await graph("/me/media", { fields: "id,media_type", limit: "100", access_token: flat.accessToken });
    expect((r2.body.data as Json[]).some((m) => m.media_type === "CAROUSEL_ALBUM")).toBe(false);
  });

  test("when Graph is asked for an unknown field, then it answers error 100", async () => {
    const a = newInstagram();
    const r = await graph("/me", { fields: "user_id,secret_field", access_token: a.accessToken });
    expect(r.status).toBe(400);
    expect((r.body.error as Json).code).toBe(100);
  });
});

// --- Data that changes, determinism, files ---------------------------------------------------------

describe("data", () => {
  test("when items change, then exactly those playlists get a new snapshot_id and cover URL", async () => {
    const a = newSpotify({ playlists: 20, seed: 11 });
    const before = (await spotify("/v1/me/playlists?limit=50", a.accessToken)).body.items as Json[];
    const changed = fake.account("spotify", a.id).changeItems(2);
    const after = (await spotify("/v1/me/playlists?limit=50", a.accessToken)).body.items as Json[];
    expect(changed).toEqual([before[0]!.id, before[1]!.id]);
    for (let i = 0; i < 20; i++) {
      const same = i >= 2;
      expect(after[i]!.id).toBe(before[i]!.id);
      expect(after[i]!.snapshot_id === before[i]!.snapshot_id).toBe(same);
      if ((before[i]!.images as unknown[]).length > 0) {
        expect(JSON.stringify(after[i]!.images) === JSON.stringify(before[i]!.images)).toBe(same);
      }
    }
  });

  test("when counts and names change while running, then the API reflects them", async () => {
    const a = newSpotify({ playlists: 3 });
    const acc = fake.account("spotify", a.id);
    acc.setPlaylistCount(70);
    acc.rename("Zoë 🎧");
    expect((await spotify("/v1/me/playlists", a.accessToken)).body.total).toBe(70);
    expect((await spotify("/v1/me", a.accessToken)).body.display_name).toBe("Zoë 🎧");
    const ig = newInstagram({ media: 2 });
    const igAcc = fake.account("instagram", ig.id);
    igAcc.setMediaCount(9);
    const [changedId] = igAcc.changeItems(1);
    const r = await graph("/me", { fields: "media_count", access_token: ig.accessToken });
    expect(r.body.media_count).toBe(9);
    const media = await graph("/me/media", { fields: "id,caption", access_token: ig.accessToken });
    expect((media.body.data as Json[])[0]).toMatchObject({
      id: changedId,
      caption: expect.stringContaining("(edited 1)"),
    });
  });

  test("when two servers get the same account spec, then they serve the same data", async () => {
    const other = await startFakeProviders({ port: 0 });
    try {
      const spec = { id: "same-person", seed: 42, playlists: 5 };
      const bodies = [];
      for (const f of [fake, other]) {
        f.addAccount("spotify", spec);
        const t = f.issueTokens("spotify", "same-person");
        const r = await getJson(`${f.baseUrls.SPOTIFY_API_BASE_URL}/v1/me/playlists`, {
          authorization: `Bearer ${t.accessToken}`,
        });
        bodies.push(r.text.split(f.url).join("<base>"));
      }
      expect(bodies[0]).toBe(bodies[1]);
    } finally {
      await other.stop();
    }
  });

  test("when a cover or media URL is fetched, then real JPEG / MP4 bytes come back; Instagram URLs expire after days", async () => {
    const a = newSpotify({ playlists: 30, seed: 5 });
    const items = (await spotify("/v1/me/playlists?limit=30", a.accessToken)).body.items as Json[];
    const cover = (items.find((p) => (p.images as Json[]).length === 3)!.images as Json[])[0]!;
    const res = await fetch(cover.url as string);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    const decoded = jpeg.decode(Buffer.from(await res.arrayBuffer()));
    expect([decoded.width, decoded.height]).toEqual([cover.width, cover.height]);

    const ig = newInstagram({ media: 40, seed: 9 });
    const media = (
      await graph("/me/media", { fields: "media_type,media_url", limit: "40", access_token: ig.accessToken })
    ).body.data as Json[];
    const video = media.find((m) => m.media_type === "VIDEO")!;
    const v = await fetch(video.media_url as string);
    expect(v.status).toBe(200);
    expect(v.headers.get("content-type")).toBe("video/mp4");
    expect(
      Buffer.from(await v.arrayBuffer())
        .subarray(4, 8)
        .toString("latin1"),
    ).toBe("ftyp");
    const tampered = (video.media_url as string).replace(/oh=[0-9a-f]+/, "oh=0000");
    expect((await fetch(tampered)).status).toBe(403);
    fake.clock.advance(4 * DAY);
    const expired = await fetch(video.media_url as string);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toBe("URL signature expired");
  });
});

// --- Faults ---------------------------------------------------------------------------------------

describe("faults", () => {
  test("when a 429 fault with times=2 is set, then two requests get Retry-After and the third succeeds", async () => {
    const a = newSpotify();
    fake.fault("spotify", { endpoint: "me", kind: "429", retryAfterSeconds: 43_200, times: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await spotify("/v1/me", a.accessToken);
      expect(r.status).toBe(429);
      expect(r.headers.get("retry-after")).toBe("43200");
    }
    expect((await spotify("/v1/me", a.accessToken)).status).toBe(200);
  });

  test("when a fault names an account, then other accounts are unaffected", async () => {
    const a = newSpotify();
    const b = newSpotify();
    fake.fault("spotify", { accountId: a.id, kind: "5xx" });
    const r = await spotify("/v1/me/playlists", a.accessToken);
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ error: { status: 503, message: "Service unavailable" } });
    expect((await spotify("/v1/me/playlists", b.accessToken)).status).toBe(200);
  });

  test("when a fault names an endpoint, then other endpoints are unaffected; clearing it ends it", async () => {
    const a = newSpotify();
    const clear = fake.fault("spotify", { endpoint: "me/top/tracks", kind: "5xx", status: 502 });
    expect((await spotify("/v1/me/top/tracks", a.accessToken)).status).toBe(502);
    expect((await spotify("/v1/me/top/artists", a.accessToken)).status).toBe(200);
    clear();
    expect((await spotify("/v1/me/top/tracks", a.accessToken)).status).toBe(200);
  });

  test("when a slow fault is set, then the answer is normal but late", async () => {
    const a = newSpotify();
    fake.fault("spotify", { endpoint: "me", kind: "slow", delayMs: 400, times: 1 });
    const started = Date.now();
    const r = await spotify("/v1/me", a.accessToken);
    expect(r.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
  });

  test("when a hang fault is set, then no answer comes before the client gives up, and the server still stops cleanly", async () => {
    const own = await startFakeProviders({ port: 0 });
    const { id } = own.addAccount("instagram");
    const t = own.issueTokens("instagram", id);
    own.fault("instagram", { endpoint: "media", kind: "hang" });
    const started = Date.now();
    const outcome = await fetch(`${own.baseUrls.INSTAGRAM_GRAPH_BASE_URL}/me/media?access_token=${t.accessToken}`, {
      signal: AbortSignal.timeout(300),
    }).then(
      () => "answered",
      (err: Error) => err.name,
    );
    expect(outcome).toBe("TimeoutError");
    expect(Date.now() - started).toBeLessThan(2000);
    // A second hung request is still open when the server stops: stop() must not wait for it.
    const pending = fetch(`${own.baseUrls.INSTAGRAM_GRAPH_BASE_URL}/me/media?access_token=${t.accessToken}`).catch(
      (err: Error) => err.name,
    );
    await new Promise((r) => setTimeout(r, 50));
    await own.stop();
    expect(await pending).toBe("TypeError"); // socket closed under it
  });

  test("when a malformed fault is set, then the body is not JSON", async () => {
    const a = newInstagram();
    fake.fault("instagram", { endpoint: "me", kind: "malformed", times: 1 });
    const r = await graph("/me", { fields: "user_id", access_token: a.accessToken });
    expect(r.status).toBe(200);
    expect(() => JSON.parse(r.text)).toThrow();
  });

  test("when a schema fault is set, then the body is JSON with the wrong shape", async () => {
    const a = newInstagram({ media: 3 });
    fake.fault("instagram", { endpoint: "media", kind: "schema", times: 1 });
    const r = await graph("/me/media", { fields: "id", access_token: a.accessToken });
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body.data)).toBe(false);
  });

  test("when a bad-item fault is set, then one list item breaks and the others stay intact", async () => {
    const a = newSpotify({ playlists: 4 });
    fake.fault("spotify", { endpoint: "me/playlists", kind: "bad-item", times: 1 });
    const items = (await spotify("/v1/me/playlists", a.accessToken)).body.items as Json[];
    expect(items).toHaveLength(4);
    expect(items[0]!.id).toBeNull();
    expect(items.slice(1).every((p) => typeof p.id === "string")).toBe(true);
  });

  test("when an invalid_grant fault is set without an endpoint, then only the token endpoint fails", async () => {
    const a = newSpotify();
    fake.fault("spotify", { kind: "invalid_grant", times: 1 });
    expect((await spotify("/v1/me", a.accessToken)).status).toBe(200);
    const r = await spotifyToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! });
    expect(r).toEqual({ status: 400, body: { error: "invalid_grant", error_description: "Refresh token revoked" } });
  });

  test("when an ig190 fault is set, then Graph answers OAuthException 190", async () => {
    const a = newInstagram();
    fake.fault("instagram", { accountId: a.id, kind: "ig190", times: 1 });
    const r = await graph("/me/media", { fields: "id", access_token: a.accessToken });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ type: "OAuthException", code: 190 });
  });

  test("when a 403 fault is set, then Spotify answers the development-mode message", async () => {
    const a = newSpotify();
    fake.fault("spotify", { accountId: a.id, kind: "403", times: 1 });
    const r = await spotify("/v1/me/top/artists", a.accessToken);
    expect(r.status).toBe(403);
    expect((r.body.error as Json).message).toMatch(/may not be registered/);
  });

  test("when an Instagram 429 fault is set, then it carries Retry-After and Graph error code 4", async () => {
    const a = newInstagram();
    fake.fault("instagram", { kind: "429", retryAfterSeconds: 5, times: 1 });
    const r = await graph("/me", { fields: "user_id", access_token: a.accessToken });
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("5");
    expect((r.body.error as Json).code).toBe(4);
  });

  test("when a CDN fault is set, then the file download fails and the API is unaffected", async () => {
    const a = newSpotify({ playlists: 30, seed: 5 });
    fake.fault("spotify", { endpoint: "cdn", kind: "5xx", times: 1 });
    const items = (await spotify("/v1/me/playlists?limit=30", a.accessToken)).body.items as Json[];
    const url = (items.find((p) => (p.images as Json[]).length > 0)!.images as Json[])[0]!.url as string;
    expect((await fetch(url)).status).toBe(503);
    expect((await fetch(url)).status).toBe(200);
  });

  test("when an unknown fault kind is given, then fault() throws", () => {
    expect(() => fake.fault("spotify", { kind: "boom" as never })).toThrow(/Unknown fault kind/);
  });
});

// --- Rate limit, latency, stats -------------------------------------------------------------------

describe("rate limit and stats", () => {
  test("when the rolling budget is spent, then requests get 429 with the seconds left in the window, until it rolls", async () => {
    const a = newSpotify();
    fake.resetStats();
    fake.rateLimit("spotify", { windowSeconds: 30, budget: 3 });
    for (let i = 0; i < 3; i++) expect((await spotify("/v1/me", a.accessToken)).status).toBe(200);
    const limited = await spotify("/v1/me/playlists", a.accessToken);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    // Token requests are not Web API calls: they do not count and are not limited.
    expect((await spotifyToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! })).status).toBe(200);
    fake.clock.advance(retryAfter * 1000);
    expect((await spotify("/v1/me", a.accessToken)).status).toBe(200);
    const s = fake.stats();
    expect(s.rateLimited).toBe(1);
    expect(s.requests).toBe(6);
    expect(s.byEndpoint).toEqual({ "spotify:me": 4, "spotify:me/playlists": 1, "spotify:token": 1 });
  });

  test("when the budget is per app, then two accounts share it", async () => {
    const a = newSpotify();
    const b = newSpotify();
    fake.rateLimit("spotify", { windowSeconds: 30, budget: 2 });
    expect((await spotify("/v1/me", a.accessToken)).status).toBe(200);
    expect((await spotify("/v1/me", b.accessToken)).status).toBe(200);
    expect((await spotify("/v1/me", a.accessToken)).status).toBe(429);
    expect((await spotify("/v1/me", b.accessToken)).status).toBe(429);
  });

  test("when latency is set, then every provider response waits at least that long", async () => {
    const a = newSpotify();
    fake.latency(150);
    const started = Date.now();
    await spotify("/v1/me", a.accessToken);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

// --- The HTTP control API ----------------------------------------------------------------------------

describe("the HTTP control API", () => {
  async function control(op: string, body: unknown = {}) {
    const res = await fetch(`${fake.url}/_control/${op}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  test("when an account is created, changed and given tokens over HTTP, then the API serves it", async () => {
    const { body: acc } = await control("addAccount", {
      provider: "spotify",
      spec: { playlists: 2, displayName: "Ctl" },
    });
    const id = acc.id as string;
    const { body: tok } = await control("issueTokens", { provider: "spotify", accountId: id });
    const changed = await control("account", { provider: "spotify", id, action: "setPlaylistCount", args: [7] });
    expect(changed.body).toMatchObject({ id, playlists: 7 });
    const r = await spotify("/v1/me/playlists", tok.accessToken as string);
    expect(r.body.total).toBe(7);
    const list = await control("accounts", { provider: "spotify" });
    expect((list.body.accounts as Json[]).some((a) => a.id === id)).toBe(true);
  });

  test("when faults, the clock, rate limit, rotation and stats are driven over HTTP, then they take effect", async () => {
    const a = newSpotify();
    const f = await control("fault", { provider: "spotify", fault: { endpoint: "me", kind: "5xx", times: 5 } });
    expect((await spotify("/v1/me", a.accessToken)).status).toBe(503);
    const listed = await control("faults");
    expect(listed.body.faults).toEqual([expect.objectContaining({ id: f.body.id, fired: 1, remaining: 4 })]);
    expect((await control("clearFault", { id: f.body.id })).status).toBe(200);
    expect((await spotify("/v1/me", a.accessToken)).status).toBe(200);

    const now = Date.parse((await control("clock/now")).body.now as string);
    const later = Date.parse((await control("clock/advance", { ms: 2 * HOUR })).body.now as string);
    expect(later - now).toBeGreaterThanOrEqual(2 * HOUR);
    expect((await spotify("/v1/me", a.accessToken)).status).toBe(401);

    await control("rotateRefreshTokens", { on: true });
    const r = await spotifyToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! });
    expect(typeof r.body.refresh_token).toBe("string");

    await control("rateLimit", { provider: "spotify", limit: { windowSeconds: 30, budget: 0 } });
    expect((await spotify("/v1/me", r.body.access_token as string)).status).toBe(429);
    await control("rateLimit", { provider: "spotify", limit: null });

    await control("resetStats");
    await spotify("/v1/me", r.body.access_token as string);
    expect((await control("stats")).body).toEqual({ requests: 1, rateLimited: 0, byEndpoint: { "spotify:me": 1 } });
  });

  test("when an operation is unknown or its body is wrong, then the control API answers 400 with a sentence", async () => {
    const unknown = await control("explode");
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/Unknown control operation "explode"/);
    const bad = await control("addAccount", { provider: "myspace" });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/"provider" must be/);
    const help = await control("help");
    expect(Object.keys(help.body.operations as Json)).toContain("clock/advance");
  });
});
