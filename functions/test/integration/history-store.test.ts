/**
 * The play log against the Firestore emulator: commitPlays (dedupe without writes, fencing by the
 * lease, gaps, late plays, large reads split into several commits), the month aggregates it keeps
 * and the rebuild that checks them, daily points, retention, and deletion with
 * disconnect-with-delete and with the account.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { deleteAccountData } from "../../src/account/deleteAccount";
import { bucket, db } from "../../src/admin";
import { newConnection } from "../../src/connections/model";
import { type MonthStats, type Play, monthDocId, playDoc, playId } from "../../src/history/model";
import { commitPlays, timeZoneOf } from "../../src/history/playLog";
import { pointUpdate } from "../../src/history/points";
import { rebuildStats } from "../../src/history/rebuild";
import { trimPlays } from "../../src/history/retention";
import { FirestoreStorageEraser } from "../../src/oauth/disconnect";
import { type Provider, firestorePaths } from "../../src/paths";
import { ROOT } from "../../../scripts/lib/local-env";

const RUN = "run-1";
const T0 = Date.UTC(2026, 2, 10, 12, 0, 0); // 2026-03-10 12:00 UTC
const MIN = 60_000;

function play(at: number, track = `t${at % 7}`, provider: Provider = "spotify"): Play {
  return {
    provider,
    playedAt: new Date(at),
    trackId: track,
    trackName: `Song ${track}`,
    artists: [
      { id: `a${track}`, name: `Artist ${track}` },
      { id: "shared", name: "Shared Artist" },
    ],
    albumId: `al${track}`,
    albumName: `Album ${track}`,
    durationMs: 180_000,
    context: null,
  };
}

/** `n` plays, one every `stepMin` minutes from `from`. */
const series = (from: number, n: number, stepMin = 4) =>
  Array.from({ length: n }, (_, i) => play(from + i * stepMin * MIN));

async function person(opts: { timeZone?: string; holder?: string; status?: string } = {}): Promise<string> {
  const uid = `hist-${randomUUID()}`;
  await db()
    .doc(firestorePaths.user(uid))
    .set({ uid, settings: { timeZone: opts.timeZone ?? "Etc/UTC", syncEnabled: true } });
  const c = newConnection({
    uid,
    provider: "spotify",
    providerAccountId: null,
    providerAccountName: null,
    scopes: [],
    now: new Date(T0),
  });
  await db()
    .doc(firestorePaths.connection(uid, "spotify"))
    .set({
      ...c,
      status: opts.status ?? "connected",
      lease: { holder: opts.holder ?? RUN, expiresAt: Timestamp.fromMillis(T0 + 600_000) },
    });
  return uid;
}

const commit = (uid: string, plays: Play[], extra: { fullWindow?: boolean; runId?: string; timeZone?: string } = {}) =>
  commitPlays(db(), {
    uid,
    provider: "spotify",
    runId: extra.runId ?? RUN,
    plays,
    gapCheck: extra.fullWindow === undefined ? null : { fullWindow: extra.fullWindow },
    now: new Date(T0 + 3_600_000),
    timeZone: extra.timeZone ?? "Etc/UTC",
  });

const connection = async (uid: string) => (await db().doc(firestorePaths.connection(uid, "spotify")).get()).data()!;
const playDocs = async (uid: string) => (await db().collection(firestorePaths.plays(uid)).get()).docs;
const month = async (uid: string, m: string) =>
  (
    await db()
      .doc(firestorePaths.playStatsMonth(uid, monthDocId("spotify", m)))
      .get()
  ).data() as (MonthStats & { updatedAt: Timestamp }) | undefined;

