import {
  ConfigError,
  InvalidInputError,
  NotAllowedError,
  OwnAppRejectedError,
  ProviderSchemaError,
  RateLimitedError,
  ReauthRequiredError,
  TokenRejectedError,
} from "../../../src/errors";
import {
  coverMirrorItems,
  largestImage,
  mapPlaylist,
  mapProfile,
  toPlay,
} from "../../../src/providers/spotify/mapping";
import { PLAYS_OVERLAP_MS, RECENT_LIMIT, RECENT_MAX_PAGES, spotify } from "../../../src/providers/spotify";
import { OffsetPage, PlayHistory, Playlist, Track, User } from "../../../src/providers/spotify/schemas";
import type { ProviderContext, TokenSet } from "../../../src/providers/types";
import { type FakeAnswer, fakeHttp, fixture, type SeenRequest, unitConfig } from "../../support/http-fake";

const NOW = new Date("2026-03-01T10:00:00Z");

function ctxWith(respond: (r: SeenRequest) => FakeAnswer, config = unitConfig()) {
  const fake = fakeHttp(respond, { now: () => NOW });
  const ctx: ProviderContext = { config, now: () => NOW, http: fake.deps };
  return { ctx, ...fake };
}

/** Answers every endpoint of a sync from the recorded fixtures (two playlist pages). */
function syncFixtures(r: SeenRequest): FakeAnswer {
  const path = r.url.pathname;
  if (path === "/v1/me") return { body: fixture("spotify/me.json") };
  if (path === "/v1/me/playlists") {
    return {
      body: fixture(
        r.url.searchParams.get("offset") === "2" ? "spotify/playlists-page-2.json" : "spotify/playlists-page-1.json",
      ),
    };
  }
  if (path === "/v1/me/top/tracks") return { body: fixture("spotify/top-tracks.json") };
  if (path === "/v1/me/top/artists") return { body: fixture("spotify/top-artists.json") };
  if (path === "/v1/me/player/recently-played") return { body: fixture("spotify/recently-played.json") };
  return { status: 404, body: { error: { status: 404, message: "no such fixture" } } };
}

describe("Spotify schemas", () => {
  it("when the recorded playlist page is parsed, then the envelope is valid and one of two items is not", () => {
    const page = OffsetPage.parse(fixture("spotify/playlists-page-2.json"));
    expect(page.total).toBe(4);
    expect(page.items.map((i) => Playlist.safeParse(i).success)).toEqual([true, false]);
  });

  it("when a development-mode /me lacks followers, name and images, then it still parses", () => {
    const user = User.parse(fixture("spotify/me-development-mode.json"));
    expect(mapProfile(user)).toEqual({
      id: "31dev0example",
      display_name: null,
      uri: "spotify:user:31dev0example",
      external_urls: { spotify: "https://open.spotify.com/user/31dev0example" },
      images: [],
      followers: null,
    });
  });

  it("when a track is a local file (id null, no album), then it parses", () => {
    const local = (fixture("spotify/recently-played.json") as { items: { track: unknown }[] }).items[1]!.track;
    expect(Track.parse(local)).toMatchObject({ id: null, name: "voice memo 03" });
  });

  it("when a page has no `next` key at all, then the envelope fails (Spotify always sends it)", () => {
    const { next: _next, ...rest } = fixture("spotify/playlists-page-1.json") as Record<string, unknown>;
    expect(OffsetPage.safeParse(rest).success).toBe(false);
  });
});

