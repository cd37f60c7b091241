/**
 * "Delete history…" against the Firestore emulator: a date range (the person's days, both ends
 * included), an artist (every play listing it, multi-artist plays deleted whole), both; the month
 * aggregates equal a fresh rebuild from the log afterwards; a sync logging into the same month
 * meanwhile is not lost; a month whose raw plays were trimmed keeps the rest of its counts; bad
 * input is refused with a sentence and changes nothing; other people's history is not touched.
 * And the `eraseHistory` callable over HTTP through the Functions emulator.
 */
import { randomUUID } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { db } from "../../src/admin";
import { newConnection } from "../../src/connections/model";
import { eraseHistory } from "../../src/history/erase";
import { type MonthStats, type Play, monthDocId, playId } from "../../src/history/model";
import { commitPlays } from "../../src/history/playLog";
import { rebuildStats } from "../../src/history/rebuild";
import { trimPlays } from "../../src/history/retention";
import { firestorePaths } from "../../src/paths";
import { EMULATORS, PROJECT_ID, REGION } from "../../../scripts/lib/local-env";
import { newSignedInPerson } from "../support/people";
import { forgetPeople } from "../support/cleanup";

jest.setTimeout(60_000);

const RUN = "run-erase";
const MIN = 60_000;
const NOW = new Date(Date.UTC(2026, 4, 1));
const FUNCTIONS = `http://${EMULATORS.functions.host}:${EMULATORS.functions.port}/${PROJECT_ID}/${REGION}`;

function play(at: number, track: string, artists: string[] = [`a-${track}`]): Play {
  return {
    provider: "spotify",
    playedAt: new Date(at),
    trackId: track,
    trackName: `Song ${track}`,
    artists: artists.map((id) => ({ id, name: `Artist ${id}` })),
    albumId: null,
    albumName: null,
    durationMs: 200_000,
    context: null,
  };
}

async function person(timeZone = "Etc/UTC", uid = `erase-${randomUUID()}`): Promise<string> {
  await db()
    .doc(firestorePaths.user(uid))
    .set({ uid, settings: { timeZone, syncEnabled: true } }, { merge: true });
  const c = newConnection({
    uid,
    provider: "spotify",
    providerAccountId: null,
    providerAccountName: null,
    scopes: [],
    now: NOW,
  });
  await db()
    .doc(firestorePaths.connection(uid, "spotify"))
    .set({
      ...c,
      status: "connected",
      lease: { holder: RUN, expiresAt: Timestamp.fromMillis(NOW.getTime() + 3_600_000) },
    });
  return uid;
}

/** Logs the plays the way a sync does (plays, month aggregates, connection history). */
async function log(uid: string, plays: Play[], timeZone = "Etc/UTC"): Promise<void> {
  const r = await commitPlays(db(), {
    uid,
    provider: "spotify",
    runId: RUN,
    plays,
    gapCheck: null,
    now: NOW,
    timeZone,
  });
  expect(r.kind).toBe("committed");
}

const ids = async (uid: string) =>
  (await db().collection(firestorePaths.plays(uid)).get()).docs.map((d) => d.id).sort();
const monthIds = async (uid: string) =>
  (await db().collection(firestorePaths.playStats(uid)).get()).docs.map((d) => d.id).sort();
const month = async (uid: string, m: string) =>
  (
    await db()
      .doc(firestorePaths.playStatsMonth(uid, monthDocId("spotify", m)))
      .get()
  ).data() as MonthStats | undefined;
const conn = async (uid: string) => (await db().doc(firestorePaths.connection(uid, "spotify")).get()).data()!;
/** Every document of the person's log and aggregates with its update time: what "nothing changed" compares. */
const everything = async (uid: string) => {
  const docs = [
    ...(await db().collection(firestorePaths.plays(uid)).get()).docs,
    ...(await db().collection(firestorePaths.playStats(uid)).get()).docs,
  ];
  return docs.map((d) => `${d.ref.path}@${d.updateTime.toMillis()}`).sort();
};
const consistent = async (uid: string) => expect((await rebuildStats(db(), uid, { check: true })).changed).toEqual([]);
const without = (all: Play[], gone: Play[]) =>
  all
    .filter((p) => !gone.includes(p))
    .map(playId)
    .sort();

afterAll(async () => {
  await forgetPeople(["erase-"]);
});

