/**
 * A simulated week of listening, synced the way production does it: the real Spotify client
 * against the fake provider server (its listening simulation on the fake clock, with
 * recently-played's 50-play window), runSync in-process on the emulators, the clock moved one
 * fan-out tick at a time and a sync run whenever the connection's nextSyncAt says it is due
 * (hourly: see `config`).
 *
 * Compared with the fake's ground truth (every play it made, and when each became visible):
 * every play the window showed is logged exactly once; on-time plays are lost only inside a
 * recorded gap (a late play may also be pushed out of the window before it ever shows in it);
 * a gap is recorded exactly at the syncs whose window held nothing older than the newest logged
 * play (50 or more new plays since the sync before); the month aggregates equal what the log
 * implies (the rebuild's check); one daily point per local day.
 */
import { randomUUID } from "node:crypto";
import { db } from "../../src/admin";
import { type Config, loadConfig } from "../../src/config";
import { newConnection } from "../../src/connections/model";
import { tokenStoreFromConfig } from "../../src/crypto/tokenStore";
import { ConnectionHistory, HistoryGap, PlayDoc, playId } from "../../src/history/model";
import { dayOf } from "../../src/history/read";
import { rebuildStats } from "../../src/history/rebuild";
import { firestorePaths } from "../../src/paths";
import { type SyncResult, runSync } from "../../src/sync/runSync";
import { syncDeps } from "../../src/sync/runtime";
import { type FakeProviders, startFakeProviders } from "../../../scripts/fake-providers";

jest.setTimeout(150_000);

// Hourly syncs, as for a listener whose plays fit the window (the active-listener interval is one
// hour here, so the week is 168 syncs): the fake's burst hours then bring more than 50 plays
// between two syncs. Covers are not the subject: no Storage traffic.
const config: Config = { ...loadConfig(), MIRROR_SPOTIFY_COVERS: false, SPOTIFY_ACTIVE_SYNC_MINUTES: 60 };
const tokens = tokenStoreFromConfig();
const TICK_MS = config.SYNC_TICK_MINUTES * 60_000;
const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;
const WINDOW = 50;
const TIME_ZONE = "Europe/Berlin";

let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders({ port: 9090 });
});
afterAll(async () => {
  await fake?.stop();
});
afterEach(() => fake.clock.thaw());

interface Truth {
  id: string;
  playedAt: number;
  visibleAt: number;
}

interface SyncSeen {
  at: number;
  /** Plays the window showed at this moment (the latest 50 visible ones). */
  window: Truth[];
  /** The newest play logged before this sync (null before the first). */
  newestBefore: number | null;
  /** Of the window, plays newer than that. */
  newer: number;
  result: SyncResult;
}

interface ListeningAccount {
  plays(nowMs: number, visibleOnly?: boolean): { playedAt: string; visibleAt: string; trackId: string }[];
}