describe("Spotify mapping", () => {
  const page1 = OffsetPage.parse(fixture("spotify/playlists-page-1.json")).items.map((i) => Playlist.parse(i));

  it("when a playlist has several images, then only the largest is kept and it is the cover to mirror", () => {
    const mapped = mapPlaylist(page1[0]!);
    expect(mapped).toEqual({
      id: "3cEYpjA9oz9GiPac4AsH4n",
      name: "Train rides",
      description: "Songs for long train rides",
      public: true,
      collaborative: false,
      owner: { id: "ada.example", display_name: "Ada Example" },
      tracks: { total: 62 },
      images: [{ url: "https://mosaic.scdn.co/640/ab67616d0000b273example1", width: 640, height: 640 }],
      snapshot_id: "AAAAB8C+GCt5ZS0Hh6JWd4vm7XLYS8e1",
      uri: "spotify:playlist:3cEYpjA9oz9GiPac4AsH4n",
      external_urls: { spotify: "https://open.spotify.com/playlist/3cEYpjA9oz9GiPac4AsH4n" },
    });
    expect(coverMirrorItems(page1)).toEqual([
      {
        id: "3cEYpjA9oz9GiPac4AsH4n",
        url: "https://mosaic.scdn.co/640/ab67616d0000b273example1",
        ext: "jpg",
        version: "AAAAB8C+GCt5ZS0Hh6JWd4vm7XLYS8e1|https://mosaic.scdn.co/640/ab67616d0000b273example1",
      },
    ]);
  });

  it("when a playlist has no image and counts tracks under the deprecated `tracks`, then images is [] and the count is kept", () => {
    const mapped = mapPlaylist(page1[1]!);
    expect(mapped.images).toEqual([]);
    expect(mapped.tracks).toEqual({ total: 0 });
    expect(mapped.name).toBe("");
    expect(mapped.owner).toEqual({ id: "31friendexample", display_name: null });
  });

  it("when images are listed smallest first, then the largest still wins; unknown sizes keep the first", () => {
    const a = { url: "a", width: 60, height: 60 };
    const b = { url: "b", width: 640, height: 640 };
    expect(largestImage([a, b])?.url).toBe("b");
    expect(largestImage([{ url: "x", width: null, height: null }, { url: "y" }])?.url).toBe("x");
    expect(largestImage([])).toBeUndefined();
  });

  it("when the version inputs change, then the mirror version changes", () => {
    const p = page1[0]!;
    const [before] = coverMirrorItems([p]);
    const [after] = coverMirrorItems([{ ...p, snapshot_id: "new" }]);
    expect(after!.version).not.toBe(before!.version);
  });
});

