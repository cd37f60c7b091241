/** The import card's pure parts: a job document in words, and the skip words kept equal to the server's. */
import {
  SKIP_REASONS as SERVER_REASONS,
  SKIP_WORDS as SERVER_WORDS,
} from "../../src/providers/spotify/streamingHistory";
import {
  SKIP_REASONS,
  SKIP_WORDS,
  bytesWords,
  countWords,
  fileWords,
  readImport,
  skippedWords,
  statusWords,
} from "../../../web/src/imports/read";

const at = (iso: string) => ({ toDate: () => new Date(iso) }); // a Firestore Timestamp look-alike

const job = (fields: Record<string, unknown>) =>
  readImport("imp1", {
    status: "running",
    fileName: "my_spotify_data.zip",
    size: 3 * 1024 * 1024,
    minPlayMs: 30_000,
    createdAt: at("2026-05-01T12:00:00Z"),
    finishedAt: null,
    progress: { entriesDone: 50, entriesTotal: 200, percent: 25, imported: 40, duplicates: 2 },
    files: [],
    error: null,
    ...fields,
  });

describe("skip words", () => {
  it("when the web app's words are compared with the server's, then they are the same for every reason", () => {
    expect([...SKIP_REASONS]).toEqual([...SERVER_REASONS]);
    expect(SKIP_WORDS).toEqual(SERVER_WORDS);
  });
});

describe("readImport", () => {
  it("when a running job is read, then its status, percent and counts are in words", () => {
    const v = job({});
    expect(statusWords(v)).toBe("Importing… 25 %");
    expect(countWords(v)).toBe("40 plays imported · 2 duplicates already in your history");
    expect(v.createdAt?.toISOString()).toBe("2026-05-01T12:00:00.000Z");
  });

  it("when the files are counted, then each says what was skipped and why, and a file without skips says nothing", () => {
    const v = job({
      status: "done",
      progress: { entriesDone: 11, entriesTotal: 11, percent: 100, imported: 5, duplicates: 1 },
      files: [
        {
          name: "Streaming_History_Audio_2023_0.json",
          format: "extended",
          entries: 11,
          imported: 5,
          duplicates: 1,
          skipped: { episode: 1, audiobook: 1, short: 1, "no-track": 1, invalid: 1 },
        },
        { name: "StreamingHistory_music_0.json", format: "account", entries: 1, imported: 1, duplicates: 0 },
      ],
    });
    expect(statusWords(v)).toBe("Done");
    expect(fileWords(v.files[0]!)).toBe(
      "Streaming_History_Audio_2023_0.json (extended history): 11 entries, 5 plays imported · 1 duplicate already in your history",
    );
    expect(skippedWords(v.files[0]!)).toBe(
      "Skipped: 1 podcast episodes (music only), 1 audiobook chapters (music only), 1 plays shorter than the minimum length, 1 entries without a track, 1 entries with a missing or unreadable time.",
    );
    expect(fileWords(v.files[1]!)).toBe("StreamingHistory_music_0.json (account data): 1 entry, 1 play imported");
    expect(skippedWords(v.files[1]!)).toBeNull();
  });

  it("when the document is odd (unknown status, missing fields, a percent out of range), then it still reads", () => {
    const v = readImport("x", { status: "exploded", progress: { percent: 250 }, files: [null, { skipped: "no" }] });
    expect(v.status).toBe("unknown");
    expect(v.percent).toBe(100);
    expect(v.fileName).toBe("Your file");
    expect(v.files).toHaveLength(1);
    expect(v.files[0]!.skipped).toEqual([]);
    expect(statusWords(readImport("y", undefined))).toBe("Unknown state");
  });

  it("when a job failed or is still checking its file, then the status says so", () => {
    expect(statusWords(job({ status: "failed", error: "x.json is not valid JSON." }))).toBe("Not imported");
    expect(job({ status: "failed", error: "x.json is not valid JSON." }).error).toBe("x.json is not valid JSON.");
    expect(statusWords(job({ progress: { entriesTotal: null } }))).toBe("Checking the file…");
    expect(statusWords(job({ status: "queued" }))).toBe("Waiting to start…");
  });

  it("when sizes are put in words, then bytes, KiB and MiB read naturally", () => {
    expect(bytesWords(1)).toBe("1 byte");
    expect(bytesWords(512)).toBe("512 bytes");
    expect(bytesWords(4096)).toBe("4 KiB");
    expect(bytesWords(3.25 * 1024 * 1024)).toBe("3.3 MiB");
  });
});