describe("commitPlays", () => {
  it("when 20 new plays are committed, then they, their month and the connection are written in one commit; the same read again writes nothing", async () => {
    const uid = await person();
    const plays = series(T0, 20);
    const r = await commit(uid, plays, { fullWindow: false });
    expect(r).toEqual({ kind: "committed", logged: 20, duplicates: 0, gap: null, newest: plays[19]!.playedAt });
    const docs = await playDocs(uid);
    expect(docs.map((d) => d.id).sort()).toEqual(plays.map(playId).sort());
    expect(docs[0]!.get("source")).toBe("sync");
    const m = (await month(uid, "2026-03"))!;
    expect(m.plays).toBe(20);
    expect(m.ms).toBe(20 * 180_000);
    expect(m.artists.shared!.plays).toBe(20);
    const c1 = await db().doc(firestorePaths.connection(uid, "spotify")).get();
    expect(c1.get("history.plays")).toBe(20);
    expect(c1.get("history.newestPlayedAt").toMillis()).toBe(plays[19]!.playedAt.getTime());
    expect(c1.get("history.recentPlayIds")).toHaveLength(20);
    expect(c1.get("lastHistoryGap")).toBeUndefined();
    // One commit: every document it wrote carries the same update time.
    const times = new Set([...docs.map((d) => d.updateTime.toMillis()), c1.updateTime!.toMillis()]);
    const monthSnap = await db().doc(firestorePaths.playStatsMonth(uid, "spotify-2026-03")).get();
    times.add(monthSnap.updateTime!.toMillis());
    expect(times.size).toBe(1);

    // Read again, in another order and with a repeat: nothing new, nothing written.
    const again = await commit(uid, [...plays].reverse().concat(plays[3]!), { fullWindow: true });
    expect(again).toEqual({ kind: "committed", logged: 0, duplicates: 20, gap: null, newest: plays[19]!.playedAt });
    const c2 = await db().doc(firestorePaths.connection(uid, "spotify")).get();
    expect(c2.updateTime!.isEqual(c1.updateTime!)).toBe(true);
    const m2 = await db().doc(firestorePaths.playStatsMonth(uid, "spotify-2026-03")).get();
    expect(m2.updateTime!.isEqual(monthSnap.updateTime!)).toBe(true);
    expect(await playDocs(uid)).toHaveLength(20);
  });

  it("when another run holds the lease, or the connection is disconnected or gone, then it is superseded and writes nothing", async () => {
    const other = await person({ holder: "someone-else" });
    expect(await commit(other, series(T0, 5))).toEqual({ kind: "superseded" });
    const disconnected = await person({ status: "disconnected" });
    expect(await commit(disconnected, series(T0, 5))).toEqual({ kind: "superseded" });
    const gone = `hist-${randomUUID()}`;
    expect(await commit(gone, series(T0, 5))).toEqual({ kind: "superseded" });
    for (const uid of [other, disconnected, gone]) {
      expect(await playDocs(uid)).toHaveLength(0);
      expect((await db().collection(firestorePaths.playStats(uid)).get()).size).toBe(0);
    }
    expect((await connection(other)).history).toBeUndefined();
  });

  it("when a full window holds only plays newer than the newest logged one, then a gap is recorded and counted; an overlapping full window records none", async () => {
    const uid = await person();
    const first = series(T0, 10);
    await commit(uid, first, { fullWindow: false });
    const burst = series(T0 + 10 * 60 * MIN, 50, 1);
    const r = await commit(uid, burst, { fullWindow: true });
    expect(r.kind).toBe("committed");
    if (r.kind !== "committed") return;
    expect(r.logged).toBe(50);
    expect(r.gap?.after.toMillis()).toBe(first[9]!.playedAt.getTime());
    expect(r.gap?.before.toMillis()).toBe(burst[0]!.playedAt.getTime());
    let c = await connection(uid);
    expect(c.lastHistoryGap.after.toMillis()).toBe(first[9]!.playedAt.getTime());
    expect(c.lastHistoryGap.before.toMillis()).toBe(burst[0]!.playedAt.getTime());
    expect(c.historyGaps).toBe(1);

    // The next read overlaps what was logged (a full window, but not all of it new): no gap.
    const next = [...burst.slice(10), ...series(T0 + 12 * 60 * MIN, 10, 1)];
    const r2 = await commit(uid, next, { fullWindow: true });
    expect(r2).toMatchObject({ kind: "committed", logged: 10, duplicates: 40, gap: null });
    c = await connection(uid);
    expect(c.historyGaps).toBe(1);
    // The first commit of a connection has nothing to compare with: no gap either.
    const fresh = await person();
    expect(await commit(fresh, series(T0, 50, 1), { fullWindow: true })).toMatchObject({ logged: 50, gap: null });
  });

  it("when late plays arrive (older than the newest logged), then they are logged once, also older than the id list and also when the log holds a play the list does not", async () => {
    const uid = await person();
    // 120 plays: the id list keeps the 100 newest.
    await commit(uid, series(T0, 60, 1));
    await commit(uid, series(T0 + 60 * MIN, 60, 1));
    let c = await connection(uid);
    expect(c.history.recentPlayIds).toHaveLength(100);
    expect(c.history.plays).toBe(120);
    const late = play(T0 + 90 * MIN + 30_000, "late1"); // inside the list's range, id unknown
    const older = play(T0 + 5 * MIN + 30_000, "late2"); // older than every id kept: read to check
    const droppedFromList = series(T0, 60, 1)[2]!; // logged, but no longer in the list
    const r = await commit(uid, [late, older, droppedFromList]);
    expect(r).toMatchObject({ kind: "committed", logged: 2, duplicates: 1 });
    c = await connection(uid);
    expect(c.history.plays).toBe(122);
    expect(c.history.newestPlayedAt.toMillis()).toBe(T0 + 119 * MIN);
    expect(c.history.recentPlayIds).toContain(playId(late));
    // Again: nothing new.
    expect(await commit(uid, [late, older, droppedFromList])).toMatchObject({ logged: 0, duplicates: 3 });
    // A play already in the log but unknown to the list and newer than its oldest id (written by
    // another path): the commit notices, logs the rest, and counts nothing twice.
    const imported = play(T0 + 100 * MIN + 30_000, "imported");
    await db()
      .doc(firestorePaths.play(uid, playId(imported)))
      .set(playDoc(imported, "import", new Date(T0)));
    const r2 = await commit(uid, [imported, play(T0 + 200 * MIN, "new1")]);
    expect(r2).toMatchObject({ kind: "committed", logged: 1, duplicates: 1 });
    expect((await month(uid, "2026-03"))!.plays).toBe(123);
    expect(await playDocs(uid)).toHaveLength(124);
  });

  it("when more than 200 plays are passed, then they are split into several fenced commits and all logged", async () => {
    const uid = await person();
    const r = await commit(uid, series(T0, 450, 1));
    expect(r).toMatchObject({ kind: "committed", logged: 450, duplicates: 0 });
    expect(await playDocs(uid)).toHaveLength(450);
    expect((await month(uid, "2026-03"))!.plays).toBe(450);
    expect((await connection(uid)).history.plays).toBe(450);
    const check = await rebuildStats(db(), uid, { check: true });
    expect(check.changed).toEqual([]);
  });

  it("when plays fall on both sides of a local midnight, then days and months are the person's", async () => {
    const uid = await person({ timeZone: "America/Los_Angeles" });
    const tz = await timeZoneOf(db(), uid);
    expect(tz).toBe("America/Los_Angeles");
    // 2026-04-01 06:30 UTC is 2026-03-31 23:30 in Los Angeles (PDT, UTC−7); 07:30 UTC is April 1st.
    await commit(uid, [play(Date.UTC(2026, 3, 1, 6, 30)), play(Date.UTC(2026, 3, 1, 7, 30))], { timeZone: tz });
    const march = (await month(uid, "2026-03"))!;
    const april = (await month(uid, "2026-04"))!;
    expect(march.days).toEqual({ "31": { plays: 1, ms: 180_000 } });
    expect(april.days).toEqual({ "01": { plays: 1, ms: 180_000 } });
    expect(march.grid).toEqual({ "1-23": 1 }); // Tuesday 23:00
    expect(april.timeZone).toBe("America/Los_Angeles");
  });
});