describe("Spotify fetchAll against the recorded responses", () => {
  it("when every endpoint answers its fixture, then all pages are fetched, mapped, and bad items are skipped and counted", async () => {
    const { ctx, requests } = ctxWith(syncFixtures);
    const result = await spotify.fetchAll(ctx, "ACCESS");
    expect(result.account).toEqual({ id: "ada.example", displayName: "Ada Example" });
    expect(Object.keys(result.snapshots).sort()).toEqual([
      "playlists",
      "profile",
      "recently-played",
      "top-artists",
      "top-tracks",
    ]);
    const playlists = result.snapshots.playlists as { total: number; items: { id: string; name: string }[] };
    expect(playlists.total).toBe(4);
    expect(playlists.items.map((p) => p.name)).toEqual(["Train rides", "", "夏の歌 · Été ☀️"]);
    const top = result.snapshots["top-tracks"] as Record<string, { items: { name: string; album: unknown }[] }>;
    expect(Object.keys(top)).toEqual(["short_term", "medium_term", "long_term"]);
    expect(top.short_term!.items.map((t) => t.name)).toEqual(["Cut To The Feeling", "Nuit blanche"]);
    expect(top.short_term!.items[0]!.album).toEqual({
      id: "2up3OPMp9Tb4dAKM2erWXQ",
      name: "Example Compilation",
      release_date: "1981-12",
      images: [{ url: "https://i.scdn.co/image/ab67616d0000b273ff9ca10b55ce82ae553c8228", width: 640, height: 640 }],
    });
    const artists = result.snapshots["top-artists"] as Record<string, { items: { name: string; genres: string[] }[] }>;
    expect(artists.long_term!.items.map((a) => [a.name, a.genres])).toEqual([
      ["Example Artist", ["Prog rock", "Grunge"]],
      ["Zoë & the Δ", []],
    ]);
    const recent = result.snapshots["recently-played"] as { items: { played_at: string; context: unknown }[] };
    expect(recent.items.map((p) => p.played_at)).toEqual(["2025-01-01T12:00:00.000Z", "2025-01-01T10:00:00.000Z"]);
    expect(recent.items[1]!.context).toBeNull();
    // 1 bad playlist + 1 artist without id in each of 3 ranges.
    expect(result.counts).toEqual({
      playlists: 3,
      playlistPages: 2,
      topTracks: 6,
      topArtists: 6,
      recentlyPlayed: 2,
      recentlyPlayedPages: 1,
      mirror: 2,
      skipped: 4,
    });
    expect(result.mirror.map((m) => m.id)).toEqual(["3cEYpjA9oz9GiPac4AsH4n", "1h0CEZCm6IbFTbxThn6Xcs"]);
    expect(result.requests).toBe(requests.length);
    expect(requests.length).toBe(1 + 2 + 3 + 3 + 1);
    expect(requests.every((r) => r.headers.authorization === "Bearer ACCESS")).toBe(true);
    const ranges = requests
      .filter((r) => r.url.pathname === "/v1/me/top/tracks")
      .map((r) => r.url.searchParams.get("time_range"));
    expect(ranges).toEqual(["short_term", "medium_term", "long_term"]);
    expect(JSON.stringify(result.snapshots)).not.toContain("undefined");
  });

  it("when MIRROR_SPOTIFY_COVERS is false, then no cover is listed for mirroring", async () => {
    const { ctx } = ctxWith(syncFixtures, unitConfig({ MIRROR_SPOTIFY_COVERS: "false" }));
    const result = await spotify.fetchAll(ctx, "ACCESS");
    expect(result.mirror).toEqual([]);
  });

  it("when Spotify answers 429 with a 12-hour Retry-After, then the error is the whole app's limit", async () => {
    const { ctx, requests } = ctxWith(() => ({ status: 429, headers: { "retry-after": "43200" } }));
    const error = (await spotify.fetchAll(ctx, "ACCESS").catch((e: unknown) => e)) as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.scope).toBe("app"); // Spotify's window is per app: every connection must wait
    expect(error.retryAt).toEqual(new Date(NOW.getTime() + 43_200_000));
    expect(requests).toHaveLength(1);
  });

  it("when a page envelope is broken, then the fetch fails with ProviderSchemaError", async () => {
    const { ctx } = ctxWith((r) =>
      r.url.pathname === "/v1/me/playlists" ? { body: { items: 12345, next: null, total: 1 } } : syncFixtures(r),
    );
    await expect(spotify.fetchAll(ctx, "ACCESS")).rejects.toBeInstanceOf(ProviderSchemaError);
  });

  it("when `next` points outside the configured API base, then it is not followed (the token would leak)", async () => {
    const { ctx, requests } = ctxWith((r) =>
      r.url.pathname === "/v1/me/playlists"
        ? { body: { ...(fixture("spotify/playlists-page-1.json") as object), next: "https://evil.example/v1/x" } }
        : syncFixtures(r),
    );
    await expect(spotify.fetchAll(ctx, "ACCESS")).rejects.toThrow(/outside SPOTIFY_API_BASE_URL/);
    expect(requests.some((r) => r.url.host === "evil.example")).toBe(false);
  });

  it("when the user is not on a development-mode app's allow-list (403), then NotAllowedError", async () => {
    const { ctx, requests } = ctxWith(() => ({ status: 403, body: fixture("spotify/error-not-allow-listed.json") }));
    const error = await spotify.fetchAll(ctx, "ACCESS").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotAllowedError);
    expect((error as Error).message).toContain("may not be registered");
    expect(requests).toHaveLength(1);
  });

  it("when the access token is rejected (401), then TokenRejectedError", async () => {
    const { ctx } = ctxWith(() => ({
      status: 401,
      body: { error: { status: 401, message: "The access token expired" } },
    }));
    await expect(spotify.fetchAll(ctx, "ACCESS")).rejects.toBeInstanceOf(TokenRejectedError);
  });
});

