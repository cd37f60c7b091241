/**
 * Unit tests of fake Spotify's listening: the simulation on the fake clock (hours, bursts, late
 * plays, determinism), recently-played's window and cursor rules, and the `listen` / `plays`
 * control operations, through the fake's whole request path in process (no sockets).
 */
import { type InProcessFakeProviders, inProcessFakeProviders } from "../index";
import { SpotifyAccount, type Urls } from "./account";
import { HOUR_MS, Listening, MAX_PLAYS_PER_HOUR } from "./listening";

type Json = Record<string, unknown>;
interface Truth {
  playedAt: string;
  visibleAt: string;
  trackId: string;
  trackName: string;
  artists: { id: string; name: string }[];
  durationMs: number;
}
interface Item {
  played_at: string;
  track: { id: string; duration_ms: number };
  context: { type: string; uri: string } | null;
}

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const urls: Urls = { spotifyApi: "http://fake/spotify-api", cdn: "http://fake/cdn" };
const ms = (iso: string) => Date.parse(iso);

let fake: InProcessFakeProviders;
beforeEach(() => {
  // The fake clock is real time plus an offset: freeze real time so "now" is exact.
  jest.spyOn(Date, "now").mockReturnValue(T0);
  fake = inProcessFakeProviders();
});
afterEach(() => jest.restoreAllMocks());

async function send(method: "GET" | "POST", path: string, init: Parameters<typeof fake.request>[2] = {}) {
  const r = await fake.request(method, path, init);
  if (r === "hang") throw new Error(`${method} ${path} hung`);
  return { status: r.status, json: JSON.parse(String(r.body ?? "null")) as unknown };
}

