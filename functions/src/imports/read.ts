/**
 * Reading an upload: a zip of Spotify's privacy export or one of the JSON files inside it, parsed
 * as a stream (one entry at a time, memory bounded by the largest entry, not the file).
 *
 * Refusals (an `ImportRefusedError` with one sentence, before anything is imported):
 * - a file over `limits.maxFileBytes`, or a zip whose files unpack to more than
 *   `limits.maxUnpackedBytes`, or one packed more tightly than `limits.maxRatio` (a zip bomb);
 * - a zip without a streaming-history file, or a JSON file that is not an array of either format.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { JSONParser } from "@streamparser/json";
import yauzl from "yauzl";
import { InvalidInputError } from "../errors";
import { type ImportFormat, formatOf } from "../providers/spotify/streamingHistory";

export class ImportRefusedError extends InvalidInputError {}

export interface ReadLimits {
  /** The upload (zip or JSON) at most. */
  maxFileBytes: number;
  /** All streaming-history files of a zip together, unpacked. */
  maxUnpackedBytes: number;
  /** Unpacked ÷ packed size above which a zip entry is treated as a bomb. */
  maxRatio: number;
}

export const DEFAULT_LIMITS: ReadLimits = {
  maxFileBytes: 512 * 1024 * 1024,
  maxUnpackedBytes: 2 * 1024 * 1024 * 1024,
  maxRatio: 100,
};

/** Which files of an export are streaming histories, and of which format. */
export function historyFileFormat(name: string): ImportFormat | null {
  const base = name.split("/").pop() ?? "";
  if (/^Streaming_History_Audio_.*\.json$/i.test(base)) return "extended";
  if (/^StreamingHistory_music_\d+\.json$/i.test(base) || /^StreamingHistory\d+\.json$/i.test(base)) return "account";
  return null;
}

/** Files of Spotify's export that are not streaming histories, ignored when inside its zip. */
function isOtherExportFile(name: string): boolean {
  const base = name.split("/").pop() ?? "";
  return (
    name.endsWith("/") ||
    /^StreamingHistory_podcast_\d+\.json$/i.test(base) ||
    /^Streaming_History_Video_.*\.json$/i.test(base) ||
    /\.(json|pdf|html|txt)$/i.test(base)
  );
}

export interface HistoryFile {
  /** The name inside the zip, or the file's own name. */
  name: string;
  format: ImportFormat;
  /** The array's entries, in file order. */
  entries: () => AsyncIterable<unknown>;
}

/** Parses a JSON array stream entry by entry; refuses anything that is not an array of objects. */
export async function* jsonArrayEntries(stream: Readable, name: string): AsyncIterable<unknown> {
  const parser = new JSONParser({ paths: ["$.*"], keepStack: false });
  const out: unknown[] = [];
  let started = false;
  let failure: Error | null = null;
  parser.onValue = ({ value }) => out.push(value);
  parser.onError = (e) => {
    failure ??= new ImportRefusedError(`${name} is not valid JSON (${e.message.slice(0, 80)}).`);
  };
  for await (const chunk of stream) {
    if (!started) {
      // The first character says whether the document is an array at all (after a BOM, spaces).
      const head = (chunk as Buffer)
        .toString("utf8", 0, 64)
        .replace(/^\uFEFF/, "")
        .trimStart();
      if (!head) continue;
      started = true;
      if (head[0] !== "[") {
        stream.destroy();
        throw new ImportRefusedError(`${name} is not a streaming history: it is not a JSON array.`);
      }
    }
    try {
      parser.write(chunk as Buffer);
    } catch (e) {
      failure ??= new ImportRefusedError(`${name} is not valid JSON (${(e as Error).message.slice(0, 80)}).`);
    }
    if (failure) {
      stream.destroy();
      throw failure;
    }
    while (out.length) yield out.shift();
  }
  if (!started) throw new ImportRefusedError(`${name} is empty.`);
  if (!parser.isEnded) {
    try {
      parser.end();
    } catch {
      throw new ImportRefusedError(`${name} is not valid JSON: it ends early.`);
    }
  }
  if (failure) throw failure;
  while (out.length) yield out.shift();
}

/** Checks that the entries are of the expected format (the first entry decides). */
export async function* ofFormat(entries: AsyncIterable<unknown>, name: string, format: ImportFormat) {
  let first = true;
  for await (const e of entries) {
    if (first) {
      first = false;
      const f = formatOf(e);
      if (f !== format)
        throw new ImportRefusedError(
          f
            ? `${name} holds the ${f === "extended" ? "extended" : "account data"} format, not what its name says.`
            : `${name} is JSON of another shape: not a Spotify streaming history.`,
        );
    }
    yield e;
  }
}