describe("Spotify OAuth", () => {
  const tokens: TokenSet = {
    accessToken: "OLD-ACCESS",
    refreshToken: "OLD-REFRESH",
    expiresAt: new Date(NOW.getTime() + 60_000),
    issuedAt: new Date(NOW.getTime() - 3_540_000),
    scopes: ["user-top-read"],
  };

  it("when the authorize URL is built, then it carries client id, redirect, code, space-separated scopes, state and show_dialog", () => {
    const { ctx } = ctxWith(() => ({}));
    const url = new URL(spotify.authorizeUrl(ctx, { state: "st-1", redirectUri: "https://app.example/cb" }));
    expect(`${url.origin}${url.pathname}`).toBe("https://accounts.spotify.com/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: "fake-spotify-client-id",
      redirect_uri: "https://app.example/cb",
      response_type: "code",
      scope: "playlist-read-private playlist-read-collaborative user-top-read user-read-recently-played",
      state: "st-1",
      // The consent dialog every time: an earlier approval must not complete a connect silently.
      show_dialog: "true",
    });
  });

  it("when a code is exchanged, then it POSTs with Basic auth and returns absolute expiry and scopes", async () => {
    const { ctx, requests } = ctxWith(() => ({ body: fixture("spotify/token-code.json") }));
    const set = await spotify.exchangeCode(ctx, { code: "CODE", redirectUri: "https://app.example/cb" });
    expect(set).toEqual({
      accessToken: "BQDxExampleAccessTokenFromCodeExchange000000000000000000000000",
      refreshToken: "AQCxExampleRefreshTokenFromCodeExchange00000000000000000000000",
      expiresAt: new Date(NOW.getTime() + 3_600_000),
      issuedAt: NOW,
      scopes: ["playlist-read-private", "playlist-read-collaborative", "user-top-read", "user-read-recently-played"],
    });
    const [req] = requests;
    expect(req!.url.toString()).toBe("https://accounts.spotify.com/api/token");
    expect(req!.headers.authorization).toBe(
      `Basic ${Buffer.from("fake-spotify-client-id:unit-spotify-secret").toString("base64")}`,
    );
    expect(Object.fromEntries(new URLSearchParams(req!.body))).toEqual({
      grant_type: "authorization_code",
      code: "CODE",
      redirect_uri: "https://app.example/cb",
    });
  });

  it("when a refresh answer omits refresh_token, then the old refresh token is kept", async () => {
    const { ctx, requests } = ctxWith(() => ({ body: fixture("spotify/token-refresh.json") }));
    const set = await spotify.refresh(ctx, tokens);
    expect(set.refreshToken).toBe("OLD-REFRESH");
    expect(set.accessToken).toBe("BQDxExampleAccessTokenFromRefresh00000000000000000000000000000");
    expect(new URLSearchParams(requests[0]!.body).get("refresh_token")).toBe("OLD-REFRESH");
  });

  it("when a refresh answer carries a new refresh_token, then it replaces the old one", async () => {
    const { ctx } = ctxWith(() => ({ body: fixture("spotify/token-refresh-rotated.json") }));
    const set = await spotify.refresh(ctx, tokens);
    expect(set.refreshToken).toBe("AQDxExampleRotatedRefreshToken000000000000000000000000000000000");
  });

  it("when the refresh token is revoked (invalid_grant), then ReauthRequiredError with a reason, after one request", async () => {
    const { ctx, requests } = ctxWith(() => ({ status: 400, body: fixture("spotify/error-invalid-grant.json") }));
    const error = await spotify.refresh(ctx, tokens).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReauthRequiredError);
    expect((error as ReauthRequiredError).reason).toBe("Spotify access was revoked or has expired; reconnect Spotify.");
    expect((error as Error).message).toContain("Refresh token revoked");
    expect((error as Error).message).not.toContain("OLD-REFRESH");
    expect(requests).toHaveLength(1);
  });

  it("when the app credentials are wrong (invalid_client), then ConfigError", async () => {
    const { ctx } = ctxWith(() => ({
      status: 400,
      body: { error: "invalid_client", error_description: "Invalid client" },
    }));
    await expect(
      spotify.exchangeCode(ctx, { code: "C", redirectUri: "https://app.example/cb" }),
    ).rejects.toBeInstanceOf(ConfigError);
  });

  it("when the token expires within TOKEN_REFRESH_MARGIN_SECONDS, then a refresh is due; otherwise not", () => {
    const { ctx } = ctxWith(() => ({}));
    const margin = ctx.config.TOKEN_REFRESH_MARGIN_SECONDS * 1000;
    expect(spotify.refreshDue(ctx, { ...tokens, expiresAt: new Date(NOW.getTime() + margin) })).toBe(true);
    expect(spotify.refreshDue(ctx, { ...tokens, expiresAt: new Date(NOW.getTime() + margin + 1000) })).toBe(false);
    const { refreshToken: _r, ...without } = tokens;
    expect(spotify.refreshDue(ctx, without)).toBe(false);
  });
});

