/**
 * Importing Spotify's streaming history against the Firestore emulator, through runImport (the
 * engine the command and the web app's task share): counts per reason on hand-written fixtures
 * of both formats, the play documents and month aggregates (equal to a rebuild from the log),
 * duplicates inside a file, against synced plays and on a second import, names matched to the
 * ids the log knows, personal fields never stored, and every bad input refused with nothing
 * imported.
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Timestamp } from "firebase-admin/firestore";
import { db } from "../../src/admin";
import { newConnection } from "../../src/connections/model";
import { commitPlays } from "../../src/history/playLog";
import { type Play, monthDocId } from "../../src/history/model";
import { rebuildStats } from "../../src/history/rebuild";
import { DEFAULT_MIN_PLAY_MS, ImportJob, createImportJob, runImport } from "../../src/imports/job";
import { derivedId } from "../../src/providers/spotify/streamingHistory";
import { firestorePaths } from "../../src/paths";
import {
  ACCOUNT,
  EXPECTED_ACCOUNT,
  EXPECTED_EXTENDED,
  EXTENDED,
  PERSONAL_VALUES,
  SYNCED_MERRY_CHRISTMAS_AT,
  TRACKS,
  USERDATA,
  copyAs,
  exportZip,
  tempDir,
  writeZip,
  zipBomb,
} from "../fixtures/spotify-export";
import { forgetPeople } from "../support/cleanup";

jest.setTimeout(120_000);

const dir = tempDir("imports-it-");
const NOW = new Date("2026-12-01T12:00:00Z");

async function person(timeZone = "Etc/UTC"): Promise<string> {
  const uid = `imp-${randomUUID()}`;
  await db()
    .doc(firestorePaths.user(uid))
    .set({ uid, settings: { timeZone, syncEnabled: true } });
  return uid;
}

async function importFile(
  uid: string,
  path: string,
  opts: {
    fileName?: string;
    minPlayMs?: number;
    chunkPlays?: number;
    limits?: Parameters<typeof runImport>[1]["limits"];
  } = {},
) {
  const importId = `test-${randomUUID()}`;
  await createImportJob(db(), {
    uid,
    importId,
    source: "command",
    fileName: opts.fileName ?? path.split("/").pop()!,
    size: 1,
    parts: 0,
    minPlayMs: opts.minPlayMs ?? DEFAULT_MIN_PLAY_MS,
    status: "queued",
    now: NOW,
  });
  const run = await runImport(db(), {
    uid,
    importId,
    path,
    deadline: null,
    now: () => NOW,
    chunkPlays: opts.chunkPlays,
    limits: opts.limits,
  });
  const job = ImportJob.parse((await db().doc(firestorePaths.importJob(uid, importId)).get()).data());
  return { importId, run, job };
}

async function plays(uid: string) {
  const snap = await db().collection(firestorePaths.plays(uid)).orderBy("__name__").get();
  return snap.docs.map((d) => ({ id: d.id, ...d.data() }) as { id: string } & Record<string, unknown>);
}

async function months(uid: string) {
  const snap = await db().collection(firestorePaths.playStats(uid)).get();
  return new Map(snap.docs.map((d) => [d.id, d.data()]));
}

/** A Spotify connection with a synced play of the fixture's track (real artist id). */
async function syncedPlay(uid: string, at: number): Promise<void> {
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
      lease: { holder: "run-1", expiresAt: Timestamp.fromMillis(NOW.getTime() + 60_000) },
    });
  const play: Play = {
    provider: "spotify",
    playedAt: new Date(at),
    trackId: TRACKS.merryChristmas,
    trackName: "Merry Christmas Mr. Lawrence",
    artists: [{ id: "0Sakamoto0RealArtistId", name: "坂本龍一" }],
    albumId: "0CodaAlbumId0000000000",
    albumName: "Coda",
    durationMs: 290_000,
    context: null,
  };
  const r = await commitPlays(db(), {
    uid,
    provider: "spotify",
    runId: "run-1",
    plays: [play],
    gapCheck: null,
    now: NOW,
    timeZone: "Etc/UTC",
  });
  expect(r).toMatchObject({ kind: "committed", logged: 1 });
}

