import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImportRefusedError, historyFileFormat, historyFiles } from "../../../src/imports/read";

const dir = mkdtempSync(join(tmpdir(), "import-read-"));
const file = (name: string, body: string) => {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
};
const entries = async (path: string, name: string) => {
  const out: unknown[] = [];
  for (const f of await historyFiles(path, name)) for await (const e of f.entries()) out.push(e);
  return out;
};

describe("historyFileFormat", () => {
  it("knows both formats' file names and nothing else", () => {
    expect(historyFileFormat("Spotify Extended Streaming History/Streaming_History_Audio_2019-2021_0.json")).toBe(
      "extended",
    );
    expect(historyFileFormat("MyData/StreamingHistory_music_0.json")).toBe("account");
    expect(historyFileFormat("MyData/StreamingHistory_podcast_0.json")).toBeNull();
    expect(historyFileFormat("MyData/Userdata.json")).toBeNull();
  });
});

describe("historyFiles on a JSON file", () => {
  it("streams an account-data array entry by entry", async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      endTime: "2024-01-01 10:00",
      artistName: `Artist ${i} ✓`,
      trackName: "Song",
      msPlayed: i,
    }));
    const p = file("StreamingHistory_music_0.json", JSON.stringify(rows));
    const [f] = await historyFiles(p, "StreamingHistory_music_0.json");
    expect(f!.format).toBe("account");
    expect(await entries(p, "StreamingHistory_music_0.json")).toEqual(rows);
  });

  it.each([
    ["not JSON", "hello", /not a JSON array/],
    ["an object", '{"ts": 1}', /not a JSON array/],
    ["truncated", '[{"ts": "2024-01-01T00:00:00Z", "ms_played": 1', /ends early|not valid JSON/],
    ["another shape", '[{"name": "x"}]', /another shape/],
    ["empty", "", /empty/],
    ["an empty list", "[]", /nothing to import/],
  ])("refuses %s with one sentence", async (_what, body, message) => {
    const p = file(`x-${Math.random()}.json`, body);
    await expect(entries(p, "upload.json")).rejects.toThrow(ImportRefusedError);
    await expect(entries(p, "upload.json")).rejects.toThrow(message);
  });

  it("refuses a file over the size limit and a name that is neither zip nor JSON", async () => {
    const p = file("big.json", "[" + "1,".repeat(1000) + "1]");
    await expect(
      historyFiles(p, "big.json", { maxFileBytes: 100, maxUnpackedBytes: 1e9, maxRatio: 100 }),
    ).rejects.toThrow(/over the .* limit/);
    await expect(historyFiles(p, "notes.txt")).rejects.toThrow(/neither a zip/);
  });
});