describe("eraseHistory by date range", () => {
  it("when a range is deleted in Los Angeles, then exactly the plays of those local days go, the edge minutes decide, and the aggregates equal a rebuild", async () => {
    const tz = "America/Los_Angeles";
    const uid = await person(tz);
    // Local midnight of 2026-03-10 is 07:00 UTC (PDT); of 2026-03-13, 07:00 UTC as well.
    const beforeFrom = play(Date.UTC(2026, 2, 10, 6, 59, 59), "edge1"); // 03-09 23:59:59 local: kept
    const atFrom = play(Date.UTC(2026, 2, 10, 7, 0, 0), "edge2"); // 03-10 00:00:00 local: deleted
    const middle = play(Date.UTC(2026, 2, 11, 20), "mid");
    const atTo = play(Date.UTC(2026, 2, 13, 6, 59, 59, 999), "edge3"); // 03-12 23:59:59.999 local: deleted
    const afterTo = play(Date.UTC(2026, 2, 13, 7, 0, 0), "edge4"); // 03-13 00:00 local: kept
    const other = [play(Date.UTC(2026, 2, 1, 12), "m1"), play(Date.UTC(2026, 3, 2, 12), "a1")];
    const all = [beforeFrom, atFrom, middle, atTo, afterTo, ...other];
    await log(uid, all, tz);
    const historyBefore = (await conn(uid)).history;

    const r = await eraseHistory(db(), uid, { provider: "spotify", from: "2026-03-10", to: "2026-03-12" }, NOW);
    expect(r).toEqual({ deleted: 3, months: ["spotify-2026-03"] });
    expect(await ids(uid)).toEqual(without(all, [atFrom, middle, atTo]));
    const march = (await month(uid, "2026-03"))!;
    expect(march.plays).toBe(3);
    expect(Object.keys(march.days).sort()).toEqual(["01", "09", "13"]);
    await consistent(uid);
    // The id list stays (the next sync takes a deleted recent play for a logged one); the count follows.
    const h = (await conn(uid)).history;
    expect(h.recentPlayIds).toEqual(historyBefore.recentPlayIds);
    expect(h.plays).toBe(historyBefore.plays - 3);

    // Again: nothing left to delete, nothing written.
    const before = await everything(uid);
    expect(await eraseHistory(db(), uid, { provider: "spotify", from: "2026-03-10", to: "2026-03-12" }, NOW)).toEqual({
      deleted: 0,
      months: [],
    });
    expect(await everything(uid)).toEqual(before);
  });

  it("when a range spans a month's end or is open at one side, then every month it touches is recounted and emptied months go", async () => {
    const uid = await person();
    const all = [
      play(Date.UTC(2026, 0, 15), "jan"),
      play(Date.UTC(2026, 1, 27), "feb1"),
      play(Date.UTC(2026, 1, 28, 23, 59), "feb2"),
      play(Date.UTC(2026, 2, 1, 0, 0), "mar1"),
      play(Date.UTC(2026, 2, 2), "mar2"),
    ];
    await log(uid, all);
    const r = await eraseHistory(db(), uid, { provider: "spotify", from: "2026-02-28", to: "2026-03-01" }, NOW);
    expect(r).toEqual({ deleted: 2, months: ["spotify-2026-02", "spotify-2026-03"] });
    expect(await ids(uid)).toEqual(without(all, [all[2]!, all[3]!]));
    await consistent(uid);

    // Everything up to a day: January and February go whole, with their aggregates.
    const r2 = await eraseHistory(db(), uid, { provider: "spotify", to: "2026-02-28" }, NOW);
    expect(r2).toEqual({ deleted: 2, months: ["spotify-2026-01", "spotify-2026-02"] });
    expect(await monthIds(uid)).toEqual(["spotify-2026-03"]);
    expect(await ids(uid)).toEqual([playId(all[4]!)]);
    await consistent(uid);
  });
});

