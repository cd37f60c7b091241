/**
 * An import job (`users/{uid}/imports/{importId}`, functions/src/imports/job.ts) in words, for
 * the "Import your Spotify history" card. Pure functions over plain data, unit tested
 * (functions/test/unit/web-imports.test.ts) without a browser.
 */
import { isObj, num, str } from "../fields";
import { toDate } from "../status";

export type ImportStatus = "uploading" | "queued" | "running" | "done" | "failed";

export const SKIP_REASONS = ["episode", "audiobook", "short", "no-track", "invalid"] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/**
 * What each skip reason means (the same words as functions/src/providers/spotify/streamingHistory.ts SKIP_WORDS,
 * which the web bundle cannot import: it uses node:crypto; a unit test keeps them equal).
 */
export const SKIP_WORDS: Record<SkipReason, string> = {
  episode: "podcast episodes (music only)",
  audiobook: "audiobook chapters (music only)",
  short: "plays shorter than the minimum length",
  "no-track": "entries without a track",
  invalid: "entries with a missing or unreadable time",
};

export interface ImportFileView {
  name: string;
  format: string;
  entries: number;
  imported: number;
  duplicates: number;
  skipped: { reason: SkipReason; count: number }[];
}

export interface ImportView {
  id: string;
  status: ImportStatus | "unknown";
  fileName: string;
  size: number;
  minPlayMs: number;
  createdAt: Date | null;
  finishedAt: Date | null;
  percent: number;
  imported: number;
  duplicates: number;
  entriesDone: number;
  entriesTotal: number | null;
  files: ImportFileView[];
  error: string | null;
}

const STATUSES: readonly string[] = ["uploading", "queued", "running", "done", "failed"];
const count = (v: unknown) => Math.max(0, Math.round(num(v) ?? 0));

/** Reads a job document defensively: a missing or odd field becomes 0, null or an empty list. */
export function readImport(id: string, data: Record<string, unknown> | undefined): ImportView {
  const d = data ?? {};
  const progress = isObj(d.progress) ? d.progress : {};
  const status = typeof d.status === "string" && STATUSES.includes(d.status) ? (d.status as ImportStatus) : "unknown";
  const files = Array.isArray(d.files) ? d.files.filter(isObj) : [];
  return {
    id,
    status,
    fileName: str(d.fileName) ?? "Your file",
    size: count(d.size),
    minPlayMs: count(d.minPlayMs),
    createdAt: toDate(d.createdAt),
    finishedAt: toDate(d.finishedAt),
    percent: Math.min(100, Math.max(0, Math.floor(num(progress.percent) ?? 0))),
    imported: count(progress.imported),
    duplicates: count(progress.duplicates),
    entriesDone: count(progress.entriesDone),
    entriesTotal: num(progress.entriesTotal),
    files: files.map((f) => {
      const skipped = isObj(f.skipped) ? f.skipped : {};
      return {
        name: str(f.name) ?? "a file",
        format: str(f.format) ?? "",
        entries: count(f.entries),
        imported: count(f.imported),
        duplicates: count(f.duplicates),
        skipped: SKIP_REASONS.map((reason) => ({ reason, count: count(skipped[reason]) })).filter((s) => s.count > 0),
      };
    }),
    error: str(d.error),
  };
}

const n = (x: number) => x.toLocaleString("en-US");
const plural = (x: number, one: string, many = `${one}s`) => `${n(x)} ${x === 1 ? one : many}`;

/** The job's status in words. */
export function statusWords(v: ImportView): string {
  switch (v.status) {
    case "uploading":
      return "Uploading…";
    case "queued":
      return "Waiting to start…";
    case "running":
      return v.entriesTotal === null ? "Checking the file…" : `Importing… ${v.percent} %`;
    case "done":
      return "Done";
    case "failed":
      return "Not imported";
    default:
      return "Unknown state";
  }
}

/** "412 plays imported · 3 duplicates skipped". */
export function countWords(v: { imported: number; duplicates: number }): string {
  const dup = v.duplicates ? ` · ${plural(v.duplicates, "duplicate")} already in your history` : "";
  return `${plural(v.imported, "play")} imported${dup}`;
}

/** One file's skipped entries in words: "Skipped: 2 podcast episodes (music only), 1 …"; null when nothing was skipped. */
export function skippedWords(f: ImportFileView): string | null {
  if (!f.skipped.length) return null;
  return `Skipped: ${f.skipped.map((s) => `${n(s.count)} ${SKIP_WORDS[s.reason]}`).join(", ")}.`;
}

/** "Streaming_History_Audio_2023_0.json (extended history): 11 entries, 5 plays imported". */
export function fileWords(f: ImportFileView): string {
  const format = f.format === "extended" ? "extended history" : f.format === "account" ? "account data" : f.format;
  return `${f.name}${format ? ` (${format})` : ""}: ${plural(f.entries, "entry", "entries")}, ${countWords(f)}`;
}

/** Bytes in words: "3.2 MiB", "740 KiB", "512 bytes". */
export function bytesWords(b: number): string {
  if (b >= 1024 * 1024) return `${(b / 1024 / 1024).toFixed(1)} MiB`;
  if (b >= 1024) return `${Math.round(b / 1024)} KiB`;
  return plural(b, "byte");
}