describe("rebuildStats", () => {
  it("when the aggregates match the log, then --check passes; after tampering it names the month; a rebuild repairs and removes months without plays", async () => {
    const uid = await person();
    await commit(uid, series(T0, 30));
    await commit(uid, series(Date.UTC(2026, 4, 3, 8), 15));
    const ok = await rebuildStats(db(), uid, { check: true });
    expect(ok).toMatchObject({ uid, plays: 45, months: 2, changed: [], timeZone: "Etc/UTC", written: false });

    await db().doc(firestorePaths.playStatsMonth(uid, "spotify-2026-05")).update({ plays: 16 });
    await db()
      .doc(firestorePaths.playStatsMonth(uid, "spotify-2025-01"))
      .set({ provider: "spotify", month: "2025-01", plays: 1 });
    const bad = await rebuildStats(db(), uid, { check: true });
    expect(bad.changed).toEqual(["spotify-2025-01", "spotify-2026-05"]);
    expect((await month(uid, "2026-05"))!.plays).toBe(16); // check writes nothing

    const fixed = await rebuildStats(db(), uid, { check: false, pageSize: 7 });
    expect(fixed).toMatchObject({ plays: 45, changed: ["spotify-2025-01", "spotify-2026-05"], written: true });
    expect((await month(uid, "2026-05"))!.plays).toBe(15);
    expect(await month(uid, "2025-01")).toBeUndefined();
    expect((await rebuildStats(db(), uid, { check: true })).changed).toEqual([]);

    // After a time-zone change the months are counted again in the new zone.
    await db().doc(firestorePaths.user(uid)).update({ "settings.timeZone": "Asia/Tokyo" });
    const moved = await rebuildStats(db(), uid, { check: true });
    expect(moved.timeZone).toBe("Asia/Tokyo");
    expect(moved.changed).toEqual(["spotify-2026-03", "spotify-2026-05"]);
  });

  it("when run as npm run rebuild-stats, then it prints one JSON line and --check exits 1 on a difference", async () => {
    const uid = await person();
    await commit(uid, series(T0, 5));
    const run = (...args: string[]) =>
      spawnSync("npx", ["tsx", "scripts/rebuild-stats.ts", "--uid", uid, ...args], {
        cwd: ROOT,
        encoding: "utf8",
        env: process.env,
      });
    const ok = run("--check");
    expect(ok.status).toBe(0);
    const lines = ok.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ uid, plays: 5, months: 1, changed: [], timeZone: "Etc/UTC" });
    await db().doc(firestorePaths.playStatsMonth(uid, "spotify-2026-03")).update({ ms: 1 });
    const bad = run("--check");
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout.trim())).toMatchObject({ changed: ["spotify-2026-03"] });
    expect(bad.stderr).toContain("spotify-2026-03");
    const fix = run();
    expect(fix.status).toBe(0);
    expect(JSON.parse(fix.stdout.trim())).toMatchObject({ changed: ["spotify-2026-03"], written: true });
    expect((await rebuildStats(db(), uid, { check: true })).changed).toEqual([]);
    expect(run("--check", "--uid", "").status).toBe(2);
  });
});