describe("eraseHistory by artist", () => {
  it("when an artist is deleted, then every play listing it goes (a play with another artist too, whole), other artists keep the rest, and a month left empty goes", async () => {
    const uid = await person("Europe/Paris");
    const T = Date.UTC(2026, 2, 10, 12);
    const solo = [play(T, "s1", ["x"]), play(T + 5 * MIN, "s2", ["x"]), play(Date.UTC(2026, 0, 5), "s3", ["x"])];
    const featuring = play(T + 10 * MIN, "f1", ["y", "x"]);
    const others = [
      play(T + 15 * MIN, "o1", ["y"]),
      play(T + 20 * MIN, "o2", ["z"]),
      play(Date.UTC(2026, 1, 3), "o3", ["z"]),
    ];
    const all = [...solo, featuring, ...others];
    await log(uid, all, "Europe/Paris");
    expect((await month(uid, "2026-03"))!.artists.y!.plays).toBe(2);

    const r = await eraseHistory(db(), uid, { provider: "spotify", artistId: "x" }, NOW);
    expect(r).toEqual({ deleted: 4, months: ["spotify-2026-01", "spotify-2026-03"] });
    expect(await ids(uid)).toEqual(others.map(playId).sort());
    const march = (await month(uid, "2026-03"))!;
    expect(march.artists.x).toBeUndefined();
    expect(march.artists.y!.plays).toBe(1);
    expect(march.tracks.f1).toBeUndefined();
    // January held only the artist: its aggregate is gone; February was not read or written.
    expect(await monthIds(uid)).toEqual(["spotify-2026-02", "spotify-2026-03"]);
    await consistent(uid);
    expect((await conn(uid)).history.plays).toBe(others.length);
  });

  it("when an artist and a range are given, then only that artist's plays on those days go", async () => {
    const uid = await person();
    const all = [
      play(Date.UTC(2026, 2, 9, 23, 59), "x1", ["x"]),
      play(Date.UTC(2026, 2, 10, 10), "x2", ["x"]),
      play(Date.UTC(2026, 2, 10, 11), "y1", ["y"]),
      play(Date.UTC(2026, 2, 11), "x3", ["x"]),
    ];
    await log(uid, all);
    const r = await eraseHistory(
      db(),
      uid,
      { provider: "spotify", artistId: "x", from: "2026-03-10", to: "2026-03-10" },
      NOW,
    );
    expect(r).toEqual({ deleted: 1, months: ["spotify-2026-03"] });
    expect(await ids(uid)).toEqual(without(all, [all[1]!]));
    await consistent(uid);
  });

  it("when the artist is in no month, then nothing is read from the log and nothing changes", async () => {
    const uid = await person();
    await log(uid, [play(Date.UTC(2026, 2, 10), "t", ["y"])]);
    const before = await everything(uid);
    expect(await eraseHistory(db(), uid, { provider: "spotify", artistId: "nobody" }, NOW)).toEqual({
      deleted: 0,
      months: [],
    });
    expect(await everything(uid)).toEqual(before);
  });

  it("when a month holds more of the artist's plays than one commit deletes, then several commits delete them all", async () => {
    const uid = await person();
    const all = Array.from({ length: 450 }, (_, i) =>
      play(Date.UTC(2026, 2, 1) + i * MIN, `t${i % 9}`, i % 10 === 0 ? ["y"] : ["x"]),
    );
    for (let i = 0; i < all.length; i += 200) await log(uid, all.slice(i, i + 200));
    const r = await eraseHistory(db(), uid, { provider: "spotify", artistId: "x" }, NOW);
    expect(r).toEqual({ deleted: 405, months: ["spotify-2026-03"] });
    expect(await ids(uid)).toHaveLength(45);
    expect((await month(uid, "2026-03"))!.plays).toBe(45);
    await consistent(uid);
  });
});

describe("eraseHistory alongside the sync and retention", () => {
  it("when a sync logs plays into the same month while an erase runs, then both land: the new plays stay counted and the aggregates equal a rebuild", async () => {
    const uid = await person();
    const old = Array.from({ length: 120 }, (_, i) => play(Date.UTC(2026, 2, 1) + i * 10 * MIN, `t${i % 5}`, ["x"]));
    await log(uid, old);
    const fresh = Array.from({ length: 30 }, (_, i) => play(Date.UTC(2026, 2, 20) + i * MIN, `n${i % 3}`, ["y"]));
    const [r] = await Promise.all([
      eraseHistory(db(), uid, { provider: "spotify", artistId: "x" }, NOW),
      (async () => {
        for (let i = 0; i < fresh.length; i += 5) await log(uid, fresh.slice(i, i + 5));
      })(),
    ]);
    expect(r.deleted).toBe(120);
    expect(await ids(uid)).toEqual(fresh.map(playId).sort());
    expect((await month(uid, "2026-03"))!.plays).toBe(30);
    await consistent(uid);
  });

  it("when retention trimmed a month's raw plays, then deleting an artist there takes away only its plays still logged and keeps the trimmed ones' counts", async () => {
    const uid = await person();
    const early = [play(Date.UTC(2026, 2, 1), "e1", ["x"]), play(Date.UTC(2026, 2, 2), "e2", ["y"])];
    const late = [play(Date.UTC(2026, 2, 20), "l1", ["x"]), play(Date.UTC(2026, 2, 21), "l2", ["y"])];
    await log(uid, [...early, ...late]);
    await trimPlays(db(), uid, new Date(Date.UTC(2026, 2, 10)), 100);
    expect(await ids(uid)).toEqual(late.map(playId).sort());

    const r = await eraseHistory(db(), uid, { provider: "spotify", artistId: "x" }, NOW);
    expect(r).toEqual({ deleted: 1, months: ["spotify-2026-03"] });
    const march = (await month(uid, "2026-03"))!;
    expect(march.plays).toBe(3); // e1 (trimmed, still counted), e2 and l2
    expect(march.artists.x!.plays).toBe(1); // e1 only: its raw play is gone, so it cannot be deleted
    expect(march.artists.y!.plays).toBe(2);
    expect(march.tracks.l1).toBeUndefined();
    expect(Object.keys(march.days).sort()).toEqual(["01", "02", "21"]);
  });
});