/** The streaming-history files of an upload (a zip or one JSON file), checked against the limits. */
export async function historyFiles(path: string, displayName: string, limits = DEFAULT_LIMITS): Promise<HistoryFile[]> {
  const size = (await stat(path)).size;
  if (size > limits.maxFileBytes)
    throw new ImportRefusedError(
      `${displayName} is ${mib(size)}, over the ${mib(limits.maxFileBytes)} limit for one upload.`,
    );
  if (/\.json$/i.test(displayName)) {
    const format = await sniffJson(path, displayName);
    return [
      {
        name: displayName,
        format,
        entries: () => ofFormat(jsonArrayEntries(createReadStream(path), displayName), displayName, format),
      },
    ];
  }
  if (!/\.zip$/i.test(displayName))
    throw new ImportRefusedError(`${displayName} is neither a zip of Spotify's export nor a JSON file from it.`);
  return zipHistoryFiles(path, displayName, limits);
}

/** The format of a lone JSON file, from its first entry. */
async function sniffJson(path: string, name: string): Promise<ImportFormat> {
  for await (const e of jsonArrayEntries(createReadStream(path), name)) {
    const f = formatOf(e);
    if (!f) throw new ImportRefusedError(`${name} is JSON of another shape: not a Spotify streaming history.`);
    return f;
  }
  throw new ImportRefusedError(`${name} is an empty list: there is nothing to import.`);
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (err, zip) =>
      err || !zip ? reject(err ?? new Error("no zip")) : resolve(zip),
    ),
  );
}

async function zipEntries(path: string, name: string): Promise<yauzl.Entry[]> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(path);
  } catch {
    throw new ImportRefusedError(`${name} is not a readable zip file.`);
  }
  try {
    return await new Promise<yauzl.Entry[]>((resolve, reject) => {
      const all: yauzl.Entry[] = [];
      zip.on("entry", (e: yauzl.Entry) => {
        all.push(e);
        zip.readEntry();
      });
      zip.on("end", () => resolve(all));
      zip.on("error", reject);
      zip.readEntry();
    });
  } catch {
    throw new ImportRefusedError(`${name} is a damaged zip file.`);
  } finally {
    zip.close();
  }
}

async function zipHistoryFiles(path: string, name: string, limits: ReadLimits): Promise<HistoryFile[]> {
  const entries = await zipEntries(path, name);
  const files: { entry: yauzl.Entry; format: ImportFormat }[] = [];
  const strangers: string[] = [];
  let unpacked = 0;
  for (const e of entries) {
    const format = historyFileFormat(e.fileName);
    if (!format) {
      if (!isOtherExportFile(e.fileName)) strangers.push(e.fileName);
      continue;
    }
    if (e.uncompressedSize > limits.maxRatio * Math.max(e.compressedSize, 1) && e.uncompressedSize > 1024 * 1024)
      throw new ImportRefusedError(
        `${name} looks like a zip bomb: ${e.fileName} unpacks to ${Math.round(e.uncompressedSize / Math.max(e.compressedSize, 1))} times its packed size.`,
      );
    unpacked += e.uncompressedSize;
    files.push({ entry: e, format });
  }
  if (unpacked > limits.maxUnpackedBytes)
    throw new ImportRefusedError(
      `${name} unpacks to ${mib(unpacked)} of streaming history, over the ${mib(limits.maxUnpackedBytes)} limit.`,
    );
  if (!files.length)
    throw new ImportRefusedError(
      strangers.length
        ? `${name} holds no Spotify streaming history (Streaming_History_Audio_*.json or StreamingHistory_music_*.json), only other files such as ${strangers[0]}.`
        : `${name} holds no Spotify streaming history (Streaming_History_Audio_*.json or StreamingHistory_music_*.json).`,
    );
  files.sort((a, b) => a.entry.fileName.localeCompare(b.entry.fileName));
  return files.map(({ entry, format }) => ({
    name: entry.fileName,
    format,
    entries: () => zipFileEntries(path, entry, format),
  }));
}

async function* zipFileEntries(path: string, entry: yauzl.Entry, format: ImportFormat): AsyncIterable<unknown> {
  const zip = await openZip(path);
  try {
    const stream = await new Promise<Readable>((resolve, reject) =>
      zip.openReadStream(entry, (err, s) => (err || !s ? reject(err ?? new Error("no stream")) : resolve(s))),
    );
    yield* ofFormat(jsonArrayEntries(stream, entry.fileName), entry.fileName, format);
  } finally {
    zip.close();
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MiB`;
}