afterAll(async () => {
  await forgetPeople(["imp-"]);
});

describe("runImport on the extended streaming history", () => {
  it("imports music only, counts every skip in words' reasons, and the aggregates equal the log's rebuild", async () => {
    const uid = await person();
    const { run, job } = await importFile(uid, EXTENDED);
    expect(run.kind).toBe("done");
    if (run.kind !== "done") return;
    expect(run.result).toMatchObject({
      read: EXPECTED_EXTENDED.entries,
      imported: EXPECTED_EXTENDED.imported,
      duplicates: EXPECTED_EXTENDED.duplicates,
      skipped: EXPECTED_EXTENDED.skipped,
    });
    expect(run.result.files).toEqual([
      {
        name: "Streaming_History_Audio_2023_0.json",
        format: "extended",
        entries: EXPECTED_EXTENDED.entries,
        imported: EXPECTED_EXTENDED.imported,
        duplicates: EXPECTED_EXTENDED.duplicates,
        skipped: EXPECTED_EXTENDED.skipped,
      },
    ]);
    expect(job).toMatchObject({
      status: "done",
      error: null,
      progress: { entriesDone: 11, entriesTotal: 11, percent: 100, imported: 5, duplicates: 1 },
    });
    expect(job.finishedAt).not.toBeNull();

    const logged = await plays(uid);
    expect(logged.map((p) => p.id)).toEqual(
      [
        `spotify-${Date.parse("2023-03-01T10:03:00Z")}-${TRACKS.hoppipolla}`,
        `spotify-${Date.parse("2023-03-01T10:10:00Z")}-${TRACKS.merryChristmas}`,
        `spotify-${Date.parse("2023-03-01T10:15:00Z")}-${TRACKS.waves}`,
        `spotify-${Date.parse("2023-03-01T10:30:00Z")}-${TRACKS.hoppipolla}`,
        `spotify-${Date.parse("2023-03-02T08:00:30Z")}-${TRACKS.merryChristmas}`,
      ].sort(),
    );
    const byTrack = new Map(logged.map((p) => [p.trackId, p]));
    expect(byTrack.get(TRACKS.waves)).toMatchObject({
      trackName: "🌊 Waves 🎶",
      artists: [{ id: derivedId("artist\u0000artist ✨"), name: "Artist ✨" }],
      source: "import",
      durationMs: 180_000,
    });
    expect(byTrack.get(TRACKS.merryChristmas)).toMatchObject({ artists: [{ name: "坂本龍一" }], albumName: "Coda" });
    expect(byTrack.get(TRACKS.hoppipolla)).toMatchObject({ trackName: "Hoppípolla", artists: [{ name: "Sigur Rós" }] });

    // Personal fields are never stored: not in the plays, not in the aggregates, not in the job.
    const stored = JSON.stringify([logged, [...(await months(uid)).values()], job]);
    for (const v of PERSONAL_VALUES) expect(stored).not.toContain(v);
    for (const k of ["ip_addr", "conn_country", "platform", "username", "msPlayed"]) expect(stored).not.toContain(k);

    const m = (await months(uid)).get(monthDocId("spotify", "2023-03")) as {
      plays: number;
      tracks: Record<string, unknown>;
    };
    expect(m.plays).toBe(5);
    expect(Object.keys(m.tracks).sort()).toEqual(Object.values(TRACKS).sort());
    const check = await rebuildStats(db(), uid, { check: true });
    expect(check).toMatchObject({ plays: 5, changed: [], invalid: 0 });
  });

  it("when imported twice, then the second import adds nothing and counts every play as a duplicate", async () => {
    const uid = await person();
    await importFile(uid, EXTENDED);
    const before = { plays: await plays(uid), months: await months(uid) };
    const { run } = await importFile(uid, EXTENDED);
    expect(run).toMatchObject({
      kind: "done",
      result: { imported: 0, duplicates: 6, skipped: EXPECTED_EXTENDED.skipped },
    });
    expect(await plays(uid)).toEqual(before.plays);
    const after = await months(uid);
    for (const [id, m] of before.months)
      expect({ ...after.get(id), updatedAt: null }).toEqual({ ...m, updatedAt: null });
  });

  it("when a synced play of the same track is 30 s apart, then the import adds nothing for it and the sync's ids are left alone", async () => {
    const uid = await person();
    await syncedPlay(uid, SYNCED_MERRY_CHRISTMAS_AT);
    const conn = await db().doc(firestorePaths.connection(uid, "spotify")).get();
    const { run } = await importFile(uid, EXTENDED);
    expect(run).toMatchObject({ kind: "done", result: { imported: 4, duplicates: 2 } });
    const logged = await plays(uid);
    expect(logged).toHaveLength(5);
    expect(logged.filter((p) => p.trackId === TRACKS.merryChristmas).map((p) => p.source)).toEqual(["import", "sync"]);
    // The synced artist id is the one the imported plays of that artist get.
    const imported = logged.find((p) => p.trackId === TRACKS.merryChristmas && p.source === "import")!;
    expect(imported.artists).toEqual([{ id: "0Sakamoto0RealArtistId", name: "坂本龍一" }]);
    expect((await db().doc(firestorePaths.connection(uid, "spotify")).get()).get("history")).toEqual(
      conn.get("history"),
    );
    expect(await rebuildStats(db(), uid, { check: true })).toMatchObject({ plays: 5, changed: [] });
  });

  it("when the minimum length is 10 s, then the 12 s play is imported", async () => {
    const uid = await person();
    const { run } = await importFile(uid, EXTENDED, { minPlayMs: 10_000 });
    expect(run).toMatchObject({ kind: "done", result: { imported: 6, skipped: { short: 0 } } });
  });

  it("counts the months in the person's time zone", async () => {
    const uid = await person("Pacific/Auckland");
    await importFile(uid, EXTENDED);
    expect([...(await months(uid)).keys()].sort()).toEqual(["spotify-2023-03"]);
    expect(await rebuildStats(db(), uid, { check: true })).toMatchObject({ changed: [], timeZone: "Pacific/Auckland" });
  });
});

