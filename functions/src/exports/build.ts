/**
 * Writes a person's export — a zip of JSON files and their mirrored media, with a README — to any
 * Writable (a Storage upload, a local file). Streaming: entries are added one at a time, each fed
 * by a generator that reads Firestore page by page (or a Storage read stream), so memory holds one
 * page (or one snapshot) at a time, never the export. The layout is described in readme.ts.
 *
 * Read, never exported: `oauth_tokens` (sealed tokens), `provider_apps` (sealed secrets), the
 * connection's lease and own-app client id (connections.json is a whitelist), `oauth_states`,
 * the import checkpoints, and the `exports/` and `imports/` Storage folders.
 */
import { Readable, Transform, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type DocumentData,
  FieldPath,
  type Firestore,
  type QueryDocumentSnapshot,
  type QuerySnapshot,
} from "firebase-admin/firestore";
import { ZipFile } from "yazl";
import type { bucket as adminBucket } from "../admin";
import { PROVIDERS, type Provider, SNAPSHOT_PREFIX, firestorePaths, storagePaths } from "../paths";
import { readSnapshot } from "../sync/snapshots";
import { EXPORT_STEPS, type ExportSummary } from "./job";
import { connectionJson, importJson, profileJson, toJson } from "./json";
import { exportReadme } from "./readme";

export type Bucket = ReturnType<typeof adminBucket>;

export interface ExportSources {
  db: Firestore;
  bucket: Bucket;
}

export interface ExportProgress {
  step: string;
  percent: number;
}

export interface ExportResult extends ExportSummary {
  /** Bytes of the zip written. */
  bytes: number;
}

export const EXPORT_LIMITS = {
  /** Plays read per Firestore page. */
  playsPage: 1000,
  /** Other documents (runs, months, imports, snapshot heads) read per page. */
  docsPage: 200,
  /** Storage objects listed per page. */
  mediaPage: 500,
} as const;

/** How much of the work each step is, for the percent (plays weigh by their count). */
const WEIGHTS = { profile: 2, snapshots: 10, plays: 50, aggregates: 8, runs: 5, media: 20, finishing: 5 } as const;
type Step = keyof typeof WEIGHTS;
const ORDER: Step[] = ["profile", "snapshots", "plays", "aggregates", "runs", "media", "finishing"];
const TOTAL = ORDER.reduce((n, s) => n + WEIGHTS[s], 0);