async function control<T = Json>(op: string, body: Json): Promise<T> {
  const r = await send("POST", `/_control/${op}`, { body: JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`${op}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json as T;
}

async function controlError(op: string, body: Json): Promise<string> {
  const r = await send("POST", `/_control/${op}`, { body: JSON.stringify(body) });
  expect(r.status).toBe(400);
  return (r.json as { error: string }).error;
}

/** A Spotify account; `token` names it for recent() (which issues an access token per call: the clock moves). */
async function account(spec: Json = {}) {
  const { id } = await control<{ id: string }>("addAccount", { provider: "spotify", spec });
  return { id, token: id };
}

async function recent(accountId: string, query = "") {
  const { accessToken } = await control<{ accessToken: string }>("issueTokens", { provider: "spotify", accountId });
  const r = await send("GET", `/spotify-api/v1/me/player/recently-played${query}`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return r as { status: number; json: Json & { items: Item[]; next: string | null; cursors: Json | null } };
}

const advance = (ms: number) => control("clock/advance", { ms });
const truth = (id: string, visibleOnly?: boolean) =>
  control<Truth[]>("plays", {
    provider: "spotify",
    account: id,
    ...(visibleOnly === undefined ? {} : { visibleOnly }),
  });

/** Every page of the window, following `next` from the first (no cursor) page. */
async function wholeWindow(accountId: string, limit: number): Promise<Item[]> {
  const items: Item[] = [];
  let query = `?limit=${limit}`;
  for (let i = 0; i < 10; i++) {
    const r = await recent(accountId, query);
    expect(r.status).toBe(200);
    items.push(...r.json.items);
    if (!r.json.next) return items;
    query = new URL(r.json.next).search;
  }
  throw new Error("next never ended");
}

describe("the simulation", () => {
  test("when listening is not set, then only the fixed plays exist, before the creation, whatever the clock", async () => {
    const a = await account({ recentlyPlayed: 30 });
    await advance(7 * 24 * HOUR_MS);
    const plays = await truth(a.id);
    expect(plays).toHaveLength(30);
    expect(plays.every((p) => ms(p.playedAt) < T0 && p.visibleAt === p.playedAt)).toBe(true);
    const items = await wholeWindow(a.token, 50);
    expect(items.map((i) => i.played_at)).toEqual(plays.map((p) => p.playedAt).reverse());
  });

  test("when listening runs for a day, then each hour holds 0.5–1.5 × playsPerHour plays, at least 30 s apart", async () => {
    const a = await account({ recentlyPlayed: 0, listening: { playsPerHour: 20 } });
    await advance(24 * HOUR_MS);
    const times = (await truth(a.id)).map((p) => ms(p.playedAt));
    const perHour = new Map<number, number>();
    for (const t of times) {
      const k = Math.floor((t - T0) / HOUR_MS);
      perHour.set(k, (perHour.get(k) ?? 0) + 1);
    }
    expect([...perHour.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 24 }, (_, k) => k));
    expect(Math.min(...perHour.values())).toBeGreaterThanOrEqual(10);
    expect(Math.max(...perHour.values())).toBeLessThanOrEqual(30);
    expect(new Set(perHour.values()).size).toBeGreaterThan(1); // not the same count every hour
    expect(times.every((t, i) => i === 0 || t - times[i - 1]! >= 30_000)).toBe(true);
    expect(times[0]).toBeGreaterThanOrEqual(T0);
    expect(times.at(-1)).toBeLessThanOrEqual(T0 + 24 * HOUR_MS);
  });

  test("when the same seed and creation time are used twice, then the plays and the window are identical", () => {
    const spec = { recentlyPlayed: 10, listening: { playsPerHour: 25, burstEveryHours: 5, lateEveryHours: 7 } };
    const a = new SpotifyAccount("u", 9, spec, T0);
    const b = new SpotifyAccount("u", 9, spec, T0);
    const now = T0 + 30 * HOUR_MS;
    expect(a.plays(now)).toEqual(b.plays(now));
    expect(JSON.stringify(a.recentlyPlayed(urls, now))).toBe(JSON.stringify(b.recentlyPlayed(urls, now)));
    // Asking in another order (later first) changes nothing: every hour comes from (seed, hour).
    const c = new SpotifyAccount("u", 9, spec, T0);
    c.plays(now + 10 * HOUR_MS);
    expect(c.plays(now)).toEqual(a.plays(now));
    const other = new SpotifyAccount("u", 10, spec, T0).plays(now);
    expect(other.map((p) => p.playedAt)).not.toEqual(a.plays(now).map((p) => p.playedAt));
  });

  test("when a burst hour comes, then it holds burstPlays plays and the window is that hour's newest 50", async () => {
    const a = await account({ recentlyPlayed: 0, listening: { playsPerHour: 10, burstEveryHours: 4, burstPlays: 70 } });
    await advance(4 * HOUR_MS); // hours 0–3; hour 3 is the burst
    const plays = await truth(a.id);
    const hour = (p: Truth) => Math.floor((ms(p.playedAt) - T0) / HOUR_MS);
    expect(plays.filter((p) => hour(p) === 3)).toHaveLength(70);
    for (const k of [0, 1, 2]) expect(plays.filter((p) => hour(p) === k).length).toBeLessThanOrEqual(15);
    const window = await wholeWindow(a.token, 50);
    expect(window).toHaveLength(50);
    expect(window.map((i) => i.played_at)).toEqual(
      plays
        .slice(-50)
        .map((p) => p.playedAt)
        .reverse(),
    );
    // 20 plays of the burst and every earlier play are gone for good.
    expect(window.every((i) => ms(i.played_at) >= T0 + 3 * HOUR_MS)).toBe(true);
  });

  test("when an hour is listened offline, then its plays keep their played_at and appear lateDelayHours after it", async () => {
    const a = await account({
      recentlyPlayed: 0,
      listening: { playsPerHour: 8, lateEveryHours: 2, lateDelayHours: 1 },
    });
    await advance(2 * HOUR_MS); // hour 1 (offline) has ended; its plays appear at T0 + 3 h
    const late = (await truth(a.id)).filter((p) => ms(p.playedAt) >= T0 + HOUR_MS);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((p) => p.visibleAt === new Date(T0 + 3 * HOUR_MS).toISOString())).toBe(true);
    const visibleNow = await truth(a.id, true);
    expect(visibleNow.some((p) => late.some((l) => l.playedAt === p.playedAt))).toBe(false);
    const before = await wholeWindow(a.token, 50);
    expect(before.some((i) => ms(i.played_at) >= T0 + HOUR_MS)).toBe(false);

    await advance(HOUR_MS - 1); // 1 ms before they appear
    const stillHidden = await wholeWindow(a.token, 50);
    expect(stillHidden.some((i) => late.some((l) => l.playedAt === i.played_at))).toBe(false);
    await advance(1);
    const after = await wholeWindow(a.token, 50);
    const shown = after.filter((i) => late.some((l) => l.playedAt === i.played_at));
    expect(shown).toHaveLength(late.length);
    // Newest first by played_at: the late plays sit below the plays of hour 2 that came out before them.
    const times = after.map((i) => ms(i.played_at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    expect(ms(after[0]!.played_at)).toBeGreaterThanOrEqual(T0 + 2 * HOUR_MS);
  });

  test("when more than 50 newer plays arrive before a late play appears, then it is never shown", async () => {
    const a = await account({ recentlyPlayed: 0 });
    const lateAt = T0 + 60_000;
    await control("listen", {
      provider: "spotify",
      account: a.id,
      plays: [
        { trackKey: "late", playedAt: new Date(lateAt).toISOString(), visibleAt: new Date(T0 + HOUR_MS).toISOString() },
        ...Array.from({ length: 50 }, (_, i) => ({ playedAt: new Date(T0 + 120_000 + i * 60_000).toISOString() })),
      ],
    });
    await advance(2 * HOUR_MS);
    const window = await wholeWindow(a.token, 50);
    expect(window).toHaveLength(50);
    expect(window.some((i) => ms(i.played_at) === lateAt)).toBe(false);
    // It exists (ground truth) and is visible, but outside the latest 50.
    expect((await truth(a.id, true)).some((p) => ms(p.playedAt) === lateAt)).toBe(true);
  });

  test("when hours are computed, then the count is clamped at 120 and a zero rate makes no plays", () => {
    const busy = new Listening(1, T0, { playsPerHour: MAX_PLAYS_PER_HOUR });
    for (let k = 0; k < 20; k++) expect(busy.hour(k).length).toBeLessThanOrEqual(MAX_PLAYS_PER_HOUR);
    const quiet = new Listening(1, T0, { playsPerHour: 0, burstEveryHours: 3, burstPlays: 55 });
    expect([0, 1, 2, 3, 4, 5].map((k) => quiet.hour(k).length)).toEqual([0, 0, 55, 0, 0, 55]);
    expect(quiet.visibleNewest(T0 + 6 * HOUR_MS, 50)).toHaveLength(55); // whole hours, newest first
  });
});

describe("recently-played's cursor rules", () => {
  async function busyAccount() {
    const a = await account({ recentlyPlayed: 0, listening: { playsPerHour: 30 } });
    await advance(5 * HOUR_MS);
    return a;
  }

  test("when paged from the top, then 50 plays come newest first in disjoint pages ending with next=null", async () => {
    const a = await busyAccount();
    const first = await recent(a.token, "?limit=20");
    expect(first.json.items).toHaveLength(20);
    expect(first.json.cursors).toEqual({
      after: String(ms(first.json.items[0]!.played_at)),
      before: String(ms(first.json.items[19]!.played_at)),
    });
    const all = await wholeWindow(a.token, 20);
    expect(all).toHaveLength(50);
    const times = all.map((i) => ms(i.played_at));
    expect(new Set(times).size).toBe(50);
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    const plays = await truth(a.id);
    expect(all.map((i) => i.track.id)).toEqual(
      plays
        .slice(-50)
        .map((p) => p.trackId)
        .reverse(),
    );
    expect(all.every((i) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(i.played_at))).toBe(true);
  });

  test("when after is given, then the newest plays newer than it come, at most limit, and next pages older", async () => {
    const a = await busyAccount();
    const window = await wholeWindow(a.token, 50);
    const cursor = ms(window[30]!.played_at); // 30 plays are newer
    const r = await recent(a.token, `?after=${cursor}&limit=10`);
    expect(r.json.items.map((i) => i.played_at)).toEqual(window.slice(0, 10).map((i) => i.played_at));
    expect(r.json.next).not.toBeNull();
    const next = new URL(r.json.next!);
    expect(next.searchParams.get("before")).toBe(String(ms(window[9]!.played_at)));
    expect(next.searchParams.has("after")).toBe(false);
    // Exclusive: the play at the cursor itself is not newer than it.
    const all = await recent(a.token, `?after=${cursor}&limit=50`);
    expect(all.json.items).toHaveLength(30);
    expect(all.json.items.every((i) => ms(i.played_at) > cursor)).toBe(true);
    // Newer than the newest: nothing, without cursors.
    const none = await recent(a.token, `?after=${ms(window[0]!.played_at)}`);
    expect(none.json).toMatchObject({ items: [], next: null, cursors: null });
  });

  test("when before is given, then the window's plays older than it come; past the window nothing", async () => {
    const a = await busyAccount();
    const window = await wholeWindow(a.token, 50);
    const r = await recent(a.token, `?before=${ms(window[10]!.played_at)}&limit=50`);
    expect(r.json.items.map((i) => i.played_at)).toEqual(window.slice(11).map((i) => i.played_at));
    expect(r.json.next).toBeNull();
    // Older plays exist (ground truth) but are outside the latest 50: Spotify answers nothing.
    expect((await truth(a.id)).length).toBeGreaterThan(50);
    const past = await recent(a.token, `?before=${ms(window[49]!.played_at)}`);
    expect(past.json).toMatchObject({ items: [], next: null, cursors: null });
  });

  test("when the query is wrong, then Spotify answers 400", async () => {
    const a = await busyAccount();
    for (const q of ["?limit=0", "?limit=51", "?after=1&before=2", "?after=-5", "?before=abc", "?after=1.5"]) {
      expect([q, (await recent(a.token, q)).status]).toEqual([q, 400]);
    }
    expect((await recent(a.token, "?limit=50")).json.items).toHaveLength(50);
  });

  test("when plays are simulated, then each item is a full track with a playlist, album or no context", async () => {
    const a = await account({ recentlyPlayed: 0, playlists: 5, listening: { playsPerHour: 60 } });
    await advance(3 * HOUR_MS);
    const items = await wholeWindow(a.token, 50);
    const types = new Set(items.map((i) => i.context?.type ?? null));
    expect(types).toEqual(new Set(["playlist", "album", null]));
    const plays = await truth(a.id);
    const byTime = new Map(plays.map((p) => [p.playedAt, p]));
    for (const i of items) {
      const t = byTime.get(i.played_at)!;
      expect([i.track.id, i.track.duration_ms]).toEqual([t.trackId, t.durationMs]);
      if (i.context?.type === "album") expect(i.context.uri).toMatch(/^spotify:album:[A-Za-z0-9]{22}$/);
    }
  });
});

describe("the listen and plays operations", () => {
  test("when plays are added with track keys, then the same key is the same track and the catalogue keys are the simulation's", async () => {
    const a = await account({ recentlyPlayed: 0, listening: { playsPerHour: 40 } });
    const at = (min: number) => new Date(T0 - min * 60_000).toISOString();
    const { added } = await control<{ added: Truth[] }>("listen", {
      provider: "spotify",
      account: a.id,
      plays: [
        { trackKey: "x", playedAt: at(3) },
        { trackKey: "x", playedAt: at(2) },
        { trackKey: "y", playedAt: at(1) },
        { playedAt: at(4) },
      ],
    });
    expect(added.map((p) => p.playedAt)).toEqual([at(4), at(3), at(2), at(1)]); // oldest first
    expect(added[1]!.trackId).toBe(added[2]!.trackId);
    expect(added[3]!.trackId).not.toBe(added[1]!.trackId);
    // The simulation's tracks are the catalogue keys: the key of a simulated track gives it again.
    await advance(HOUR_MS);
    const simulated = (await truth(a.id)).filter((p) => ms(p.playedAt) >= T0);
    const keys = Array.from({ length: 200 }, (_, i) => String(i));
    const { added: catalogue } = await control<{ added: Truth[] }>("listen", {
      provider: "spotify",
      account: a.id,
      plays: keys.map((k, i) => ({ trackKey: k, playedAt: new Date(T0 - 10 * HOUR_MS + i * 60_000).toISOString() })),
    });
    const catalogueIds = new Set(catalogue.map((p) => p.trackId));
    expect(simulated.every((p) => catalogueIds.has(p.trackId))).toBe(true);
    expect(new Set(simulated.map((p) => p.trackId)).size).toBeGreaterThan(10);
    const summary = await control<Json>("account", { provider: "spotify", id: a.id });
    expect(summary).toMatchObject({ addedPlays: 204, listening: { playsPerHour: 40 } });
  });

  test("when plays are added for later, then plays and the window show them only once the clock reaches them", async () => {
    const a = await account({ recentlyPlayed: 0 });
    const played = new Date(T0 + 10 * 60_000).toISOString();
    const visible = new Date(T0 + 40 * 60_000).toISOString();
    await control("listen", { provider: "spotify", account: a.id, plays: [{ playedAt: played, visibleAt: visible }] });
    expect(await truth(a.id)).toEqual([]);
    await advance(20 * 60_000);
    expect((await truth(a.id)).map((p) => [p.playedAt, p.visibleAt])).toEqual([[played, visible]]);
    expect(await truth(a.id, true)).toEqual([]);
    expect((await recent(a.token)).json.items).toEqual([]);
    await advance(20 * 60_000);
    expect(await truth(a.id, true)).toHaveLength(1);
    expect((await recent(a.token)).json.items.map((i) => i.played_at)).toEqual([played]);
  });

  test("when the operations get bad input, then they answer 400 with a sentence", async () => {
    const a = await account({ recentlyPlayed: 5 });
    const bad = (plays: unknown) => controlError("listen", { provider: "spotify", account: a.id, plays });
    expect(await bad([{ playedAt: "yesterday" }])).toMatch(/"plays" at 0\.playedAt: must be an ISO date-time/);
    expect(await bad([{ playedAt: "2026-06-01T10:00:00.000Z", visibleAt: "2026-06-01T09:00:00.000Z" }])).toMatch(
      /"visibleAt" must not be before "playedAt"/,
    );
    expect(await bad([{ playedAt: "2026-06-01T10:00:00.000Z", extra: 1 }])).toMatch(/"plays" at 0/);
    expect(await bad("nope")).toMatch(/"plays"/);
    const twice = [{ playedAt: "2026-06-01T10:00:00.000Z" }, { playedAt: "2026-06-01T10:00:00.000Z" }];
    expect(await bad(twice)).toMatch(/cannot share a millisecond/);
    const fixed = await truth(a.id);
    expect(await bad([{ playedAt: fixed[0]!.playedAt }])).toMatch(/cannot share a millisecond/);
    expect(await truth(a.id)).toHaveLength(5); // nothing of a refused call was added
    expect(await controlError("plays", { provider: "spotify", account: a.id, visibleOnly: "yes" })).toMatch(
      /"visibleOnly"/,
    );
    expect(await controlError("plays", { provider: "spotify", account: "nobody" })).toMatch(/No spotify account/);
    const { id: ig } = await control<{ id: string }>("addAccount", { provider: "instagram" });
    expect(await controlError("plays", { provider: "instagram", account: ig })).toMatch(/has no listening history/);
    expect(
      await controlError("addAccount", { provider: "spotify", spec: { listening: { playsPerHour: 500 } } }),
    ).toMatch(/"listening" at playsPerHour/);
    expect(
      await controlError("addAccount", {
        provider: "spotify",
        spec: { listening: { playsPerHour: 5, burstPlays: 60 } },
      }),
    ).toMatch(/"burstPlays" needs "burstEveryHours"/);
  });

  test("when help is asked, then listen and plays are listed", async () => {
    const ops = (await control<{ operations: Json }>("help", {})).operations;
    expect(Object.keys(ops)).toEqual(expect.arrayContaining(["listen", "plays"]));
  });
});