describe("daily points", () => {
  it("when a day's point is written twice, then the second replaces it whole and other days stay", async () => {
    const uid = await person();
    const write = async (day: string, point: Record<string, unknown>) => {
      const u = pointUpdate(db(), uid, "spotify", day, point, new Date(T0));
      await db().runTransaction(async (tx) => {
        tx.set(u.ref, u.data, u.options);
      });
    };
    await write("2026-03-01", { playlists: 3, ranks: { short: ["a", "b"] } });
    await write("2026-03-02", { playlists: 4, ranks: { short: ["b"] } });
    await write("2026-03-02", { playlists: 5 });
    const doc = (await db().doc(firestorePaths.historyMonth(uid, "spotify-2026-03")).get()).data()!;
    expect(doc.provider).toBe("spotify");
    expect(doc.month).toBe("2026-03");
    expect(doc.days).toEqual({ "01": { playlists: 3, ranks: { short: ["a", "b"] } }, "02": { playlists: 5 } });
    expect(() => pointUpdate(db(), uid, "spotify", "2026-3-2", {})).toThrow(/Invalid day/);
  });
});

describe("retention", () => {
  it("when plays are trimmed, then only raw plays before the cutoff go and the aggregates stay", async () => {
    const uid = await person();
    await commit(uid, series(T0, 30, 60)); // 30 hours of plays
    const before = await month(uid, "2026-03");
    const cutoff = new Date(T0 + 10 * 60 * MIN);
    expect(await trimPlays(db(), uid, cutoff, 4)).toBe(4);
    expect(await trimPlays(db(), uid, cutoff, 100)).toBe(6);
    expect(await trimPlays(db(), uid, cutoff, 100)).toBe(0);
    const left = await playDocs(uid);
    expect(left).toHaveLength(20);
    expect(left.every((d) => d.get("playedAt").toMillis() >= cutoff.getTime())).toBe(true);
    expect((await month(uid, "2026-03"))!.plays).toBe(before!.plays);
  });
});

describe("deletion", () => {
  async function seedHistory(uid: string): Promise<void> {
    await commit(uid, series(T0, 30));
    const u = pointUpdate(db(), uid, "spotify", "2026-03-10", { playlists: 2 });
    await u.ref.set(u.data, u.options);
    const ig = pointUpdate(db(), uid, "instagram", "2026-03-10", { followers: 5 });
    await ig.ref.set(ig.data, ig.options);
    await db()
      .doc(firestorePaths.play(uid, playId(play(T0, "x", "youtube"))))
      .set(playDoc(play(T0, "x", "youtube"), "sync", new Date(T0)));
  }

  it("when Spotify is disconnected with its data, then no Spotify play, aggregate or point is left and other providers' stay", async () => {
    const uid = await person();
    await seedHistory(uid);
    const n = await new FirestoreStorageEraser(db(), bucket()).eraseDocuments(uid, "spotify");
    expect(n).toBe(30 + 1 + 1);
    expect((await playDocs(uid)).map((d) => d.get("provider"))).toEqual(["youtube"]);
    expect((await db().collection(firestorePaths.playStats(uid)).get()).size).toBe(0);
    const history = await db().collection(firestorePaths.history(uid)).get();
    expect(history.docs.map((d) => d.id)).toEqual(["instagram-2026-03"]);
  });

  it("when the account is deleted, then no play, aggregate or point is left", async () => {
    const uid = await person();
    await seedHistory(uid);
    await deleteAccountData({ db: db(), bucket: bucket(), throttling: false }, uid);
    for (const path of [firestorePaths.plays(uid), firestorePaths.playStats(uid), firestorePaths.history(uid)]) {
      expect((await db().collection(path).get()).size).toBe(0);
    }
  });
});
