/**
 * Bench 3 — what one sync costs: Firestore reads/writes/deletes (counted at the SDK's RPC funnel),
 * Storage operations and bytes (counted at the BlobStore port), provider requests (counted by the
 * fake server), per sync, for a first sync, an unchanged sync and a small change (each fake's
 * bench.smallChange, e.g. one playlist or one post changed), for each provider — against "write
 * everything every time" (what the single-tenant version did: every snapshot set and every image
 * downloaded and stored, no reads to compare), run over the same fake accounts.
 *
 * Syncs run one at a time, as the scheduled task would: the sync's clock and the fake's clock move
 * one sync interval of the provider plus a minute between rounds (61 minutes for an hourly
 * provider, 361 for one with a 6-hour `syncInterval`), so access tokens that live an hour have
 * expired and are refreshed, as they are before every such sync in production.
 */
import { db } from "../../functions/src/admin";
import { type Config, providerSettings } from "../../functions/src/config";
import { tokenStoreFromConfig } from "../../functions/src/crypto/tokenStore";
import {
  PROVIDERS,
  PROVIDER_STATE,
  type Provider,
  SYNC_RUNS,
  firestorePaths,
  storagePaths,
} from "../../functions/src/paths";
import type { ProviderContext } from "../../functions/src/providers/types";
import { type SyncDeps, runSync } from "../../functions/src/sync/runSync";
import { canonicalJson, firestoreSize } from "../../functions/src/sync/snapshots";
import type { BenchFake } from "./fakeProcess";
import { benchSyncDeps, providerRequests } from "./deps";
import {
  type FirestoreCounts,
  type StorageCounts,
  diffCommits,
  diffCounts,
  diffFirestore,
  diffReadsByCollection,
  newStorageCounts,
  readsByCollection,
  snapshotCommits,
  snapshotFirestore,
} from "./instrument";
import { type BenchConnection, createUsers } from "./users";

export type SyncKind = "first" | "unchanged" | "small-change";

export interface PerSync {
  provider: Provider;
  design: "product" | "write-everything";
  kind: SyncKind;
  syncs: number;
  firestore: { reads: number; writes: number; deletes: number };
  storage: { classA: number; saves: number; bytesWritten: number; deletes: number };
  requests: { api: number; token: number; cdn: number };
  snapshotsWritten: number;
  /** sync_runs documents written per sync (a quiet run writes none: runSync.ts). */
  runRows?: number;
  /** provider_state documents read per sync (the provider pause; measured without the instance cache). */
  pauseReads?: number;
  ms: number;
  outcomes: string[];
}

export interface StoredBytes {
  provider: Provider;
  /** Firestore documents one connection keeps (snapshots, connection, tokens), by Firestore's size rules. */
  firestoreDocBytes: number;
  /** One sync_runs document. */
  syncRunBytes: number;
  /** Storage objects one connection keeps (mirrored images). */
  storageBytes: number;
  storageObjects: number;
}

export interface SyncCostResult {
  usersPerProvider: number;
  latencyMs: number;
  /** Minutes the clocks moved between two rounds, per provider: its sync interval + 1. */
  roundGapMinutes?: Partial<Record<Provider, number>>;
  rows: PerSync[];
  stored: StoredBytes[];
}

const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);

class MovableClock {
  constructor(public t: number) {}
  now = () => new Date(this.t);
}

/** The single-tenant way: fetch, then set every snapshot and store every image, without comparing. */
async function writeEverything(deps: SyncDeps, c: BenchConnection): Promise<{ snapshots: number }> {
  const module = deps.provider(c.provider);
  const ctx: ProviderContext = { config: deps.config, now: () => deps.clock.now() };
  let tokens = (await deps.tokens.load(c.uid, c.provider))!;
  if (module.refreshDue(ctx, tokens)) {
    const previous = tokens;
    tokens = await module.refresh(ctx, tokens);
    await deps.tokens.replace(c.uid, c.provider, previous, tokens);
  }
  const fetched = await module.fetchAll(ctx, tokens.accessToken);
  const now = deps.clock.now();
  for (const [name, value] of Object.entries(fetched.snapshots)) {
    await deps.db
      .doc(firestorePaths.snapshot(c.uid, c.provider, name))
      .set({ storage: "inline", updatedAt: now, data: JSON.parse(canonicalJson(value)) as unknown });
  }
  for (const item of fetched.mirror) {
    // Where the product's mirror puts it (sync/mirror.ts): the provider's folder, `{id}.{ext}`.
    const path = storagePaths.mirrorObject(c.uid, c.provider, item.id, item.ext.toLowerCase());
    const { bytes, contentType } = await deps.download(item.url, {
      provider: c.provider,
      maxBytes: deps.config.MAX_IMAGE_BYTES,
      allowedContentTypes: item.ext === "mp4" ? ["video/mp4"] : ["image/jpeg"],
    });
    await deps.blobs.save(path, bytes, { contentType, version: item.version });
  }
  return { snapshots: Object.keys(fetched.snapshots).length };
}