describe("a week of listening on the fake, synced tick by tick", () => {
  it("when a week of plays (bursts over the window, late plays) is synced, then the log, gaps, aggregates and daily points match the fake's truth", async () => {
    const uid = `week-${randomUUID()}`;
    // Each sync's window is read from the fake's truth just before the sync: with the clock
    // running, a play becoming visible in the milliseconds between would be logged but not "shown".
    fake.clock.freeze();
    const clock = { now: () => fake.clock.now() };
    await db()
      .doc(firestorePaths.user(uid))
      .set({ settings: { timeZone: TIME_ZONE } });
    const { id } = fake.addAccount("spotify", {
      playlists: 1,
      // About 19 plays an hour, a 90-play hour every 29 hours and an offline hour every 6 hours
      // whose plays appear half an hour after it ends (inside the read's overlap).
      listening: { playsPerHour: 19, burstEveryHours: 29, burstPlays: 90, lateEveryHours: 6, lateDelayHours: 0.5 },
    });
    const account = fake.account("spotify", id) as unknown as ListeningAccount;
    const t = fake.issueTokens("spotify", id);
    const start = clock.now().getTime();
    await tokens.save(uid, "spotify", {
      accessToken: t.accessToken,
      ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}),
      expiresAt: new Date(start + t.expiresIn * 1000),
      issuedAt: new Date(start),
      scopes: t.scopes,
    });
    const connRef = db().doc(firestorePaths.connection(uid, "spotify"));
    await connRef.set(
      newConnection({
        uid,
        provider: "spotify",
        providerAccountId: id,
        providerAccountName: null,
        scopes: t.scopes,
        now: new Date(start),
      }),
    );
    const deps = { ...syncDeps(config), clock };

    const truthAt = (now: number): Truth[] =>
      account.plays(now, true).map((p) => {
        const playedAt = Date.parse(p.playedAt);
        return {
          id: playId({ provider: "spotify", playedAt: new Date(playedAt), trackId: p.trackId }),
          playedAt,
          visibleAt: Date.parse(p.visibleAt),
        };
      });

    const syncs: SyncSeen[] = [];
    for (let now = start; now < start + WEEK; now = clock.now().getTime()) {
      const conn = (await connRef.get()).data()!;
      if (conn.nextSyncAt.toMillis() <= now) {
        const history = ConnectionHistory.safeParse(conn.history);
        const newestBefore = history.success ? (history.data.newestPlayedAt?.toMillis() ?? null) : null;
        const window = truthAt(now)
          .sort((a, b) => b.playedAt - a.playedAt)
          .slice(0, WINDOW);
        const newer = newestBefore === null ? 0 : window.filter((p) => p.playedAt > newestBefore).length;
        const result = await runSync(
          deps,
          { uid, provider: "spotify", reason: "scheduled", requestedAt: now },
          { retryCount: 0, lastAttempt: true },
        );
        expect(result).toMatchObject({ outcome: "success" });
        syncs.push({ at: now, window, newestBefore, newer, result });
      }
      fake.clock.advance(TICK_MS);
    }
    const lastSync = syncs[syncs.length - 1]!.at;

    // --- The log against the truth ---------------------------------------------------------------
    const docs = (await db().collection(firestorePaths.plays(uid)).get()).docs;
    const logged = new Map(docs.map((d) => [d.id, PlayDoc.parse(d.data())]));
    const shown = new Map(syncs.flatMap((s) => s.window.map((p) => [p.id, p] as const)));
    const truth = truthAt(lastSync);
    expect(truth.length).toBeGreaterThanOrEqual(3_000);
    expect(truth.some((p) => p.visibleAt - p.playedAt >= 30 * 60_000)).toBe(true); // late plays happened
    // Everything logged was shown, and everything shown was logged (once: one document per id).
    expect([...logged.keys()].filter((k) => !shown.has(k))).toEqual([]);
    expect([...shown.keys()].filter((k) => !logged.has(k))).toEqual([]);
    expect([...logged.values()].every((d) => d.source === "sync")).toBe(true);
    expect(truth.filter((p) => p.visibleAt > p.playedAt && logged.has(p.id)).length).toBeGreaterThan(0);
    const conn = (await connRef.get()).data()!;
    const history = ConnectionHistory.parse(conn.history);
    expect(history.plays).toBe(logged.size);
    expect(syncs.reduce((n, s) => n + (s.result.plays?.logged ?? 0), 0)).toBe(logged.size);

    // --- Gaps: exactly at the syncs whose window was all new; lost plays only inside them ---------
    const gapSyncs = syncs.filter((s) => s.result.plays?.gap);
    expect(gapSyncs.map((s) => s.at)).toEqual(syncs.filter((s) => s.newer >= WINDOW).map((s) => s.at));
    expect(gapSyncs.length).toBeGreaterThanOrEqual(4); // the burst hours
    expect(conn.historyGaps).toBe(gapSyncs.length);
    const missing = truth.filter((p) => !logged.has(p.id));
    expect(missing.filter((p) => p.visibleAt === p.playedAt).length).toBeGreaterThan(0); // bursts overflowed
    // A lost on-time play lies inside a gap: after the newest play logged before the gap's sync
    // and before the oldest play that sync read. A late play may be lost without one: newer plays
    // pushed it out of the window before it ever showed (the API's limit, not the sync's).
    const spans = gapSyncs.map((g) => ({
      after: g.newestBefore!,
      before: Math.min(...g.window.map((p) => p.playedAt)),
    }));
    for (const p of missing) {
      const inGap = spans.some((g) => p.playedAt > g.after && p.playedAt < g.before);
      if (!inGap) expect({ late: p.visibleAt > p.playedAt, id: p.id }).toEqual({ late: true, id: p.id });
    }
    const lastGap = HistoryGap.parse(conn.lastHistoryGap);
    expect([lastGap.after.toMillis(), lastGap.before.toMillis()]).toEqual([
      spans[spans.length - 1]!.after,
      spans[spans.length - 1]!.before,
    ]);
    // Where fewer than 50 arrived between two syncs, nothing was lost: every play visible at a
    // sync and newer than the newest play the sync before it saw was logged.
    for (let i = 1; i < syncs.length; i++) {
      const s = syncs[i]!;
      if (s.newer >= WINDOW) continue;
      const prevNewest = Math.max(...syncs[i - 1]!.window.map((p) => p.playedAt));
      const arrived = truthAt(s.at).filter((p) => p.playedAt > prevNewest);
      expect(arrived.filter((p) => !logged.has(p.id))).toEqual([]);
    }
    // Due once an hour although the fan-out ticks every SYNC_TICK_MINUTES: nextSyncAt decides.
    expect(syncs.length).toBeGreaterThanOrEqual(WEEK / HOUR);
    expect(syncs.length).toBeLessThanOrEqual(WEEK / HOUR + 1);

    // --- Aggregates equal what the log implies --------------------------------------------------
    const check = await rebuildStats(db(), uid, { check: true });
    expect(check).toMatchObject({ plays: logged.size, changed: [], invalid: 0, timeZone: TIME_ZONE, written: false });
    const months = (await db().collection(firestorePaths.playStats(uid)).get()).docs;
    expect(months.reduce((n, m) => n + (m.get("plays") as number), 0)).toBe(logged.size);

    // --- One daily point per local day -----------------------------------------------------------
    const days = [...new Set(syncs.map((s) => dayOf(new Date(s.at), TIME_ZONE)))];
    expect(syncs.filter((s) => s.result.pointDay).map((s) => s.result.pointDay)).toEqual(days);
    const points = (await db().collection(firestorePaths.history(uid)).get()).docs.flatMap((d) =>
      Object.keys(d.get("days") as Record<string, unknown>).map((dd) => `${d.get("month") as string}-${dd}`),
    );
    expect(points.sort()).toEqual([...days].sort());
    expect(history.lastPointDay).toBe(days[days.length - 1]);
  });
});