describe("eraseHistory refusals and other people", () => {
  it("when the request is bad, then it is refused with one sentence and nothing changes", async () => {
    const uid = await person();
    await log(uid, [play(Date.UTC(2026, 2, 10), "t", ["x"]), play(Date.UTC(2026, 2, 11), "u", ["y"])]);
    const before = await everything(uid);
    const refused = async (input: unknown) => {
      const e = await eraseHistory(db(), uid, input, NOW).then(
        () => null,
        (err: Error) => err,
      );
      expect(e?.name).toBe("InvalidInputError");
      return e!.message;
    };
    expect(await refused({ provider: "spotify" })).toBe("Say which plays to delete: a date range, an artist, or both.");
    expect(await refused({ provider: "spotify", from: "2026-03-11", to: "2026-03-10" })).toBe(
      "The first day (2026-03-11) is after the last day (2026-03-10).",
    );
    expect(await refused({ provider: "spotify", from: "2026-13-01" })).toBe(
      '"2026-13-01" is not a date written YYYY-MM-DD.',
    );
    expect(await refused({ provider: "spotify", artistId: "x", uid: "another" })).toBe(
      "Say which plays to delete with provider, from, to and artistId only.",
    );
    expect(await everything(uid)).toEqual(before);
  });

  it("when one person deletes, then another person's plays and aggregates, the same ones, stay as they were", async () => {
    const [a, b] = [await person(), await person()];
    const plays = [play(Date.UTC(2026, 2, 10), "t", ["x"]), play(Date.UTC(2026, 2, 11), "u", ["y"])];
    await log(a, plays);
    await log(b, plays);
    const before = await everything(b);
    expect(
      (await eraseHistory(db(), a, { provider: "spotify", from: "2026-03-01", to: "2026-03-31" }, NOW)).deleted,
    ).toBe(2);
    expect(await ids(a)).toEqual([]);
    expect(await monthIds(a)).toEqual([]);
    expect(await everything(b)).toEqual(before);
  });
});

describe("the eraseHistory callable", () => {
  const call = async (data: unknown, idToken?: string) => {
    const res = await fetch(`${FUNCTIONS}/eraseHistory`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(idToken ? { Authorization: `Bearer ${idToken}` } : {}) },
      body: JSON.stringify({ data }),
    });
    return (await res.json()) as { result?: unknown; error?: { status: string; message: string } };
  };

  it("when the signed-in person calls it, then their plays go; a bad request answers invalid-argument with the sentence; without sign-in, unauthenticated", async () => {
    const p = await newSignedInPerson("erase");
    await person("Etc/UTC", p.uid);
    const all = [play(Date.UTC(2026, 2, 10), "t", ["x"]), play(Date.UTC(2026, 2, 11), "u", ["y"])];
    await log(p.uid, all);

    expect(await call({ provider: "spotify", artistId: "x" })).toMatchObject({ error: { status: "UNAUTHENTICATED" } });
    expect(await call({ provider: "spotify", from: "2026-03-12", to: "2026-03-11" }, p.idToken)).toMatchObject({
      error: { status: "INVALID_ARGUMENT", message: "The first day (2026-03-12) is after the last day (2026-03-11)." },
    });
    expect(await ids(p.uid)).toHaveLength(2);
    expect(await call({ provider: "spotify", artistId: "x" }, p.idToken)).toEqual({
      result: { deleted: 1, months: ["spotify-2026-03"] },
    });
    expect(await ids(p.uid)).toEqual([playId(all[1]!)]);
    await consistent(p.uid);
  });
});