describe("Spotify and a person's own app", () => {
  const own = { clientId: "0123456789abcdef0123456789abcdef", clientSecret: "fedcba9876543210fedcba9876543210" };
  const ownCtx = (respond: (r: SeenRequest) => FakeAnswer) => {
    const c = ctxWith(respond);
    return { ...c, ctx: { ...c.ctx, app: own } };
  };

  it("when the authorize URL and the code exchange are made for an own app, then both use its client id and secret", async () => {
    const { ctx, requests } = ownCtx(() => ({ body: fixture("spotify/token-code.json") }));
    const url = new URL(spotify.authorizeUrl(ctx, { state: "st", redirectUri: "https://app.example/cb" }));
    expect(url.searchParams.get("client_id")).toBe(own.clientId);
    await spotify.exchangeCode(ctx, { code: "C", redirectUri: "https://app.example/cb" });
    expect(requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from(`${own.clientId}:${own.clientSecret}`).toString("base64")}`,
    );
  });

  it("when an own app is checked, then one client-credentials POST as the app is made; a refusal is a sentence", async () => {
    const ok = ownCtx(() => ({ body: { access_token: "APP", token_type: "Bearer", expires_in: 3600 } }));
    await spotify.checkApp!(ok.ctx, own);
    expect(ok.requests).toHaveLength(1);
    expect(Object.fromEntries(new URLSearchParams(ok.requests[0]!.body))).toEqual({ grant_type: "client_credentials" });
    const refused = ctxWith(() => ({
      status: 400,
      body: { error: "invalid_client", error_description: "Invalid client secret" },
    }));
    const e = await spotify.checkApp!(refused.ctx, own).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidInputError);
    expect((e as Error).message).toMatch(/refused this client id and secret/);
    expect((e as Error).message).not.toContain(own.clientSecret);
  });

  it("when Spotify refuses an own app (invalid_client, redirect URI, User Management), then the person is told what to fix", async () => {
    const cases = [
      [{ status: 400, body: { error: "invalid_client", error_description: "Invalid client secret" } }, "credentials"],
      [{ status: 400, body: { error: "invalid_grant", error_description: "Invalid redirect URI" } }, "redirect_uri"],
    ] as const;
    for (const [answer, problem] of cases) {
      const { ctx } = ownCtx(() => answer);
      const e = await spotify
        .exchangeCode(ctx, { code: "C", redirectUri: "https://app.example/cb" })
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OwnAppRejectedError);
      expect((e as OwnAppRejectedError).problem).toBe(problem);
    }
    const { ctx } = ownCtx(() => ({ status: 403, body: fixture("spotify/error-not-allow-listed.json") }));
    const e = (await spotify.identify(ctx, "ACCESS").catch((x: unknown) => x)) as OwnAppRejectedError;
    expect(e.problem).toBe("not_registered");
    expect(e.reason).toMatch(/User Management/);
  });

  it("when a 429 says QUOTA_EXCEEDED, then it is quota exhaustion for the whole app, until Retry-After (or a day)", async () => {
    const quota = { error: { status: 429, message: "Quota exceeded", reason: "QUOTA_EXCEEDED" } };
    const { ctx, requests } = ctxWith(() => ({ status: 429, headers: { "retry-after": "7200" }, body: quota }));
    const e = (await spotify.fetchAll(ctx, "ACCESS").catch((x: unknown) => x)) as RateLimitedError;
    expect(e).toBeInstanceOf(RateLimitedError);
    expect([e.code, e.scope]).toEqual(["quota_exceeded", "app"]);
    expect(e.retryAt).toEqual(new Date(NOW.getTime() + 7_200_000));
    expect(requests).toHaveLength(1); // not retried in place
    const noHeader = ctxWith(() => ({ status: 429, body: { reason: "QUOTA_EXCEEDED" } }));
    const e2 = (await spotify.fetchAll(noHeader.ctx, "ACCESS").catch((x: unknown) => x)) as RateLimitedError;
    expect(e2.code).toBe("quota_exceeded");
    expect(e2.retryAt).toEqual(new Date(NOW.getTime() + 24 * 3_600_000));
  });

  it("when /me carries the stable account_id, then it is the account id and the user id a former id", async () => {
    const me = { ...(fixture("spotify/me.json") as { id: string }), account_id: "acct-stable-1" };
    const { ctx } = ctxWith(() => ({ body: me }));
    const account = await spotify.identify(ctx, "ACCESS");
    expect(account).toMatchObject({ id: "acct-stable-1", formerIds: [me.id] });
    const plain = ctxWith(() => ({ body: fixture("spotify/me.json") }));
    expect((await spotify.identify(plain.ctx, "ACCESS")).formerIds).toBeUndefined();
  });
});

/** A recently-played item of track `t<i>` played at `ms`. */
function playItem(ms: number, i: number) {
  return {
    played_at: new Date(ms).toISOString(),
    track: {
      id: `t${i}`,
      name: `Track ${i}`,
      duration_ms: 180_000 + i,
      artists: [{ id: `a${i % 7}`, name: `Artist ${i % 7}` }],
      album: { id: `al${i % 3}`, name: `Album ${i % 3}` },
    },
    context: { type: "playlist", uri: "spotify:playlist:p1", href: "https://api.spotify.com/v1/playlists/p1" },
  };
}

/**
 * Recently played as Spotify answers it, over `plays` (unix ms, any order): the latest
 * RECENT_LIMIT exist; `after`/`before` exclusive; newest first; `next` = the before-cursor URL.
 */
function recentlyPlayedOver(plays: number[]) {
  const window = [...plays].sort((a, b) => b - a).slice(0, RECENT_LIMIT);
  return (r: SeenRequest): FakeAnswer => {
    if (r.url.pathname !== "/v1/me/player/recently-played") return syncFixtures(r);
    const limit = Number(r.url.searchParams.get("limit") ?? 20);
    const after = r.url.searchParams.get("after");
    const before = r.url.searchParams.get("before");
    let page = window;
    if (after !== null) page = page.filter((ms) => ms > Number(after));
    if (before !== null) page = page.filter((ms) => ms < Number(before));
    page = page.slice(0, limit);
    const oldest = page[page.length - 1];
    const more = oldest !== undefined && window.some((ms) => ms < oldest);
    return {
      body: {
        href: r.url.toString(),
        items: page.map((ms) => playItem(ms, plays.indexOf(ms))),
        limit,
        next: more ? `https://api.spotify.com/v1/me/player/recently-played?before=${oldest}&limit=${limit}` : null,
        cursors: page.length ? { after: String(page[0]), before: String(oldest) } : null,
      },
    };
  };
}