async function storedBytes(
  provider: Provider,
  uid: string,
  storage: { bytes: number; objects: number },
): Promise<StoredBytes> {
  const userDoc = db().doc(firestorePaths.connection(uid, provider)).parent.parent!;
  const size = (path: string, data: unknown) => Buffer.byteLength(path) + 1 + 32 + firestoreSize(data);
  let docBytes = 0;
  for (const coll of [provider, "connections", "oauth_tokens"]) {
    const snap = await userDoc.collection(coll).get();
    for (const d of snap.docs)
      if (coll === provider || d.id === provider) docBytes += size(d.ref.path, toPlain(d.data()));
  }
  const runs = await userDoc.collection("sync_runs").limit(1).get();
  const run = runs.docs[0];
  return {
    provider,
    firestoreDocBytes: docBytes,
    syncRunBytes: run ? size(run.ref.path, toPlain(run.data())) : 0,
    storageBytes: storage.bytes,
    storageObjects: storage.objects,
  };
}

/** Firestore values → plain values for firestoreSize (timestamps count 8 bytes, bytes their length). */
function toPlain(v: unknown): unknown {
  if (v && typeof v === "object" && typeof (v as { toMillis?: unknown }).toMillis === "function") return 0;
  if (v instanceof Uint8Array) return "x".repeat(v.length - 1);
  if (Array.isArray(v)) return v.map(toPlain);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toPlain(x)]));
  return v;
}

export async function benchSyncCost(
  fake: BenchFake,
  config: Config,
  opts: { usersPerProvider: number; latencyMs: number; tag: string },
): Promise<SyncCostResult> {
  await fake.latency(opts.latencyMs);
  for (const provider of PROVIDERS) await fake.rateLimit(provider, null);
  const tokens = tokenStoreFromConfig();
  const clock = new MovableClock(Date.now());
  const storage = newStorageCounts();
  const deps = benchSyncDeps(config, storage, clock);
  const rows: PerSync[] = [];
  const stored: StoredBytes[] = [];
  const roundGapMinutes: Partial<Record<Provider, number>> = {};

  for (const provider of PROVIDERS) {
    const product = await createUsers(fake, tokens, {
      prefix: `bsc-p-${opts.tag}`,
      users: opts.usersPerProvider,
      providers: [provider],
      now: clock.now(),
    });
    const naive = await createUsers(fake, tokens, {
      prefix: `bsc-w-${opts.tag}`,
      users: opts.usersPerProvider,
      providers: [provider],
      now: clock.now(),
    });
    let firstStorage = { bytes: 0, objects: 0 };
    // From one sync of a connection to its next (the provider's interval), and a minute.
    const gapMs = (providerSettings(config, provider).syncIntervalMinutes + 1) * 60_000;
    roundGapMinutes[provider] = gapMs / 60_000;
    for (const kind of ["first", "unchanged", "small-change"] as const) {
      if (kind !== "first") {
        clock.t += gapMs;
        await fake.advanceClock(gapMs);
      }
      if (kind === "small-change")
        for (const c of [...product, ...naive]) await fake.smallChange(provider, c.accountId);
      for (const design of ["product", "write-everything"] as const) {
        const set = design === "product" ? product : naive;
        const fs0: FirestoreCounts = snapshotFirestore();
        const st0: StorageCounts = { ...storage };
        const cm0 = snapshotCommits();
        const rd0 = { ...readsByCollection };
        const rq0 = providerRequests(await fake.stats(), provider);
        let ms = 0;
        let snapshotsWritten = 0;
        const outcomes: string[] = [];
        for (const c of set) {
          const t0 = performance.now();
          if (design === "product") {
            const r = await runSync(
              deps,
              { uid: c.uid, provider, reason: "scheduled", requestedAt: clock.t },
              { retryCount: 0, lastAttempt: true },
            );
            outcomes.push(r.outcome);
            snapshotsWritten += r.snapshots?.written.length ?? 0;
          } else {
            snapshotsWritten += (await writeEverything(deps, c)).snapshots;
            outcomes.push("success");
          }
          ms += performance.now() - t0;
        }
        const fs = diffFirestore(fs0);
        const runRows = diffCommits(cm0).writesByCollection[SYNC_RUNS] ?? 0;
        const pauseReads = diffReadsByCollection(rd0)[PROVIDER_STATE] ?? 0;
        const st = diffCounts(st0, storage);
        const rq = diffCounts(rq0, providerRequests(await fake.stats(), provider));
        const n = set.length;
        const per = (x: number) => Math.round((x / n) * 100) / 100;
        if (design === "product" && kind === "first")
          firstStorage = { bytes: per(st.bytesWritten), objects: per(st.saves) };
        rows.push({
          provider,
          design,
          kind,
          syncs: n,
          firestore: { reads: per(fs.reads), writes: per(fs.writes), deletes: per(fs.deletes) },
          storage: {
            classA: per(st.classA),
            saves: per(st.saves),
            bytesWritten: per(st.bytesWritten),
            deletes: per(st.deletes),
          },
          requests: { api: per(rq.api), token: per(rq.token), cdn: per(rq.cdn) },
          snapshotsWritten: per(snapshotsWritten),
          runRows: per(runRows),
          pauseReads: per(pauseReads),
          ms: Math.round(ms / n),
          outcomes: [...new Set(outcomes)],
        });
        say(
          `sync cost: ${provider} ${design} ${kind}: ${JSON.stringify(rows[rows.length - 1]!.firestore)} storage saves ${per(st.saves)}`,
        );
      }
    }
    stored.push(await storedBytes(provider, product[0]!.uid, firstStorage));
  }
  return { usersPerProvider: opts.usersPerProvider, latencyMs: opts.latencyMs, roundGapMinutes, rows, stored };
}
