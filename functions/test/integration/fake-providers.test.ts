/**
 * The fake provider server (scripts/fake-providers) over real HTTP, on a random loopback port:
 * its Spotify responses validate against the OpenAPI description in docs/reference, and its
 * OAuth, token, paging, fault, rate-limit, clock and control behaviour is what the clients rely on
 * (YouTube's: Google's OAuth endpoints and the Data API v3, at the end).
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
  fake.rateLimit("youtube", null);
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

// --- YouTube: Google's OAuth endpoints and the Data API v3 ----------------------------------------

describe("YouTube", () => {
  const CLIENT_ID = "fake-youtube-client-id.apps.googleusercontent.com";
  const CLIENT = { client_id: CLIENT_ID, client_secret: "fake-youtube-client-secret" };
  const READONLY = "https://www.googleapis.com/auth/youtube.readonly";
  const SCOPE = `openid ${READONLY}`;
  const EXPIRED_OR_REVOKED = { error: "invalid_grant", error_description: "Token has been expired or revoked." };

  const authorizeUrl = () => `${fake.baseUrls.YOUTUBE_AUTHORIZE_BASE_URL}/o/oauth2/v2/auth`;
  const oauth = (path: string) => `${fake.baseUrls.YOUTUBE_OAUTH_BASE_URL}${path}`;

  /**
   * Drives Google's consent page: GET it, then POST the decision. `untickYouTube` posts the form as
   * the page has it (granular consent) with the YouTube box unticked.
   */
  async function googleConsent(
    decision: "allow" | "deny",
    account: string,
    opts: { query?: Record<string, string>; drop?: string[]; untickYouTube?: boolean } = {},
  ) {
    const query = new URLSearchParams({
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT,
      response_type: "code",
      scope: SCOPE,
      state: "st-yt",
      access_type: "offline",
      prompt: "consent",
      ...opts.query,
    });
    for (const k of opts.drop ?? []) query.delete(k);
    const page = await fetch(`${authorizeUrl()}?${query}`);
    const html = await page.text();
    const form = new URLSearchParams(query);
    form.set("decision", decision);
    form.set("account", account);
    if (opts.untickYouTube) form.set("granular", "1"); // and no granted_scope: the box is unticked
    const res = await fetch(`${authorizeUrl()}/decision`, { method: "POST", body: form, redirect: "manual" });
    const location = res.headers.get("location") ?? "";
    return { pageStatus: page.status, html, status: res.status, back: location ? new URL(location) : undefined };
  }

  function googleToken(form: Record<string, string>, client: Record<string, string> = CLIENT) {
    return fetch(oauth("/token"), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...client, ...form }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Json }));
  }

  async function codeFor(account: string, opts: Parameters<typeof googleConsent>[2] = {}) {
    const c = await googleConsent("allow", account, opts);
    return c.back!.searchParams.get("code")!;
  }

  function yt(path: string, token?: string) {
    return getJson(
      `${fake.baseUrls.YOUTUBE_DATA_BASE_URL}/youtube/v3/${path}`,
      token ? { authorization: `Bearer ${token}` } : {},
    );
  }

  const reasonOf = (body: Json) => ((body.error as Json).errors as Json[])[0]!.reason;

  function newYouTube(spec: Parameters<FakeProviders["addAccount"]>[1] = {}) {
    const { id } = fake.addAccount("youtube", spec);
    return { id, ...fake.issueTokens("youtube", id) };
  }

  /** Follows nextPageToken from a first request; returns every page body. */
  async function ytPages(path: string, token: string) {
    const pages: Json[] = [];
    let pageTokenParam = "";
    for (let guard = 0; guard < 200; guard++) {
      const r = await yt(`${path}${pageTokenParam ? `&pageToken=${encodeURIComponent(pageTokenParam)}` : ""}`, token);
      expect(r.status).toBe(200);
      pages.push(r.body);
      if (r.body.nextPageToken === undefined) return pages;
      pageTokenParam = r.body.nextPageToken as string;
    }
    throw new Error("paging never ended");
  }

  describe("Google OAuth", () => {
    test("when consent is allowed with access_type=offline and prompt=consent, then the code buys a refresh token once", async () => {
      const { id } = fake.addAccount("youtube", { displayName: "Ada Lovelace" });
      const c = await googleConsent("allow", id);
      expect(c.pageStatus).toBe(200);
      expect(c.html).toContain("Ada Lovelace");
      expect(c.status).toBe(302);
      expect(`${c.back!.origin}${c.back!.pathname}`).toBe(REDIRECT);
      expect(c.back!.searchParams.get("state")).toBe("st-yt");
      expect(c.back!.searchParams.get("scope")).toBe(SCOPE);
      const code = c.back!.searchParams.get("code")!;
      expect(code.startsWith("4/0A")).toBe(true); // "/" in a code: the redirect must be decoded

      const t = await googleToken({ grant_type: "authorization_code", code, redirect_uri: REDIRECT });
      expect(t.status).toBe(200);
      expect(t.body).toMatchObject({ expires_in: 3599, scope: SCOPE, token_type: "Bearer" });
      expect(typeof t.body.refresh_token).toBe("string");
      const claims = JSON.parse(Buffer.from(String(t.body.id_token).split(".")[1]!, "base64url").toString()) as Json;
      expect(claims).toMatchObject({ sub: id, aud: CLIENT_ID, iss: "https://accounts.google.com" });
      const channels = await yt("channels?part=snippet&mine=true", t.body.access_token as string);
      expect(((channels.body.items as Json[])[0]!.snippet as Json).title).toBe("Ada Lovelace");

      const again = await googleToken({ grant_type: "authorization_code", code, redirect_uri: REDIRECT });
      expect(again).toEqual({ status: 400, body: EXPIRED_OR_REVOKED });
    });

    test("when prompt=consent or access_type=offline is missing, then the code buys no refresh token", async () => {
      const { id } = fake.addAccount("youtube");
      for (const drop of ["prompt", "access_type"]) {
        const code = await codeFor(id, { drop: [drop] });
        const t = await googleToken({ grant_type: "authorization_code", code, redirect_uri: REDIRECT });
        expect(t.status).toBe(200);
        expect(t.body.refresh_token).toBeUndefined();
        expect((await yt("channels?part=id&mine=true", t.body.access_token as string)).status).toBe(200);
      }
    });

    test("when the person unticks the YouTube scope, then the token has only openid and the Data API answers 403 insufficientPermissions", async () => {
      const { id } = fake.addAccount("youtube");
      const c = await googleConsent("allow", id, { untickYouTube: true });
      expect(c.html).toContain(`name="granted_scope" value="${READONLY}"`);
      expect(c.back!.searchParams.get("scope")).toBe("openid");
      const t = await googleToken({
        grant_type: "authorization_code",
        code: c.back!.searchParams.get("code")!,
        redirect_uri: REDIRECT,
      });
      expect(t.body.scope).toBe("openid");
      const r = await yt("channels?part=snippet&mine=true", t.body.access_token as string);
      expect(r.status).toBe(403);
      expect(reasonOf(r.body)).toBe("insufficientPermissions");
      expect((r.body.error as Json).status).toBe("PERMISSION_DENIED");
      const info = await getJson(oauth(`/tokeninfo?access_token=${t.body.access_token as string}`));
      expect(info.body).toMatchObject({ sub: id, scope: "openid" });
    });

    test("when consent is denied, then Google redirects with error=access_denied and the state, no code", async () => {
      const c = await googleConsent("deny", "new");
      expect(c.status).toBe(302);
      expect(c.back!.searchParams.get("error")).toBe("access_denied");
      expect(c.back!.searchParams.get("state")).toBe("st-yt");
      expect(c.back!.searchParams.has("code")).toBe(false);
    });

    test("when the authorize request has no scope or an unknown one, then the page refuses without redirecting", async () => {
      const none = await googleConsent("allow", "new", { drop: ["scope"] });
      expect([none.pageStatus, none.status]).toEqual([400, 400]);
      expect(none.html).toContain("Missing required parameter: scope");
      const bad = await googleConsent("allow", "new", { query: { scope: "openid,youtube" } });
      expect(bad.pageStatus).toBe(400);
      expect(bad.html).toContain("invalid_scope");
    });

    test("when the client, secret, redirect_uri, code or grant type is wrong, then the token endpoint answers Google's errors", async () => {
      const { id } = fake.addAccount("youtube");
      const code = await codeFor(id);
      const form = { grant_type: "authorization_code", code, redirect_uri: REDIRECT };
      expect(await googleToken(form, { ...CLIENT, client_id: "someone-else" })).toEqual({
        status: 401,
        body: { error: "invalid_client", error_description: "The OAuth client was not found." },
      });
      const wrongSecret = await googleToken(form, { ...CLIENT, client_secret: "nope" });
      expect([wrongSecret.status, wrongSecret.body.error]).toEqual([401, "invalid_client"]);
      const elsewhere = await googleToken({ ...form, redirect_uri: "http://127.0.0.1:1/x" });
      expect([elsewhere.status, elsewhere.body.error]).toEqual([400, "redirect_uri_mismatch"]);
      expect(await googleToken({ ...form, code: "4/0Anope" })).toEqual({ status: 400, body: EXPIRED_OR_REVOKED });
      expect((await googleToken({ ...form, grant_type: "password" })).body.error).toBe("unsupported_grant_type");
      // The failed attempts did not use the code up; ten minutes of fake time kill a code.
      expect((await googleToken(form)).status).toBe(200);
      const late = await codeFor(id);
      fake.clock.advance(11 * 60_000);
      expect(await googleToken({ ...form, code: late })).toEqual({ status: 400, body: EXPIRED_OR_REVOKED });
    });

    test("when a token is refreshed, then the answer has no refresh_token and the refresh token keeps working, even a year later", async () => {
      fake.rotateRefreshTokens(true); // Google never rotates: the switch changes nothing here
      const a = newYouTube();
      const r1 = await googleToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! });
      expect(r1.status).toBe(200);
      expect(r1.body).toMatchObject({ expires_in: 3599, scope: SCOPE, token_type: "Bearer" });
      expect(r1.body.refresh_token).toBeUndefined();
      expect(r1.body.access_token).not.toBe(a.accessToken);

      fake.clock.advance(3600_000);
      const expired = await yt("channels?part=id&mine=true", a.accessToken);
      expect(expired.status).toBe(401);
      expect(reasonOf(expired.body)).toBe("authError");
      expect((expired.body.error as Json).status).toBe("UNAUTHENTICATED");
      expect(expired.headers.get("www-authenticate")).toContain('error="invalid_token"');

      fake.clock.advance(365 * DAY);
      const r2 = await googleToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! });
      expect(r2.status).toBe(200);
      expect((await yt("channels?part=id&mine=true", r2.body.access_token as string)).status).toBe(200);
    });

    test("when one token of a grant is revoked, then the whole grant stops; another grant of the account lives on", async () => {
      const a = newYouTube();
      const other = fake.issueTokens("youtube", a.id);
      const refreshed = await googleToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! });
      const revoke = (token: string, where: "form" | "query" = "form") =>
        fetch(where === "form" ? oauth("/revoke") : oauth(`/revoke?token=${encodeURIComponent(token)}`), {
          method: "POST",
          body: where === "form" ? new URLSearchParams({ token }) : undefined,
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as Json }));

      expect(await revoke(a.accessToken)).toEqual({ status: 200, body: {} });
      expect(await googleToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! })).toEqual({
        status: 400,
        body: EXPIRED_OR_REVOKED,
      });
      expect((await yt("channels?part=id&mine=true", refreshed.body.access_token as string)).status).toBe(401);
      expect(await revoke(a.refreshToken!)).toEqual({
        status: 400,
        body: { error: "invalid_token", error_description: "Token expired or revoked" },
      });
      expect((await yt("channels?part=id&mine=true", other.accessToken)).status).toBe(200);
      // Google's client library sends the token in the query.
      expect((await revoke(other.refreshToken!, "query")).status).toBe(200);
      expect((await yt("channels?part=id&mine=true", other.accessToken)).status).toBe(401);
    });

    test("when tokeninfo is asked, then it names the client, the Google account and the scopes; bad tokens get invalid_token", async () => {
      const a = newYouTube({ hasChannel: false });
      const before = Math.floor(fake.clock.now().getTime() / 1000);
      const info = await getJson(oauth(`/tokeninfo?access_token=${encodeURIComponent(a.accessToken)}`));
      expect(info.status).toBe(200);
      expect(info.body).toMatchObject({
        azp: CLIENT_ID,
        aud: CLIENT_ID,
        sub: a.id,
        scope: SCOPE,
        access_type: "offline",
      });
      expect(Number(info.body.exp)).toBeGreaterThanOrEqual(before + 3598);
      expect(Number(info.body.exp)).toBeLessThanOrEqual(before + 3600);
      expect(info.body.expires_in).toMatch(/^35\d\d$/);
      // google-auth-library's getTokenInfo: POST with the token as a bearer.
      const posted = await fetch(oauth("/tokeninfo"), {
        method: "POST",
        headers: { authorization: `Bearer ${a.accessToken}`, "content-type": "application/x-www-form-urlencoded" },
      });
      expect(((await posted.json()) as Json).sub).toBe(a.id);
      const invalid = { error: "invalid_token", error_description: "Invalid Value" };
      expect((await getJson(oauth(`/tokeninfo?access_token=${encodeURIComponent(a.refreshToken!)}`))).body).toEqual(
        invalid,
      );
      fake.clock.advance(3600_000);
      const late = await getJson(oauth(`/tokeninfo?access_token=${encodeURIComponent(a.accessToken)}`));
      expect([late.status, late.body]).toEqual([400, invalid]);
    });
  });

  describe("Data API", () => {
    test("when the channel is fetched, then it has YouTube's shape: string statistics, LL likes, thumbnails the fake serves", async () => {
      const a = newYouTube({ displayName: "Zoë's Channel" });
      const r = await yt("channels?part=snippet,statistics,contentDetails&mine=true", a.accessToken);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        kind: "youtube#channelListResponse",
        pageInfo: { totalResults: 1, resultsPerPage: 5 },
      });
      const ch = (r.body.items as Json[])[0]!;
      expect(ch.id).toMatch(/^UC[A-Za-z0-9_-]{22}$/);
      expect(ch.kind).toBe("youtube#channel");
      expect(typeof ch.etag).toBe("string");
      const stats = ch.statistics as Json;
      expect(stats).toEqual({
        viewCount: expect.stringMatching(/^\d+$/),
        subscriberCount: expect.stringMatching(/^\d+$/),
        hiddenSubscriberCount: false,
        videoCount: expect.stringMatching(/^\d+$/),
      });
      expect((ch.contentDetails as Json).relatedPlaylists).toEqual({
        likes: "LL",
        uploads: `UU${String(ch.id).slice(2)}`,
      });
      const snippet = ch.snippet as Json;
      expect(snippet.title).toBe("Zoë's Channel");
      expect(Number.isNaN(Date.parse(snippet.publishedAt as string))).toBe(false);
      const thumbs = snippet.thumbnails as Record<string, Json>;
      expect(Object.keys(thumbs)).toEqual(["default", "medium", "high"]);
      expect([thumbs.default!.width, thumbs.medium!.width, thumbs.high!.width]).toEqual([88, 240, 800]);
      const img = await fetch(thumbs.medium!.url as string);
      expect(img.headers.get("content-type")).toBe("image/jpeg");
      expect(jpeg.decode(Buffer.from(await img.arrayBuffer())).width).toBeGreaterThan(0);
      expect(String(thumbs.medium!.url).startsWith(`${fake.url}/cdn/youtube/`)).toBe(true);

      const narrow = await yt("channels?part=snippet&mine=true", a.accessToken);
      expect(Object.keys((narrow.body.items as Json[])[0]!)).toEqual(["kind", "etag", "id", "snippet"]);
      const hidden = newYouTube({ hiddenSubscriberCount: true });
      const h = await yt("channels?part=statistics&mine=true", hidden.accessToken);
      const hstats = (h.body.items as Json[])[0]!.statistics as Json;
      expect(hstats.hiddenSubscriberCount).toBe(true);
      expect(hstats.subscriberCount).toBeUndefined();
    });

    test("when an account has no channel, then channels has no items key, likes are empty, subscriptions and playlists 404", async () => {
      const a = newYouTube({ hasChannel: false, likedVideos: 30, playlists: 4 });
      const ch = await yt("channels?part=snippet,statistics,contentDetails&mine=true", a.accessToken);
      expect(ch.status).toBe(200);
      expect("items" in ch.body).toBe(false);
      expect(ch.body.pageInfo).toEqual({ totalResults: 0, resultsPerPage: 5 });
      const liked = await yt("videos?part=snippet&myRating=like&maxResults=50", a.accessToken);
      expect([liked.status, liked.body.items, (liked.body.pageInfo as Json).totalResults]).toEqual([200, [], 0]);
      const subs = await yt("subscriptions?part=snippet&mine=true", a.accessToken);
      expect([subs.status, reasonOf(subs.body)]).toEqual([404, "subscriberNotFound"]);
      const lists = await yt("playlists?part=snippet&mine=true", a.accessToken);
      expect([lists.status, reasonOf(lists.body)]).toEqual([404, "channelNotFound"]);
      // Creating the channel later (control API action) makes it appear.
      fake.account("youtube", a.id).setHasChannel(true);
      const after = await yt("channels?part=id&mine=true", a.accessToken);
      expect((after.body.items as Json[]).length).toBe(1);
    });

    const listings: [string, string, Json, string][] = [
      [
        "liked videos",
        "videos?part=snippet,contentDetails,statistics&myRating=like",
        { likedVideos: 123 },
        "youtube#video",
      ],
      [
        "subscriptions",
        "subscriptions?part=snippet&mine=true&order=alphabetical",
        { subscriptions: 57 },
        "youtube#subscription",
      ],
      ["playlists", "playlists?part=snippet,contentDetails,status&mine=true", { playlists: 101 }, "youtube#playlist"],
    ];
    for (const [name, path, spec, kind] of listings) {
      test(`when ${name} are paged 50 at a time, then every item comes exactly once and the last page has no nextPageToken`, async () => {
        const total = Object.values(spec)[0] as number;
        const a = newYouTube(spec);
        const pages = await ytPages(`${path}&maxResults=50`, a.accessToken);
        expect(pages).toHaveLength(Math.ceil(total / 50));
        const items = pages.flatMap((p) => p.items as Json[]);
        expect(items).toHaveLength(total);
        expect(new Set(items.map((i) => i.id)).size).toBe(total);
        expect(items.every((i) => i.kind === kind)).toBe(true);
        expect(pages.every((p) => (p.pageInfo as Json).totalResults === total)).toBe(true);
        expect(pages.every((p) => (p.pageInfo as Json).resultsPerPage === 50)).toBe(true);
        expect(pages.slice(0, -1).every((p) => typeof p.nextPageToken === "string")).toBe(true);
        expect("nextPageToken" in pages.at(-1)!).toBe(false);
        // Without maxResults, pages hold 5.
        expect(((await yt(path, a.accessToken)).body.items as Json[]).length).toBe(5);
      });
    }

    test("when liked videos come back, then durations are ISO 8601 and statistics are strings", async () => {
      const a = newYouTube({ likedVideos: 50, seed: 12 });
      const items = (
        await yt("videos?part=snippet,contentDetails,statistics&myRating=like&maxResults=50", a.accessToken)
      ).body.items as Json[];
      expect(items.every((v) => /^[A-Za-z0-9_-]{11}$/.test(String(v.id)))).toBe(true);
      expect(
        items.every((v) => /^P(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$/.test(String((v.contentDetails as Json).duration))),
      ).toBe(true);
      const counts = items.flatMap((v) => Object.values(v.statistics as Json));
      expect(counts.every((c) => typeof c === "string" && /^\d+$/.test(c))).toBe(true);
      expect(items.every((v) => (v.snippet as Json).liveBroadcastContent === "none")).toBe(true);
    });

    test("when subscriptions are ordered alphabetically, then titles ascend across pages", async () => {
      const a = newYouTube({ subscriptions: 30 });
      const pages = await ytPages(
        "subscriptions?part=snippet&mine=true&order=alphabetical&maxResults=7",
        a.accessToken,
      );
      const titles = pages.flatMap((p) => (p.items as Json[]).map((s) => String((s.snippet as Json).title)));
      expect(titles).toHaveLength(30);
      expect(titles).toEqual([...titles].sort((x, y) => x.localeCompare(y, "en")));
    });

    test("when a page token is invented, belongs to another list or another account, then the API answers 400 invalidPageToken", async () => {
      const a = newYouTube({ subscriptions: 20, playlists: 20 });
      const b = newYouTube({ playlists: 20 });
      const subsToken = (await yt("subscriptions?part=id&mine=true", a.accessToken)).body.nextPageToken as string;
      const bToken = (await yt("playlists?part=id&mine=true", b.accessToken)).body.nextPageToken as string;
      expect((await yt(`playlists?part=id&mine=true&pageToken=${subsToken}`, a.accessToken)).status).toBe(400);
      for (const t of ["CAUQAA", "nonsense", bToken]) {
        const r = await yt(`playlists?part=id&mine=true&pageToken=${encodeURIComponent(t)}`, a.accessToken);
        expect(r.status).toBe(400);
        expect(reasonOf(r.body)).toBe("invalidPageToken");
      }
      const next = await yt(`playlists?part=id&mine=true&pageToken=${encodeURIComponent(bToken)}`, b.accessToken);
      expect(next.status).toBe(200);
    });

    test("when parameters are wrong, then the API answers 400 with Google's reasons", async () => {
      const a = newYouTube();
      const reason = async (path: string) => {
        const r = await yt(path, a.accessToken);
        expect(r.status).toBe(400);
        return reasonOf(r.body);
      };
      expect(await reason("videos?part=snippet&myRating=like&maxResults=51")).toBe("invalidParameter");
      expect(await reason("channels?mine=true")).toBe("required");
      expect(await reason("channels?part=snipet&mine=true")).toBe("unknownPart");
      expect(await reason("playlists?part=snippet")).toBe("missingRequiredParameter");
      const zero = await yt("videos?part=id&myRating=like&maxResults=0", a.accessToken);
      expect([zero.status, (zero.body.items as unknown[]).length]).toEqual([200, 0]);
    });

    test("when the token is missing, unknown, another provider's or revoked, then the API answers 401 authError", async () => {
      const a = newYouTube();
      const spotifyToken = newSpotify().accessToken;
      for (const token of [undefined, "ya29.nope", spotifyToken]) {
        const r = await yt("videos?part=id&myRating=like", token);
        expect(r.status).toBe(401);
        expect(r.body.error).toMatchObject({ code: 401, status: "UNAUTHENTICATED" });
        expect(((r.body.error as Json).errors as Json[])[0]).toMatchObject({ reason: "authError", domain: "global" });
      }
      const revoked = newYouTube();
      fake.revokeTokens("youtube", revoked.id);
      expect((await yt("channels?part=id&mine=true", revoked.accessToken)).status).toBe(401);
      expect((await yt("channels?part=id&mine=true", a.accessToken)).status).toBe(200);
    });

    test("when playlists change and videos are liked while running, then the API reflects it", async () => {
      const a = newYouTube({ playlists: 3, likedVideos: 2 });
      const before = (await yt("playlists?part=snippet&mine=true", a.accessToken)).body.items as Json[];
      const acc = fake.account("youtube", a.id);
      expect(acc.changeItems(1)).toEqual([before[0]!.id]);
      const [liked] = acc.likeVideos(1);
      const after = (await yt("playlists?part=snippet&mine=true", a.accessToken)).body.items as Json[];
      expect(after.map((p) => p.id)).toEqual(before.map((p) => p.id));
      expect(after[0]!.etag).not.toBe(before[0]!.etag);
      expect((after[0]!.snippet as Json).title).toMatch(/\(v1\)$/);
      expect(after[1]!.etag).toBe(before[1]!.etag);
      const likes = await yt("videos?part=id&myRating=like", a.accessToken);
      expect((likes.body.pageInfo as Json).totalResults).toBe(3);
      expect((likes.body.items as Json[])[0]!.id).toBe(liked);
    });
  });

  describe("faults and limits", () => {
    test("when a quota fault is set, then the Data API answers 403 quotaExceeded (domain youtube.quota) and tokens still refresh", async () => {
      const a = newYouTube();
      fake.fault("youtube", { kind: "quota", times: 2 });
      const r = await yt("videos?part=id&myRating=like", a.accessToken);
      expect(r.status).toBe(403);
      expect(((r.body.error as Json).errors as Json[])[0]).toEqual({
        message:
          'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.',
        domain: "youtube.quota",
        reason: "quotaExceeded",
      });
      expect((await googleToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! })).status).toBe(200);
      expect((await yt("playlists?part=id&mine=true", a.accessToken)).status).toBe(403);
      expect((await yt("playlists?part=id&mine=true", a.accessToken)).status).toBe(200);
    });

    test("when 429, 5xx, 403 and invalid_grant faults are set, then the answers are Google's", async () => {
      const a = newYouTube();
      fake.fault("youtube", { endpoint: "channels", kind: "429", retryAfterSeconds: 7, times: 1 });
      const limited = await yt("channels?part=id&mine=true", a.accessToken);
      expect([limited.status, limited.headers.get("retry-after"), (limited.body.error as Json).status]).toEqual([
        429,
        "7",
        "RESOURCE_EXHAUSTED",
      ]);
      expect(reasonOf(limited.body)).toBe("rateLimitExceeded");

      fake.fault("youtube", { endpoint: "playlists", kind: "5xx", times: 1 });
      const down = await yt("playlists?part=id&mine=true", a.accessToken);
      expect([down.status, reasonOf(down.body), (down.body.error as Json).status]).toEqual([
        503,
        "backendError",
        "UNAVAILABLE",
      ]);

      fake.fault("youtube", { kind: "403", times: 1 });
      const off = await yt("videos?part=id&myRating=like", a.accessToken);
      expect([off.status, reasonOf(off.body)]).toEqual([403, "accessNotConfigured"]);

      fake.fault("youtube", { kind: "invalid_grant", times: 1 });
      expect((await yt("channels?part=id&mine=true", a.accessToken)).status).toBe(200);
      expect(await googleToken({ grant_type: "refresh_token", refresh_token: a.refreshToken! })).toEqual({
        status: 400,
        body: EXPIRED_OR_REVOKED,
      });
    });

    test("when bad-item and schema faults are set, then one video breaks, or the envelope does", async () => {
      const a = newYouTube({ likedVideos: 4 });
      fake.fault("youtube", { endpoint: "videos", kind: "bad-item", times: 1 });
      const items = (await yt("videos?part=snippet&myRating=like", a.accessToken)).body.items as Json[];
      expect(items).toHaveLength(4);
      expect(items[0]!.id).toBeNull();
      expect(items.slice(1).every((v) => typeof v.id === "string")).toBe(true);
      fake.fault("youtube", { endpoint: "channels", kind: "schema", times: 1 });
      const broken = await yt("channels?part=snippet&mine=true", a.accessToken);
      expect(broken.status).toBe(200);
      expect(Array.isArray(broken.body.items)).toBe(false);
    });

    test("when the rolling rate limit is spent, then the Data API answers 429 rateLimitExceeded; stats count each endpoint", async () => {
      const a = newYouTube();
      fake.resetStats();
      fake.rateLimit("youtube", { windowSeconds: 30, budget: 2 });
      expect((await yt("channels?part=id&mine=true", a.accessToken)).status).toBe(200);
      expect((await yt("videos?part=id&myRating=like", a.accessToken)).status).toBe(200);
      const r = await yt("playlists?part=id&mine=true", a.accessToken);
      expect([r.status, reasonOf(r.body)]).toEqual([429, "rateLimitExceeded"]);
      expect(fake.stats().byEndpoint).toEqual({ "youtube:channels": 1, "youtube:videos": 1, "youtube:playlists": 1 });
    });
  });
});
