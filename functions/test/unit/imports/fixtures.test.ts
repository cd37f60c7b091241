/**
 * The hand-written export fixtures through the pure parts: each entry's play or skip reason,
 * the zips' file selection and refusals, and the job document's result.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Timestamp } from "firebase-admin/firestore";
import {
  NameIds,
  SKIP_REASONS,
  accountPlay,
  dedupe,
  extendedPlay,
} from "../../../src/providers/spotify/streamingHistory";
import { ImportJob, noSkips, resultOf } from "../../../src/imports/job";
import { ImportRefusedError, historyFiles } from "../../../src/imports/read";
import {
  ACCOUNT,
  EXPECTED_ACCOUNT,
  EXPECTED_EXTENDED,
  EXTENDED,
  PERSONAL_VALUES,
  USERDATA,
  exportZip,
  tempDir,
  writeZip,
  zipBomb,
} from "../../fixtures/spotify-export";

const dir = tempDir("imports-unit-");

function tally(file: string, map: typeof extendedPlay) {
  const rules = { minPlayMs: 30_000, ids: new NameIds() };
  const entries = JSON.parse(readFileSync(file, "utf8")) as unknown[];
  const skipped = noSkips();
  const plays = [];
  for (const e of entries) {
    const r = map(e, rules);
    if ("skip" in r) skipped[r.skip]++;
    else plays.push(r.play);
  }
  const d = dedupe(plays, new Map());
  return { entries: entries.length, imported: d.keep.length, duplicates: d.duplicates, skipped, plays: d.keep };
}

describe("the fixtures, entry by entry", () => {
  it("extended: every skip rule once, one duplicate inside the file, personal fields dropped", () => {
    const t = tally(EXTENDED, extendedPlay);
    expect({ ...t, plays: undefined }).toEqual({ ...EXPECTED_EXTENDED, plays: undefined });
    const text = JSON.stringify(t.plays);
    for (const v of PERSONAL_VALUES) expect(text).not.toContain(v);
    expect(t.plays.map((p) => p.trackName)).toEqual([
      "Hoppípolla",
      "Merry Christmas Mr. Lawrence",
      "🌊 Waves 🎶",
      "Hoppípolla",
      "Merry Christmas Mr. Lawrence",
    ]);
  });

  it("account data: the same minute twice is one play; unknown names get derived ids", () => {
    const t = tally(ACCOUNT, accountPlay);
    expect({ ...t, plays: undefined }).toEqual({ ...EXPECTED_ACCOUNT, plays: undefined });
    for (const p of t.plays) expect(p.trackId).toMatch(/^n[A-Za-z0-9_-]{22}$/);
  });
});

describe("historyFiles on zips of the export", () => {
  it("keeps the two streaming histories and ignores the podcast history and other files", async () => {
    const files = await historyFiles(await exportZip(dir), "my_spotify_data.zip");
    expect(files.map((f) => [f.name, f.format])).toEqual([
      ["Spotify Account Data/StreamingHistory_music_0.json", "account"],
      ["Spotify Extended Streaming History/Streaming_History_Audio_2023_0.json", "extended"],
    ]);
    let n = 0;
    for await (const _ of files[1]!.entries()) n++;
    expect(n).toBe(EXPECTED_EXTENDED.entries);
  });

  it("refuses a zip of other files and a zip bomb, each with one sentence", async () => {
    const others = await writeZip(join(dir, "others.zip"), {
      "MyData/Userdata.json": USERDATA,
      "holiday.png": Buffer.from("png"),
    });
    await expect(historyFiles(others, "others.zip")).rejects.toThrow(
      new ImportRefusedError(
        "others.zip holds no Spotify streaming history (Streaming_History_Audio_*.json or StreamingHistory_music_*.json), only other files such as holiday.png.",
      ),
    );
    const bomb = await zipBomb(dir);
    await expect(historyFiles(bomb, "bomb.zip")).rejects.toThrow(
      /^bomb\.zip looks like a zip bomb: .* unpacks to \d+ times its packed size\.$/,
    );
  });
});

describe("the job document", () => {
  it("validates and sums its files into the result", () => {
    const now = Timestamp.fromMillis(0);
    const file = (name: string, imported: number) => ({
      name,
      format: "extended" as const,
      entries: 10,
      imported,
      duplicates: 1,
      skipped: { ...noSkips(), short: 2 },
    });
    const job = ImportJob.parse({
      status: "done",
      source: "web",
      fileName: "my_spotify_data.zip",
      size: 10,
      parts: 1,
      minPlayMs: 30_000,
      createdAt: now,
      updatedAt: now,
      finishedAt: now,
      progress: { entriesDone: 20, entriesTotal: 20, percent: 100, imported: 12, duplicates: 2 },
      files: [file("a.json", 5), file("b.json", 7)],
      checkpoint: { file: 2, entry: 0 },
      error: null,
    });
    expect(resultOf(job)).toEqual({
      read: 20,
      imported: 12,
      duplicates: 2,
      skipped: Object.fromEntries(SKIP_REASONS.map((r) => [r, r === "short" ? 4 : 0])),
      files: job.files,
    });
    expect(ImportJob.safeParse({ ...job, status: "paused" }).success).toBe(false);
  });
});