describe("runImport on the account data", () => {
  it("matches names to the ids the log knows, and derives stable ids for names it does not know", async () => {
    const uid = await person();
    await syncedPlay(uid, SYNCED_MERRY_CHRISTMAS_AT);
    await importFile(uid, EXTENDED);
    const { run } = await importFile(uid, ACCOUNT);
    expect(run).toMatchObject({
      kind: "done",
      result: {
        read: EXPECTED_ACCOUNT.entries,
        imported: EXPECTED_ACCOUNT.imported,
        duplicates: EXPECTED_ACCOUNT.duplicates,
        skipped: EXPECTED_ACCOUNT.skipped,
      },
    });
    const april = (await plays(uid)).filter((p) => (p.playedAt as Timestamp).toMillis() >= Date.parse("2023-04-01"));
    const by = new Map(april.map((p) => [p.trackName as string, p]));
    expect(by.get("Hoppípolla")!.trackId).toBe(TRACKS.hoppipolla);
    expect(by.get("Merry Christmas Mr. Lawrence")).toMatchObject({
      trackId: TRACKS.merryChristmas,
      artists: [{ id: "0Sakamoto0RealArtistId", name: "坂本龍一" }],
    });
    expect(by.get("Jóga")!.trackId).toBe(derivedId("track\u0000björk\u0000jóga"));
    expect(by.get("Smile 😀")!.artists).toEqual([
      { id: derivedId("artist\u0000😀 emoji band"), name: "😀 Emoji Band" },
    ]);
    expect(await rebuildStats(db(), uid, { check: true })).toMatchObject({ changed: [] });
  });

  it("imports the whole export zip: both histories, the podcast history and other files ignored, names matched across files", async () => {
    const uid = await person();
    const zip = await exportZip(dir);
    const { run } = await importFile(uid, zip);
    expect(run.kind).toBe("done");
    if (run.kind !== "done") return;
    expect(run.result.files.map((f) => [f.name, f.format, f.entries, f.imported])).toEqual([
      ["Spotify Account Data/StreamingHistory_music_0.json", "account", 8, 4],
      ["Spotify Extended Streaming History/Streaming_History_Audio_2023_0.json", "extended", 11, 5],
    ]);
    expect(run.result).toMatchObject({ read: 19, imported: 9, duplicates: 2 });
    const hop = (await plays(uid)).filter((p) => p.trackName === "Hoppípolla");
    expect(new Set(hop.map((p) => p.trackId))).toEqual(new Set([TRACKS.hoppipolla]));
    expect(hop).toHaveLength(3);
  });
});