const recentRequests = (requests: SeenRequest[]) =>
  requests.filter((r) => r.url.pathname === "/v1/me/player/recently-played");

describe("Spotify plays for the listening history", () => {
  it("when a recently-played item is mapped, then it becomes a play; a local file does not", () => {
    const [item, local] = (fixture("spotify/recently-played.json") as { items: unknown[] }).items.map((i) =>
      PlayHistory.parse(i),
    );
    expect(toPlay(item!)).toEqual({
      provider: "spotify",
      playedAt: new Date("2025-01-01T12:00:00.000Z"),
      trackId: "11dFghVXANMlKmJXsNCbNl",
      trackName: "Cut To The Feeling",
      artists: [{ id: "0TnOYISbd1XYRBk9myaseg", name: "Example Artist" }],
      albumId: "2up3OPMp9Tb4dAKM2erWXQ",
      albumName: "Example Compilation",
      durationMs: 207959,
      context: { type: "playlist", uri: "spotify:playlist:3cEYpjA9oz9GiPac4AsH4n" },
    });
    expect(toPlay(local!)).toBeNull();
    expect(toPlay({ ...item!, played_at: "yesterday" })).toBeNull();
    expect(toPlay({ ...item!, context: { type: "album", uri: null } })!.context).toBeNull();
  });

  it("when nothing is logged yet, then recently played is read without a cursor and the plays are reported", async () => {
    const { ctx, requests } = ctxWith(syncFixtures);
    const result = await spotify.fetchAll({ ...ctx, history: { playsAfter: null } }, "ACCESS");
    const [recent] = recentRequests(requests);
    expect(recent!.url.searchParams.get("after")).toBeNull();
    expect(recent!.url.searchParams.get("limit")).toBe(String(RECENT_LIMIT));
    expect(result.plays!.items.map((p) => p.trackId)).toEqual(["11dFghVXANMlKmJXsNCbNl"]);
    expect(result.plays!.fullWindow).toBe(false);
  });

  it("when plays are logged, then `after` is the newest logged play minus the overlap and older plays are dropped", async () => {
    const newest = Date.UTC(2026, 2, 1, 9, 0);
    // Every ten minutes from 8 h before the newest logged play to 40 min after it: 53 plays, the
    // window keeps 50, and the ones at or before the cursor (6 h back) are not returned.
    const plays = Array.from({ length: 53 }, (_, i) => newest - 8 * 3_600_000 + i * 600_000);
    const { ctx, requests } = ctxWith(recentlyPlayedOver(plays));
    const result = await spotify.fetchAll({ ...ctx, history: { playsAfter: new Date(newest) } }, "ACCESS");
    const cursor = newest - PLAYS_OVERLAP_MS;
    const [recent, latest, ...more] = recentRequests(requests);
    expect(recent!.url.searchParams.get("after")).toBe(String(cursor));
    const got = result.plays!.items.map((p) => p.playedAt.getTime());
    expect(got).toEqual(plays.filter((ms) => ms > cursor).sort((a, b) => b - a));
    expect(result.plays!.fullWindow).toBe(false);
    // The snapshot stays the latest window (what the dashboard shows): one read without a cursor.
    expect(latest!.url.searchParams.get("after")).toBeNull();
    expect(more).toHaveLength(0);
    const snapshot = result.snapshots["recently-played"] as { items: { played_at: string }[] };
    expect(snapshot.items).toHaveLength(RECENT_LIMIT);
    expect(snapshot.items[RECENT_LIMIT - 1]!.played_at).toBe(new Date(plays[3]!).toISOString());
    expect(result.counts.recentlyPlayed).toBe(RECENT_LIMIT);
    expect(result.counts.recentlyPlayedPages).toBe(2);
  });

  it("when more plays than the window arrived since the cursor, then the full window is reported (a possible gap)", async () => {
    const newest = Date.UTC(2026, 2, 1, 9, 0);
    const plays = Array.from({ length: 80 }, (_, i) => newest + (i + 1) * 60_000);
    const { ctx, requests } = ctxWith(recentlyPlayedOver(plays));
    const result = await spotify.fetchAll({ ...ctx, history: { playsAfter: new Date(newest) } }, "ACCESS");
    expect(result.plays!.fullWindow).toBe(true);
    expect(result.plays!.items).toHaveLength(RECENT_LIMIT);
    expect(result.plays!.items[0]!.playedAt.getTime()).toBe(plays[79]);
    // The window holds nothing older, so Spotify offers no `next`; the full page is also the
    // latest window, so the snapshot needs no second read: one request.
    expect(recentRequests(requests)).toHaveLength(1);
    expect((result.snapshots["recently-played"] as { items: unknown[] }).items).toHaveLength(RECENT_LIMIT);
  });

  it("when every page keeps offering older plays after the cursor, then at most RECENT_MAX_PAGES pages are read", async () => {
    const newest = Date.UTC(2026, 2, 1, 9, 0);
    let page = 0;
    const { ctx, requests } = ctxWith((r) => {
      if (r.url.pathname !== "/v1/me/player/recently-played") return syncFixtures(r);
      page++;
      const top = newest + 10_000 * 60_000 - page * RECENT_LIMIT * 60_000;
      const items = Array.from({ length: RECENT_LIMIT }, (_, i) => playItem(top - i * 60_000, page * 100 + i));
      return {
        body: {
          items,
          limit: RECENT_LIMIT,
          next: `https://api.spotify.com/v1/me/player/recently-played?before=${top - (RECENT_LIMIT - 1) * 60_000}`,
          cursors: { after: "1", before: "0" },
        },
      };
    });
    const result = await spotify.fetchAll({ ...ctx, history: { playsAfter: new Date(newest) } }, "ACCESS");
    expect(recentRequests(requests)).toHaveLength(RECENT_MAX_PAGES);
    expect(result.plays!.items).toHaveLength(RECENT_MAX_PAGES * RECENT_LIMIT);
    expect(result.counts.recentlyPlayedPages).toBe(RECENT_MAX_PAGES);
  });
});

