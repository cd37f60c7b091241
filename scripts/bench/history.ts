/**
 * Bench 4 — the listening history (README "Listening history"):
 *
 * - **Per sync**: one Spotify connection on the fake; after its first sync, a sync that finds no
 *   new play and one that finds 20 (added with the fake's `listen` op): Firestore reads, writes by
 *   collection and commits (commit / batchWrite RPCs that wrote something), counted at the SDK.
 * - **A heavy listener's year**: 40,000 plays logged through commitPlays, 200 per transaction
 *   (the path a sync takes), then checked against the log by the rebuild (`npm run
 *   rebuild-stats -- --check`): time of each, the month documents and the largest one's size.
 * - **The dashboard** of that listener, in Chromium against Hosting: the documents its charts read
 *   for 365 days (counted by the page's history store as its queries answer) and the time from
 *   the data's arrival to the charts drawn (scripts/bench/historyBrowser.ts).
 */
import { Timestamp } from "../migrate/deps";
import { db } from "../../functions/src/admin";
import { type Config, providerSettings } from "../../functions/src/config";
import { newConnection } from "../../functions/src/connections/model";
import { tokenStoreFromConfig } from "../../functions/src/crypto/tokenStore";
import { type Play, monthDocId } from "../../functions/src/history/model";
import { commitPlays, PLAYS_PER_COMMIT } from "../../functions/src/history/playLog";
import { rebuildStats } from "../../functions/src/history/rebuild";
import { type Provider, firestorePaths } from "../../functions/src/paths";
import { CATALOG } from "../../functions/src/providers/catalog";
import { runSync } from "../../functions/src/sync/runSync";
import type { BenchFake } from "./fakeProcess";
import { benchSyncDeps } from "./deps";
import { diffCommits, diffFirestore, newStorageCounts, snapshotCommits, snapshotFirestore } from "./instrument";
import { createUsers } from "./users";

export interface HistorySyncRow {
  /** Plays added on the fake since the sync before. */
  newPlays: number;
  logged: number;
  outcome: string;
  firestore: { reads: number; writes: number; deletes: number };
  commits: number;
  writesByCollection: Record<string, number>;
  ms: number;
}

export interface HeavyListener {
  plays: number;
  days: number;
  transactions: number;
  logSeconds: number;
  playsPerSecond: number;
  rebuildSeconds: number;
  rebuildMatches: boolean;
  months: number;
  largestMonthBytes: number;
}

export interface HistoryBenchResult {
  provider: Provider;
  rows: HistorySyncRow[];
  heavy: HeavyListener;
  /** Filled by scripts/bench/historyBrowser.ts. */
  dashboard?: { range: string; documentsRead: number; renderMs: number; yearRenderMs: number; dataMs: number };
}

const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);

/** The provider whose catalog entry keeps a play log (Spotify). */
export function playLogProvider(): Provider {
  const entry = CATALOG.find((e) => "plays" in e && e.plays !== undefined);
  if (!entry) throw new Error("No catalog entry keeps a play log.");
  return entry.id;
}

class MovableClock {
  constructor(public t: number) {}
  now = () => new Date(this.t);
}

export async function benchHistory(
  fake: BenchFake,
  config: Config,
  opts: { tag: string; heavyPlays: number },
): Promise<HistoryBenchResult> {
  const provider = playLogProvider();
  const rows = await perSync(fake, config, provider, opts.tag);
  const uid = `bh-heavy-${opts.tag}`;
  const { createListener, measureDashboard } = await import("./historyBrowser");
  const { email } = await createListener(uid);
  const heavy = await heavyListener(provider, uid, opts.heavyPlays);
  const dashboard = await measureDashboard(email);
  say(`history: dashboard: ${JSON.stringify(dashboard)}`);
  return { provider, rows, heavy, dashboard };
}

async function perSync(fake: BenchFake, config: Config, provider: Provider, tag: string): Promise<HistorySyncRow[]> {
  const tokens = tokenStoreFromConfig();
  const clock = new MovableClock(Date.now());
  const deps = benchSyncDeps(config, newStorageCounts(), clock);
  const [c] = await createUsers(fake, tokens, {
    prefix: `bh-${tag}`,
    users: 1,
    providers: [provider],
    now: clock.now(),
  });
  const gapMs = (providerSettings(config, provider).syncIntervalMinutes + 1) * 60_000;
  const rows: HistorySyncRow[] = [];
  for (const newPlays of [-1, 0, 20]) {
    if (newPlays >= 0) {
      clock.t += gapMs;
      await fake.advanceClock(gapMs);
    }
    if (newPlays > 0) {
      // 20 plays in the hour since the last sync, three minutes apart, visible now.
      const plays = Array.from({ length: newPlays }, (_, i) => ({
        trackKey: String(i),
        playedAt: new Date(clock.t - (newPlays - i) * 3 * 60_000).toISOString(),
      }));
      await fake.control("listen", { provider, account: c!.accountId, plays });
    }
    const fs0 = snapshotFirestore();
    const cm0 = snapshotCommits();
    const t0 = performance.now();
    const r = await runSync(
      deps,
      { uid: c!.uid, provider, reason: "scheduled", requestedAt: clock.t },
      { retryCount: 0, lastAttempt: true },
    );
    const ms = Math.round(performance.now() - t0);
    const fs = diffFirestore(fs0);
    const cm = diffCommits(cm0);
    const row: HistorySyncRow = {
      newPlays: Math.max(0, newPlays),
      logged: r.counts?.playsLogged ?? 0,
      outcome: r.outcome,
      firestore: { reads: fs.reads, writes: fs.writes, deletes: fs.deletes },
      commits: cm.commits,
      writesByCollection: cm.writesByCollection,
      ms,
    };
    if (newPlays >= 0) rows.push(row);
    say(`history: sync ${newPlays < 0 ? "first" : `${newPlays} new plays`}: ${JSON.stringify(row)}`);
  }
  return rows;
}

