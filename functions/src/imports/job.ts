/**
 * An import of Spotify's streaming history, as a job: `users/{uid}/imports/{importId}` holds its
 * status, progress, per-file counts and a checkpoint; runImport processes the upload from the
 * checkpoint, chunk by chunk, each chunk ONE transaction that writes its plays (source "import"),
 * the month aggregates they change and the job document (counts + the next checkpoint). Each
 * transaction is fenced by the checkpoint it started from, so a run killed anywhere resumes
 * exactly after the last committed chunk, and two runs of the same job never both write a chunk.
 *
 * Before anything is imported, every file of the upload is read once in full (streaming): bad
 * input anywhere is refused (job status "failed", one sentence) with nothing imported, the
 * entries are counted (the percent's denominator), and the names the upload identifies are
 * learned (extended entries name a track with its URI; the log's month aggregates name synced
 * artists and tracks with Spotify's ids), so the account format and the extended format's
 * artists get the ids the log already uses (providers/spotify/streamingHistory.ts NameIds).
 *
 * Duplicates: a play of the same track within SAME_PLAY_MS (60 s) of a logged play, or of an
 * earlier entry of the upload, is the same play. The log is read around the plays' times (±60 s,
 * one range query per window of several chunks, WINDOW_PLAYS), and each chunk dedupes against
 * that plus what the window's earlier chunks wrote, which is what the log holds when the chunk
 * commits: so the result does not depend on where a run started, and a resumed run imports what
 * a clean run does. A play logged meanwhile with the same id (the sync, reading the same minute)
 * fails the chunk's create; the chunk is redone with the log read again.
 *
 * The sync's own dedupe is by play id (the connection's `history.recentPlayIds` and the play
 * documents, never changed here): it does not know the ±60 s rule, so a sync reading a window an
 * import already covered would log the API's `played_at` of those plays next to the export's end
 * times. Imports are of the past (an export is days old when it arrives), so in practice the sync
 * has logged the overlap first, and the import is the side that dedupes.
 *
 * Logs carry counts only: never track or artist names, never an entry.
 */