describe("Spotify daily history point", () => {
  it("when a sync fetched its snapshots, then the point holds top-list ranks as ids and playlist sizes", async () => {
    const { ctx } = ctxWith(syncFixtures);
    const result = await spotify.fetchAll(ctx, "ACCESS");
    const point = spotify.historyPoint!(result.snapshots) as {
      topTracks: Record<string, string[]>;
      topArtists: Record<string, string[]>;
      playlists: number;
      playlistTracks: Record<string, number | null>;
    };
    const top = result.snapshots["top-tracks"] as Record<string, { items: { id: string | null }[] }>;
    expect(Object.keys(point.topTracks)).toEqual(["short_term", "medium_term", "long_term"]);
    expect(point.topTracks.short_term).toEqual(top.short_term!.items.flatMap((t) => (t.id ? [t.id] : [])));
    expect(point.topArtists.long_term!.length).toBeGreaterThan(0);
    expect(point.playlists).toBe(4);
    const playlists = result.snapshots.playlists as { items: { id: string; tracks: { total: number | null } }[] };
    expect(point.playlistTracks).toEqual(Object.fromEntries(playlists.items.map((p) => [p.id, p.tracks.total])));
    expect(JSON.stringify(point)).not.toContain("Cut To The Feeling"); // ids only: compact
  });

  it("when the snapshots hold none of the data, then there is no point", () => {
    expect(spotify.historyPoint!({ profile: {} })).toBeNull();
  });
});