const utf8 = (s: string) => Buffer.from(s, "utf8");
const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** Counts the bytes flowing to the destination. */
class Counter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void) {
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

/**
 * Every document of a collection, page by page, in document-id order unless `orderBy` says
 * otherwise. The next page is read while the caller works on this one (at most two in memory).
 */
async function* pages(
  db: Firestore,
  collection: string,
  size: number,
  orderBy?: string,
): AsyncGenerator<QueryDocumentSnapshot<DocumentData>[]> {
  const read = (after: QueryDocumentSnapshot | undefined): Promise<QuerySnapshot<DocumentData>> => {
    const q = db.collection(collection).orderBy(orderBy ?? FieldPath.documentId());
    return (after ? q.startAfter(after) : q).limit(size).get();
  };
  let next: Promise<QuerySnapshot<DocumentData>> | null = read(undefined);
  while (next) {
    const page: QuerySnapshot<DocumentData> = await next;
    if (page.empty) return;
    next = page.size < size ? null : read(page.docs[page.docs.length - 1]);
    // A read started ahead and never awaited (the caller stopped) must not be an unhandled rejection.
    next?.catch(() => undefined);
    yield page.docs;
  }
}

/**
 * Writes the export of `uid` to `out` and resolves once the last byte is written (`out` is ended).
 * `onProgress` is awaited at each step and during long ones (the caller throttles writes).
 */
export async function writeExport(
  src: ExportSources,
  uid: string,
  out: Writable,
  opts: { now: Date; onProgress?: (p: ExportProgress) => Promise<void> | void } = { now: new Date() },
): Promise<ExportResult> {
  const { db, bucket } = src;
  const mtime = opts.now;
  const summary: ExportSummary = { files: 0, plays: 0, snapshots: 0, media: 0 };
  const zip = new ZipFile();
  const zipOut = zip.outputStream as unknown as Readable;
  const counter = new Counter();
  const written = pipeline(zipOut, counter, out);
  let broken: unknown;
  written.catch((e: unknown) => {
    broken ??= e;
  });
  zip.on("error", (e: unknown) => {
    broken ??= e;
    zipOut.destroy(e as Error);
  });

  let done = 0;
  const progress = async (step: Step, within = 0) => {
    const before = ORDER.slice(0, ORDER.indexOf(step)).reduce((n, s) => n + WEIGHTS[s], 0);
    const percent = Math.min(99, Math.floor(((before + WEIGHTS[step] * Math.min(1, within)) / TOTAL) * 100));
    const words = step === "plays" && done > 0 ? `${EXPORT_STEPS.plays} (${done} plays so far)` : EXPORT_STEPS[step];
    await opts.onProgress?.({ step: words, percent });
  };

  /** Adds one entry and waits until its bytes have gone into the zip. */
  const entry = (path: string, source: Readable, compress = true): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (broken) return reject(broken as Error);
      source.once("end", resolve);
      source.once("error", (e) => {
        broken ??= e;
        zipOut.destroy(e);
        reject(e);
      });
      written.catch(reject);
      zip.addReadStreamLazy(path, { mtime, compress }, (cb) => cb(null, source));
      summary.files += 1;
    });
  const text = (path: string, gen: () => AsyncGenerator<string>) =>
    entry(
      path,
      Readable.from(
        (async function* () {
          for await (const s of gen()) yield utf8(s);
        })(),
        { objectMode: false },
      ),
    );
  /** A JSON array written one element at a time; the file is left out when there are none. */
  const array = async (path: string, items: () => AsyncGenerator<unknown>) => {
    const it = items();
    const first = await it.next();
    if (first.done) return;
    await text(path, async function* () {
      yield `[\n${JSON.stringify(first.value, null, 2)}`;
      for await (const v of it) yield `,\n${JSON.stringify(v, null, 2)}`;
      yield "\n]\n";
    });
  };

  try {
    // README, profile, connections.
    await progress("profile");
    await text("README.md", async function* () {
      yield exportReadme({ uid, createdAt: opts.now });
    });
    const profile = await db.doc(firestorePaths.user(uid)).get();
    const p = profileJson(profile.data());
    if (p) {
      await text("profile.json", async function* () {
        yield json(p);
      });
    }
    await array("connections.json", async function* () {
      for await (const page of pages(db, firestorePaths.connections(uid), EXPORT_LIMITS.docsPage)) {
        for (const d of page) yield connectionJson(d.id, d.data());
      }
    });

    // Snapshots, reassembled from their parts (one at a time in memory).
    await progress("snapshots");
    const index: Record<string, unknown>[] = [];
    for (const provider of PROVIDERS) {
      for await (const page of snapshotHeads(db, uid, provider)) {
        for (const head of page) {
          const name = head.id.slice(SNAPSHOT_PREFIX.length);
          const value = await readSnapshot(db, uid, provider, name);
          if (value === null) continue;
          const file = `snapshots/${provider}/${name}.json`;
          await text(file, async function* () {
            yield json(value);
          });
          summary.snapshots += 1;
          index.push({
            provider,
            name,
            file,
            updatedAt: toJson(head.get("updatedAt")),
            bytes: head.get("bytes") ?? null,
            hash: head.get("hash") ?? null,
          });
        }
      }
    }
    if (index.length > 0) {
      await text("snapshots/index.json", async function* () {
        yield json(index);
      });
    }

    // The play log, oldest first.
    await progress("plays");
    const total = (await db.collection(firestorePaths.plays(uid)).count().get()).data().count;
    if (total > 0) {
      await text("plays.jsonl", async function* () {
        for await (const page of pages(db, firestorePaths.plays(uid), EXPORT_LIMITS.playsPage, "playedAt")) {
          let chunk = "";
          for (const d of page) chunk += `${JSON.stringify({ id: d.id, ...(toJson(d.data()) as object) })}\n`;
          done += page.length;
          summary.plays = done;
          yield chunk;
          await progress("plays", done / total);
        }
      });
    }

    // Month aggregates and daily points, one file per month.
    await progress("aggregates");
    for (const [collection, folder] of [
      [firestorePaths.playStats(uid), "play_stats"],
      [firestorePaths.history(uid), "history"],
    ] as const) {
      for await (const page of pages(db, collection, EXPORT_LIMITS.docsPage)) {
        for (const d of page) {
          await text(`${folder}/${d.id}.json`, async function* () {
            yield json(toJson(d.data()));
          });
        }
      }
    }

    // Sync history and imports.
    await progress("runs");
    await array("sync_runs.json", async function* () {
      for await (const page of pages(db, firestorePaths.syncRuns(uid), EXPORT_LIMITS.docsPage)) {
        for (const d of page) yield { id: d.id, ...(toJson(d.data()) as object) };
      }
    });
    await array("imports.json", async function* () {
      for await (const page of pages(db, firestorePaths.imports(uid), EXPORT_LIMITS.docsPage)) {
        for (const d of page) yield importJson(d.id, d.data());
      }
    });

    // Mirrored media, copied from Storage as they are (already compressed: stored, not deflated).
    await progress("media");
    const userPrefix = storagePaths.userPrefix(uid);
    for (const provider of PROVIDERS) {
      let pageToken: string | undefined;
      do {
        const [files, next] = await bucket.getFiles({
          prefix: storagePaths.providerPrefix(uid, provider),
          autoPaginate: false,
          maxResults: EXPORT_LIMITS.mediaPage,
          ...(pageToken ? { pageToken } : {}),
        });
        for (const f of files) {
          if (f.name.endsWith("/")) continue;
          await entry(`media/${f.name.slice(userPrefix.length)}`, f.createReadStream(), false);
          summary.media += 1;
        }
        pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
      } while (pageToken);
    }

    await progress("finishing");
    zip.end();
    await written;
  } catch (e) {
    zipOut.destroy(e as Error);
    out.destroy(e as Error);
    await written.catch(() => undefined);
    throw e;
  }
  return { ...summary, bytes: counter.bytes };
}

/** The snapshot documents of a provider (`last-response_*`), page by page, without their data. */
async function* snapshotHeads(db: Firestore, uid: string, provider: Provider) {
  const col = db.collection(firestorePaths.snapshots(uid, provider));
  let last: string | undefined;
  for (;;) {
    let q = col
      .where(FieldPath.documentId(), ">=", `${SNAPSHOT_PREFIX}`)
      .where(FieldPath.documentId(), "<", `${SNAPSHOT_PREFIX}\uf8ff`)
      .orderBy(FieldPath.documentId())
      .select("updatedAt", "bytes", "hash");
    if (last) q = q.startAfter(last);
    const page = await q.limit(EXPORT_LIMITS.docsPage).get();
    if (page.empty) return;
    yield page.docs;
    if (page.size < EXPORT_LIMITS.docsPage) return;
    last = page.docs[page.docs.length - 1]!.id;
  }
}