import { type DocumentReference, type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { parseMonthStats } from "../history/aggregates";
import { playDoc, playId } from "../history/model";
import { applyPlaysInTransaction } from "../history/playLog";
import { timeZoneOf } from "../history/timeZone";
import { logs } from "../logs";
import { firestorePaths } from "../paths";
import {
  type EntryResult,
  type ImportFormat,
  type ImportedPlay,
  NameIds,
  SAME_PLAY_MS,
  SKIP_REASONS,
  type SkipReason,
  accountPlay,
  dedupe,
  extendedPlay,
  STREAMING_HISTORY_PROVIDER,
} from "../providers/spotify/streamingHistory";
import { DEFAULT_LIMITS, type HistoryFile, ImportRefusedError, type ReadLimits, historyFiles } from "./read";

export const DEFAULT_MIN_PLAY_MS = 30_000;

/**
 * Plays per chunk (one transaction): each play is one create; the months it touches (one or two,
 * a few when entries jump) and the job document are the rest, well under Firestore's 500 writes.
 */
export const DEFAULT_CHUNK_PLAYS = 400;
/** Entries per chunk at most, so a file of skipped entries still advances the checkpoint often. */
export const CHUNK_ENTRIES = 5_000;
/** Months of aggregates a chunk may touch before it is cut short (each is one more write). */
const CHUNK_MONTHS = 24;
/** Plays read ahead (several chunks) before the log is read around them, with one query. */
export const WINDOW_PLAYS = 4_000;
const WINDOW_CHUNKS = 20;
/** Month aggregates read at a time when learning the log's names. */
const LOG_MONTHS_PAGE = 12;
/** Plays of a window further apart than this are looked up in the log with separate queries. */
const QUERY_GAP_MS = 7 * 24 * 3600_000;

const count = z.number().int().nonnegative();
const timestamp = z.instanceof(Timestamp);

export const ImportSkipped = z.object({
  episode: count,
  audiobook: count,
  short: count,
  "no-track": count,
  invalid: count,
});
export type ImportSkipped = z.infer<typeof ImportSkipped>;

export const ImportJobFile = z.object({
  name: z.string(),
  format: z.enum(["extended", "account"]),
  entries: count,
  imported: count,
  duplicates: count,
  skipped: ImportSkipped,
});
export type ImportJobFile = z.infer<typeof ImportJobFile>;

export const ImportStatus = z.enum(["uploading", "queued", "running", "done", "failed"]);
export type ImportStatus = z.infer<typeof ImportStatus>;

/** The job document `users/{uid}/imports/{importId}`. */
export const ImportJob = z.object({
  status: ImportStatus,
  source: z.enum(["web", "command"]),
  /** The upload's name (a zip or a JSON file), shown to the person. */
  fileName: z.string(),
  size: count,
  /** Web uploads: how many Storage parts (storagePaths.importPart); 0 for the command. */
  parts: count,
  /** Plays shorter than this are skipped. */
  minPlayMs: count,
  createdAt: timestamp,
  updatedAt: timestamp,
  finishedAt: timestamp.nullable(),
  progress: z.object({
    entriesDone: count,
    entriesTotal: count.nullable(),
    percent: z.number().min(0).max(100),
    imported: count,
    duplicates: count,
  }),
  files: z.array(ImportJobFile),
  /** The next entry to process: entry `entry` of file `file` (in the upload's file order). */
  checkpoint: z.object({ file: count, entry: count }),
  /** One sentence when the upload was refused. */
  error: z.string().nullable(),
});
export type ImportJob = z.infer<typeof ImportJob>;

export interface ImportResult {
  /** Entries read (every entry of every streaming-history file). */
  read: number;
  imported: number;
  duplicates: number;
  skipped: Record<SkipReason, number>;
  files: ImportJobFile[];
}

export type ImportRun =
  { kind: "done"; result: ImportResult } | { kind: "paused" } | { kind: "failed"; error: string } | { kind: "missing" };

export function noSkips(): ImportSkipped {
  return { episode: 0, audiobook: 0, short: 0, "no-track": 0, invalid: 0 };
}

export async function createImportJob(
  db: Firestore,
  a: {
    uid: string;
    importId: string;
    source: "web" | "command";
    fileName: string;
    size: number;
    parts: number;
    minPlayMs: number;
    status: "uploading" | "queued";
    now: Date;
  },
): Promise<void> {
  const now = Timestamp.fromDate(a.now);
  const job: ImportJob = ImportJob.parse({
    status: a.status,
    source: a.source,
    fileName: a.fileName,
    size: a.size,
    parts: a.parts,
    minPlayMs: a.minPlayMs,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
    progress: { entriesDone: 0, entriesTotal: null, percent: 0, imported: 0, duplicates: 0 },
    files: [],
    checkpoint: { file: 0, entry: 0 },
    error: null,
  });
  await db.doc(firestorePaths.importJob(a.uid, a.importId)).create(job);
}

/** The result a finished job reports, from its document. */
export function resultOf(job: Pick<ImportJob, "files">): ImportResult {
  const skipped = noSkips();
  let read = 0;
  let imported = 0;
  let duplicates = 0;
  for (const f of job.files) {
    read += f.entries;
    imported += f.imported;
    duplicates += f.duplicates;
    for (const r of SKIP_REASONS) skipped[r] += f.skipped[r];
  }
  return { read, imported, duplicates, skipped, files: job.files };
}

export interface RunImportArgs {
  uid: string;
  importId: string;
  /** A local file: the command's file, or the task's download of the parts. */
  path: string;
  /** Stop between chunks once this passes (then "paused"); null: run to the end. */
  deadline: Date | null;
  now: () => Date;
  /** Plays per transaction (tests and the bench); default DEFAULT_CHUNK_PLAYS. */
  chunkPlays?: number;
  /** Size limits of the upload (tests); default read.ts DEFAULT_LIMITS. */
  limits?: ReadLimits;
}

/**
 * Processes the job from its checkpoint until done, or until `deadline` (the checkpoint is saved
 * after every chunk, so "paused" loses nothing). A job that is missing, done, failed or still
 * uploading is "missing": nothing to do.
 */
export async function runImport(db: Firestore, a: RunImportArgs): Promise<ImportRun> {
  const jobRef = db.doc(firestorePaths.importJob(a.uid, a.importId));
  const job = parseJob((await jobRef.get()).data());
  if (!job || (job.status !== "queued" && job.status !== "running")) return { kind: "missing" };
  const chunkPlays = Math.max(1, Math.min(a.chunkPlays ?? DEFAULT_CHUNK_PLAYS, 450));

  // 1. Validate every file in full, count entries, learn names → ids.
  const ids = new NameIds();
  let files: HistoryFile[];
  let counted: { name: string; format: ImportFormat; entries: number }[];
  try {
    files = await historyFiles(a.path, job.fileName, a.limits ?? DEFAULT_LIMITS);
    counted = [];
    for (const f of files) {
      let entries = 0;
      for await (const e of f.entries()) {
        entries++;
        if (f.format === "extended") learnExtended(e, ids);
      }
      counted.push({ name: f.name, format: f.format, entries });
    }
    if (counted.every((f) => f.entries === 0))
      throw new ImportRefusedError(`${job.fileName} holds only empty streaming histories: there is nothing to import.`);
    if (job.files.length > 0 && !sameFiles(job.files, counted))
      throw new ImportRefusedError(`${job.fileName} is not the file this import started with.`);
  } catch (e) {
    // Only the upload is read here (no Firestore call): whatever stops the reading is the upload's
    // fault, e.g. a zip whose entries unpack to other sizes than its directory says.
    const error =
      e instanceof ImportRefusedError
        ? e.message
        : `${job.fileName} could not be read: ${(e instanceof Error ? e.message : String(e)).slice(0, 120)}.`;
    await fail(db, jobRef, error, a.now());
    logs.warn("import.refused", { uid: a.uid, importId: a.importId });
    return { kind: "failed", error };
  }
  await learnFromLog(db, a.uid, ids);
  const timeZone = await timeZoneOf(db, a.uid);

  // 2. Start (or resume): the job runs with the files counted.
  const entriesTotal = counted.reduce((n, f) => n + f.entries, 0);
  const started = await db.runTransaction(async (tx) => {
    const cur = parseJob((await tx.get(jobRef)).data());
    if (!cur || (cur.status !== "queued" && cur.status !== "running")) return null;
    const next: ImportJob = {
      ...cur,
      status: "running",
      files:
        cur.files.length > 0
          ? cur.files
          : counted.map((f) => ({ ...f, imported: 0, duplicates: 0, skipped: noSkips() })),
      progress: { ...cur.progress, entriesTotal },
      updatedAt: Timestamp.fromDate(a.now()),
    };
    tx.set(jobRef, next);
    return next;
  });
  if (!started) return { kind: "missing" };
  logs.info("import.started", { uid: a.uid, importId: a.importId, files: files.length, entries: entriesTotal });

  // 3. Chunks from the checkpoint, read ahead in windows of several chunks: one log query per
  // window (the emulator's and Firestore's cost of a query grows with the collection, not with
  // what it returns), then one transaction per chunk.
  const rules = { minPlayMs: started.minPlayMs, ids };
  const at = started.checkpoint;
  const ctx = { ...a, jobRef, timeZone, counted };
  const pending: { chunk: Chunk; end: Position }[] = [];
  let pendingPlays = 0;
  let chunk = newChunk(at);
  const close = (end: Position) => {
    pending.push({ chunk, end });
    pendingPlays += chunk.count;
    chunk = newChunk(end);
  };
  /** Commits the pending chunks; false when this run must stop (deadline, or another run took over). */
  const flush = async (last: boolean): Promise<boolean> => {
    let known = await loggedAround(
      db,
      a.uid,
      pending.flatMap((p) => p.chunk.plays()),
    );
    for (let i = 0; i < pending.length; i++) {
      const r = await commitChunk(db, ctx, pending[i]!.chunk, pending[i]!.end, known);
      if (r === "superseded") return false;
      known = r;
      const more = !last || i + 1 < pending.length;
      if (more && a.deadline && a.now().getTime() >= a.deadline.getTime()) return false;
    }
    pending.length = 0;
    pendingPlays = 0;
    return true;
  };
  for (let fi = at.file; fi < files.length; fi++) {
    const f = files[fi]!;
    const map = f.format === "extended" ? extendedPlay : accountPlay;
    let ei = 0;
    for await (const e of f.entries()) {
      const index = ei++;
      if (fi === at.file && index < at.entry) continue;
      const r: EntryResult = map(e, rules);
      const tally = chunk.tally(fi);
      tally.entries++;
      chunk.entries++;
      if ("skip" in r) tally.skipped[r.skip]++;
      else {
        tally.plays.push(r.play);
        chunk.count++;
        chunk.months.add(monthKey(r.play.playedAt));
      }
      if (chunk.count >= chunkPlays || chunk.entries >= CHUNK_ENTRIES || chunk.months.size >= CHUNK_MONTHS) {
        close({ file: fi, entry: index + 1 });
        if (pendingPlays >= WINDOW_PLAYS || pending.length >= WINDOW_CHUNKS) {
          if (!(await flush(false))) return { kind: "paused" };
        }
      }
    }
    // The end of a file: the checkpoint moves to the next file's first entry.
    close({ file: fi + 1, entry: 0 });
  }
  if (!(await flush(true))) return { kind: "paused" };

  // 4. Done.
  const done = await db.runTransaction(async (tx) => {
    const cur = parseJob((await tx.get(jobRef)).data());
    if (!cur || cur.status !== "running") return cur?.status === "done" ? cur : null;
    if (cur.checkpoint.file !== files.length || cur.checkpoint.entry !== 0) return null;
    const now = Timestamp.fromDate(a.now());
    const next: ImportJob = {
      ...cur,
      status: "done",
      finishedAt: now,
      updatedAt: now,
      progress: { ...cur.progress, entriesDone: entriesTotal, percent: 100 },
    };
    tx.set(jobRef, next);
    return next;
  });
  if (!done) return { kind: "paused" };
  const result = resultOf(done);
  logs.info("import.done", {
    uid: a.uid,
    importId: a.importId,
    read: result.read,
    imported: result.imported,
    duplicates: result.duplicates,
    skipped: result.skipped,
  });
  return { kind: "done", result };
}

function parseJob(data: unknown): ImportJob | null {
  const parsed = ImportJob.safeParse(data);
  return parsed.success ? parsed.data : null;
}

function sameFiles(a: ImportJobFile[], b: { name: string; format: ImportFormat; entries: number }[]): boolean {
  return a.length === b.length && a.every((f, i) => f.name === b[i]!.name && f.entries === b[i]!.entries);
}

async function fail(db: Firestore, jobRef: DocumentReference, error: string, at: Date): Promise<void> {
  const now = Timestamp.fromDate(at);
  await db.runTransaction(async (tx) => {
    const cur = parseJob((await tx.get(jobRef)).data());
    if (!cur || cur.status === "done") return;
    tx.set(jobRef, { ...cur, status: "failed", error, finishedAt: now, updatedAt: now } satisfies ImportJob);
  });
}

/** An extended entry with a track URI teaches (artist, track name) → the track's id. */
function learnExtended(e: unknown, ids: NameIds): void {
  if (typeof e !== "object" || e === null) return;
  const r = e as Record<string, unknown>;
  const uri = r.spotify_track_uri;
  const track = r.master_metadata_track_name;
  const artist = r.master_metadata_album_artist_name;
  if (typeof uri !== "string" || typeof track !== "string" || typeof artist !== "string") return;
  const m = /^spotify:track:([A-Za-z0-9]{1,64})$/.exec(uri);
  if (m) ids.learnTrack(artist, track, m[1]!);
}

/** Whether an id is one NameIds derived (`n` + 22), not one of Spotify's (22 base-62 characters). */
function isDerived(id: string): boolean {
  return id.length === 23 && id.startsWith("n");
}

/**
 * The names the log knows, from its Spotify month aggregates: artist names → ids and (artists,
 * track name) → track ids. Spotify's ids are learned before derived ones, so a name the sync has
 * seen with its real id keeps it. The order is the same in every run of the same job (the
 * aggregates only gain the derived ids this import would derive anyway), so a resumed run maps
 * names exactly as a clean one.
 */
async function learnFromLog(db: Firestore, uid: string, ids: NameIds): Promise<void> {
  // Names per id (each id once), read a page of months at a time: a month document can be large.
  const artistNames = new Map<string, Set<string>>();
  const trackNames = new Map<string, Set<string>>();
  const add = (to: Map<string, Set<string>>, id: string, name: string) => {
    const names = to.get(id);
    if (names) names.add(name);
    else to.set(id, new Set([name]));
  };
  const base = db.collection(firestorePaths.playStats(uid)).orderBy("__name__").limit(LOG_MONTHS_PAGE);
  for (let page = await base.get(); !page.empty;) {
    for (const s of page.docs) {
      if (!s.id.startsWith(`${STREAMING_HISTORY_PROVIDER}-`)) continue;
      const m = parseMonthStats(s.data());
      if (!m) continue;
      for (const [id, a] of Object.entries(m.artists)) add(artistNames, id, a.name);
      for (const [id, t] of Object.entries(m.tracks)) {
        add(trackNames, id, `${t.artists}\u0000${t.name}`);
        // The account format names the track's main artist only: the first of the joined names.
        const first = t.artists.split(", ")[0];
        if (first && first !== t.artists) add(trackNames, id, `${first}\u0000${t.name}`);
      }
    }
    if (page.size < LOG_MONTHS_PAGE) break;
    page = await base.startAfter(page.docs[page.docs.length - 1]!).get();
  }
  const artists = [...artistNames].flatMap(([id, names]) => [...names].map((n) => [n, id] as [string, string]));
  const tracks = [...trackNames].flatMap(([id, names]) =>
    [...names].map((n) => {
      const [artist, track] = n.split("\u0000") as [string, string];
      return [artist, track, id] as [string, string, string];
    }),
  );
  const real = (id: string) => (isDerived(id) ? 1 : 0);
  artists.sort((x, y) => real(x[1]) - real(y[1]) || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
  tracks.sort((x, y) => real(x[2]) - real(y[2]) || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0));
  for (const [name, id] of artists) ids.learnArtist(name, id);
  for (const [artist, track, id] of tracks) ids.learnTrack(artist, track, id);
}

interface FileTally {
  entries: number;
  plays: ImportedPlay[];
  skipped: ImportSkipped;
}

interface Chunk {
  start: Position;
  entries: number;
  /** How many plays (the count; `plays()` lists them). */
  count: number;
  months: Set<string>;
  files: Map<number, FileTally>;
  tally(file: number): FileTally;
  /** Every play of the chunk, in file order. */
  plays(): ImportedPlay[];
}

type Position = { file: number; entry: number };

function newChunk(start: { file: number; entry: number }): Chunk {
  const files = new Map<number, FileTally>();
  return {
    start,
    entries: 0,
    count: 0,
    months: new Set(),
    files,
    tally(file) {
      let t = files.get(file);
      if (!t) files.set(file, (t = { entries: 0, plays: [], skipped: noSkips() }));
      return t;
    },
    plays: () => [...files.entries()].sort(([x], [y]) => x - y).flatMap(([, t]) => t.plays),
  };
}

/** UTC month, a bound on how many month documents (in any zone: at most twice as many) a chunk touches. */
function monthKey(d: Date): string {
  return d.toISOString().slice(0, 7);
}

/**
 * One chunk, one transaction: fenced by the job's checkpoint, dedupes against `known` (the log
 * around the chunk's plays, read before), writes the new plays, their months and the job.
 * Returns `known` with the chunk's new plays added (for the next chunk of the window), or
 * "superseded" when the job is no longer at this chunk's start (another run wrote it, or it was
 * stopped).
 */
async function commitChunk(
  db: Firestore,
  a: RunImportArgs & { jobRef: DocumentReference; timeZone: string; counted: { entries: number }[] },
  chunk: Chunk,
  end: Position,
  known: Map<string, number[]>,
): Promise<Map<string, number[]> | "superseded"> {
  const attempt = (base: Map<string, number[]>) =>
    db.runTransaction(async (tx) => {
      const cur = parseJob((await tx.get(a.jobRef)).data());
      if (
        !cur ||
        cur.status !== "running" ||
        cur.checkpoint.file !== chunk.start.file ||
        cur.checkpoint.entry !== chunk.start.entry
      )
        return "superseded" as const;
      // A copy per attempt: a transaction may run its function more than once.
      const seen = new Map([...base].map(([k, v]) => [k, [...v]]));
      const files = cur.files.map((f) => ({ ...f, skipped: { ...f.skipped } }));
      const keep: ImportedPlay[] = [];
      let imported = 0;
      let duplicates = 0;
      for (const [fi, t] of [...chunk.files.entries()].sort(([x], [y]) => x - y)) {
        const d = dedupe(t.plays, seen);
        keep.push(...d.keep);
        const f = files[fi]!;
        f.imported += d.keep.length;
        f.duplicates += d.duplicates;
        for (const r of SKIP_REASONS) f.skipped[r] += t.skipped[r];
        imported += d.keep.length;
        duplicates += d.duplicates;
      }
      const now = a.now();
      await applyPlaysInTransaction(tx, db, a.uid, keep, a.timeZone, now);
      for (const p of keep) tx.create(db.doc(firestorePaths.play(a.uid, playId(p))), playDoc(p, "import", now));
      const entriesDone =
        a.counted.slice(0, end.file).reduce((n, f) => n + f.entries, 0) + (end.file < a.counted.length ? end.entry : 0);
      const total = cur.progress.entriesTotal ?? 0;
      const next: ImportJob = {
        ...cur,
        files,
        checkpoint: end,
        progress: {
          entriesDone,
          entriesTotal: cur.progress.entriesTotal,
          percent: total > 0 ? Math.min(100, Math.floor((entriesDone / total) * 100)) : 0,
          imported: cur.progress.imported + imported,
          duplicates: cur.progress.duplicates + duplicates,
        },
        updatedAt: Timestamp.fromDate(now),
      };
      tx.set(a.jobRef, next);
      return { job: next, seen };
    });
  let r: Awaited<ReturnType<typeof attempt>>;
  try {
    r = await attempt(known);
  } catch (e) {
    // A play created since the window's read with the same id (the same play logged another
    // way, e.g. by the sync) made a create fail and the transaction write nothing: once more,
    // with the log read again around this chunk.
    if (!isAlreadyExists(e)) throw e;
    r = await attempt(await loggedAround(db, a.uid, chunk.plays()));
  }
  if (r === "superseded") return r;
  logs.debug("import.chunk", {
    uid: a.uid,
    importId: a.importId,
    entriesDone: r.job.progress.entriesDone,
    imported: r.job.progress.imported,
    duplicates: r.job.progress.duplicates,
  });
  return r.seen;
}

/**
 * The log's Spotify plays within SAME_PLAY_MS of the chunk's plays (track id → play times, ms),
 * read in the transaction: one query per run of plays less than QUERY_GAP_MS apart.
 */
async function loggedAround(db: Firestore, uid: string, plays: ImportedPlay[]): Promise<Map<string, number[]>> {
  const known = new Map<string, number[]>();
  if (plays.length === 0) return known;
  const times = plays.map((p) => p.playedAt.getTime()).sort((x, y) => x - y);
  const spans: [number, number][] = [];
  for (const t of times) {
    const last = spans[spans.length - 1];
    if (last && t - last[1] <= QUERY_GAP_MS) last[1] = t;
    else spans.push([t, t]);
  }
  const col = db.collection(firestorePaths.plays(uid));
  for (const [from, to] of spans) {
    const q = col
      .where("playedAt", ">", Timestamp.fromMillis(from - SAME_PLAY_MS))
      .where("playedAt", "<", Timestamp.fromMillis(to + SAME_PLAY_MS))
      .select("provider", "trackId", "playedAt");
    const snap = await q.get();
    for (const d of snap.docs) {
      if (d.get("provider") !== STREAMING_HISTORY_PROVIDER) continue;
      const id: unknown = d.get("trackId");
      const at: unknown = d.get("playedAt");
      if (typeof id !== "string" || !(at instanceof Timestamp)) continue;
      const list = known.get(id);
      if (list) list.push(at.toMillis());
      else known.set(id, [at.toMillis()]);
    }
  }
  return known;
}

function isAlreadyExists(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 6 || code === "already-exists" || code === "ALREADY_EXISTS";
}