/**
 * A year of listening, deterministic: `total` plays spread over 365 days (more in the evening),
 * over a catalogue of 2,000 tracks by 400 artists, popular ones played more.
 */
export function yearOfPlays(provider: Provider, total: number, endMs: number): Play[] {
  let seed = 20261202;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const span = 365 * 86_400_000;
  const plays: Play[] = [];
  const times = new Set<number>();
  for (let i = 0; i < total; i++) {
    let t = endMs - Math.floor(rnd() * span);
    t -= t % 1000;
    while (times.has(t)) t += 1000;
    times.add(t);
    const track = Math.floor(2000 * rnd() ** 2);
    const artist = track % 400;
    plays.push({
      provider,
      playedAt: new Date(t),
      trackId: `benchtrack${String(track).padStart(5, "0")}`,
      trackName: `Track ${track}`,
      artists: [{ id: `benchartist${String(artist).padStart(4, "0")}`, name: `Artist ${artist}` }],
      albumId: `benchalbum${String(track % 700).padStart(4, "0")}`,
      albumName: `Album ${track % 700}`,
      durationMs: 150_000 + Math.floor(rnd() * 120_000),
      context: null,
    });
  }
  return plays.sort((a, b) => a.playedAt.getTime() - b.playedAt.getTime());
}

/** Logs a year of plays for `uid` through commitPlays (holding a lease as a sync does), then rebuilds. */
export async function heavyListener(provider: Provider, uid: string, total: number): Promise<HeavyListener> {
  const now = new Date();
  const runId = `bench-${uid}`;
  const connection = newConnection({
    uid,
    provider,
    providerAccountId: `${uid}-account`,
    providerAccountName: "Heavy listener",
    scopes: [],
    now,
  });
  // Not due for a long time: the fan-out of another bench never picks it.
  await db()
    .doc(firestorePaths.connection(uid, provider))
    .set({
      ...connection,
      nextSyncAt: Timestamp.fromMillis(now.getTime() + 3650 * 86_400_000),
      lease: { holder: runId, expiresAt: Timestamp.fromMillis(now.getTime() + 86_400_000) },
    });
  await db()
    .doc(firestorePaths.user(uid))
    .set({ settings: { timeZone: "Europe/Berlin", syncEnabled: true } }, { merge: true });
  const plays = yearOfPlays(provider, total, now.getTime());
  const t0 = performance.now();
  let transactions = 0;
  for (let i = 0; i < plays.length; i += PLAYS_PER_COMMIT) {
    const r = await commitPlays(db(), {
      uid,
      provider,
      runId,
      plays: plays.slice(i, i + PLAYS_PER_COMMIT),
      gapCheck: null,
      now,
      timeZone: "Europe/Berlin",
    });
    if (r.kind !== "committed") throw new Error(`heavy listener: commit ${i} was ${r.kind}`);
    transactions++;
    if ((i / PLAYS_PER_COMMIT) % 50 === 0) say(`history: heavy listener ${i.toLocaleString("en-US")} plays logged`);
  }
  const logSeconds = (performance.now() - t0) / 1000;
  await db().doc(firestorePaths.connection(uid, provider)).update({ lease: null });
  const t1 = performance.now();
  const check = await rebuildStats(db(), uid, { check: true });
  const rebuildSeconds = (performance.now() - t1) / 1000;
  const months = await db().collection(firestorePaths.playStats(uid)).get();
  let largest = 0;
  for (const d of months.docs) largest = Math.max(largest, Buffer.byteLength(JSON.stringify(d.data())));
  const heavy: HeavyListener = {
    plays: total,
    days: 365,
    transactions,
    logSeconds: round(logSeconds),
    playsPerSecond: Math.round(total / logSeconds),
    rebuildSeconds: round(rebuildSeconds),
    rebuildMatches: check.changed.length === 0,
    months: months.size,
    largestMonthBytes: largest,
  };
  say(`history: heavy listener: ${JSON.stringify(heavy)} (month ids like ${monthDocId(provider, "2026-01")})`);
  return heavy;
}

const round = (x: number) => Math.round(x * 100) / 100;