describe("runImport refuses bad input with one sentence and imports nothing", () => {
  const small = { maxFileBytes: 4096, maxUnpackedBytes: 1e9, maxRatio: 100 };
  const cases: [string, () => Promise<string>, RegExp, typeof small | undefined][] = [
    [
      "not JSON",
      async () => copyAs(dir, "not-json.txt", "Streaming_History_Audio_2023_1.json"),
      /is not a streaming history: it is not a JSON array\./,
      undefined,
    ],
    [
      "JSON of another shape",
      async () => copyAs(dir, "other-shape.json", "Playlist1.json"),
      /JSON of another shape/,
      undefined,
    ],
    [
      "a zip with only other files",
      () =>
        writeZip(join(dir, "others.zip"), {
          "MyData/Userdata.json": USERDATA,
          "MyData/Read Me.pdf": Buffer.from("%PDF"),
        }),
      /holds no Spotify streaming history/,
      undefined,
    ],
    ["a zip bomb", () => zipBomb(dir), /looks like a zip bomb/, undefined],
    ["a file over the size limit", async () => EXTENDED, /over the 0\.0 MiB limit|over the .* limit/, small],
    [
      "a truncated file inside a zip after good ones",
      async () => {
        const bad = join(dir, "truncated.json");
        writeFileSync(bad, '[{"ts": "2023-03-01T10:00:00Z", "ms_played": 1000');
        return writeZip(join(dir, "truncated.zip"), {
          "Spotify Extended Streaming History/Streaming_History_Audio_2023_0.json": EXTENDED,
          "Spotify Extended Streaming History/Streaming_History_Audio_2023_1.json": bad,
        });
      },
      /Streaming_History_Audio_2023_1\.json is not valid JSON/,
      undefined,
    ],
  ];
  it.each(cases)("%s", async (_what, make, sentence, limits) => {
    const uid = await person();
    const path = await make();
    const { run, job } = await importFile(uid, path, { limits });
    expect(run.kind).toBe("failed");
    if (run.kind !== "failed") return;
    expect(run.error).toMatch(sentence);
    expect(run.error).toMatch(/^[^\n]+\.$/);
    expect(job).toMatchObject({ status: "failed", error: run.error, progress: { imported: 0 } });
    expect(await plays(uid)).toEqual([]);
    expect((await months(uid)).size).toBe(0);
  });
});

describe("runImport in chunks", () => {
  it("stops at the deadline with the checkpoint saved, and a second run ends where a clean run does", async () => {
    const clean = await person();
    const resumed = await person();
    const zip = await exportZip(dir);
    const a = await importFile(clean, zip, { chunkPlays: 2 });
    expect(a.run.kind).toBe("done");

    const importId = `test-${randomUUID()}`;
    await createImportJob(db(), {
      uid: resumed,
      importId,
      source: "web",
      fileName: "my_spotify_data.zip",
      size: 1,
      parts: 1,
      minPlayMs: DEFAULT_MIN_PLAY_MS,
      status: "queued",
      now: NOW,
    });
    const args = { uid: resumed, importId, path: zip, now: () => NOW, chunkPlays: 2 };
    let runs = 0;
    let r: Awaited<ReturnType<typeof runImport>>;
    do {
      // A deadline already passed: one chunk per run.
      r = await runImport(db(), { ...args, deadline: new Date(0) });
      runs++;
      const job = ImportJob.parse((await db().doc(firestorePaths.importJob(resumed, importId)).get()).data());
      if (r.kind === "paused") expect(job.status).toBe("running");
    } while (r.kind === "paused" && runs < 50);
    expect(runs).toBeGreaterThan(5);
    expect(r).toEqual(a.run);
    expect((await plays(resumed)).map((p) => p.id)).toEqual((await plays(clean)).map((p) => p.id));
    expect(await runImport(db(), { ...args, deadline: null })).toEqual({ kind: "missing" });
  });
});
