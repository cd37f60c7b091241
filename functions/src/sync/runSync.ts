/**
 * The sync task handler, as a plain function with its dependencies passed in
 * (triggers/sync.ts wraps it in onTaskDispatched; scripts/sync.ts runs it in-process).
 *
 * Per task: validate the payload → lease the connection → load + decrypt tokens → refresh when
 * due and SAVE a new credential (a rotated refresh token) before any other call → fetch
 * everything → write changed snapshots → mirror images → save a renewed access token the next
 * attempt can use → record the outcome on the connection and in `sync_runs` (a quiet run: on the
 * connection only) → release the lease.
 * What a failure does is decided by policy.ts; the result says whether the queue should retry.
 *
 * A run can be overtaken while it fetches. When it records its outcome it looks at the connection:
 * - gone: the account was deleted, and the deletion may have swept past what the run wrote after
 *   (snapshots, images) — the run erases its provider's data and tokens;
 * - disconnected: when the disconnect erased the data (`dataErasedAt` after the run started), the
 *   run erases what it wrote after that.
 * A refreshed token is never re-created after either: it is saved only over the tokens it was
 * refreshed from (step 3).
 * So nothing of a deleted account, and nothing a person asked to delete, outlives the run.
 *
 * Every write of the run is fenced by its lease (lease.ts): snapshot parts, documents and the
 * deletion of old parts (snapshots.ts), the play log (playLog.ts) and the outcome are transactions
 * that write only while `lease.holder` is this run's id; the image mirror checks the lease before
 * its first save and before its first delete (Storage writes cannot join a transaction). A run whose lease was taken by another run (it expired), or cleared by a disconnect
 * or a reconnect, stops writing where it notices, and records only its own `sync_runs` row
 * (outcome `superseded`), leaving the connection to whoever holds it now.
 *
 * The fetch has a deadline, SYNC_DEADLINE_SECONDS after the run started (config.ts has the
 * arithmetic against the function's timeout and the lease): the provider's requests and pages
 * stop past it with DeadlineExceededError, before anything is written, and the run records
 * `timeout` (a counted failure, policy.ts) and releases its lease while the function still runs.
 *
 * An unchanged sync reads little besides the connection: the snapshot hashes its last successful
 * run left are on the connection (`snapshotHashes`, trusted only when that run released its lease:
 * snapshots.ts `known`), plays the connection's history already lists need no transaction
 * (playLog.ts `knownPlays`), and the image mirror's manifest is on the connection too (mirror.ts).
 *
 * A quiet run — scheduled, successful at its first attempt, and changing nothing (no snapshot, play,
 * image or daily point written, after a run that released its lease) — writes no `sync_runs` row:
 * the connection, written anyway, counts it (`quietRuns`), and the next row carries the count
 * (`quietRunsBefore`). So every run is accounted for, and an hourly sync that finds nothing new
 * costs the lease and the outcome, two writes. SYNC_RUNS_UNCHANGED writes a row for every run.
 *
 * Listening history (a provider whose fetch returns plays): after the snapshots, the plays read
 * are logged (history/playLog.ts, fenced by the lease: a run that lost it logs nothing and stops
 * its remaining work). A sync that logged new plays or found a gap is followed sooner
 * (policy.ts nextSyncAfterSuccess). Once a day in the person's time zone (the first successful
 * sync of the day), the provider's daily point is written in the finishing transaction, and raw
 * plays older than PLAY_RETENTION_DAYS are trimmed.
 */
import { randomBytes } from "node:crypto";
import { FieldValue, type Firestore, Timestamp } from "firebase-admin/firestore";
import { type Config, providerSettings } from "../config";
import { DeadlineExceededError, isAppError, RateLimitedError, ReauthRequiredError } from "../errors";
import { ConnectionHistory } from "../history/model";
import { commitPlays, emptyHistory, knownPlays, timeZoneOf } from "../history/playLog";
import { nextMidnight } from "../time";
import { type PointUpdate, pointUpdate } from "../history/points";
import { dayOf } from "../history/read";
import { retentionCutoff, trimPlays } from "../history/retention";
import { logs } from "../logs";
import type { ProviderDataEraser } from "../oauth/disconnect";
import { type Provider, firestorePaths } from "../paths";
import { catalogEntry, providerName } from "../providers/catalog";
import { withAccessToken } from "../providers/session";
import type { ProviderApp, ProviderContext, ProviderModule, TokenSet } from "../providers/types";
import { staleTaskSkip } from "./backlog";
import { type LeaseResult, acquireLease, holdsLease, leaseHeldBy } from "./lease";
import { type Download, type MirrorCounts, type MirrorResult, mirrorImages, reconcileDue } from "./mirror";
import {
  type FailureOutcome,
  type ListeningActivity,
  decideFailure,
  errorSummary,
  isSyncable,
  nextSyncAfterSuccess,
} from "./policy";
import { type BlobStore, type Clock, SyncTaskPayload, slotStart } from "./ports";
import { type PauseCache, pauseProvider, pausedError, providerPausedUntil } from "./providerPause";
import { type SnapshotWritePoint, writeSnapshots } from "./snapshots";

/** The token store, as the sync uses it (crypto/tokenStore.ts implements it). */
export interface SyncTokenStore {
  load(uid: string, provider: Provider): Promise<TokenSet | null>;
  /** Saves refreshed tokens only over the ones they were refreshed from (TokenStore.replace). */
  replace(uid: string, provider: Provider, previous: TokenSet, next: TokenSet): Promise<boolean>;
  delete(uid: string, provider: Provider): Promise<void>;
}

/** People's own OAuth apps, as the sync uses them (apps/store.ts implements it). */
export interface SyncAppStore {
  load(uid: string, provider: Provider): Promise<ProviderApp | null>;
}

export interface SyncDeps {
  db: Firestore;
  clock: Clock;
  config: Config;
  tokens: SyncTokenStore;
  /** A connection made through a person's own app (`connection.app`) calls as that app. */
  apps: SyncAppStore;
  provider: (id: Provider) => ProviderModule;
  blobs: BlobStore;
  download: Download;
  /** Erases a provider's snapshots and objects of one uid (when the account vanished mid-run). */
  eraser: ProviderDataEraser;
  newRunId?: (now: Date) => string;
  /** This instance's reads of provider pauses (providerPause.ts PauseCache); absent: read by every sync. */
  pauses?: PauseCache;
  /** Tests only: awaited before each write of the run (to interleave another run or a disconnect there). */
  beforeWrite?: (point: RunWritePoint, detail?: string) => Promise<void>;
}

/** The writes of a run, in order (SyncDeps.beforeWrite). */
export type RunWritePoint = `snapshot.${SnapshotWritePoint}` | "plays" | "mirror" | "finish";

/** Delivery facts from Cloud Tasks. In-process runs (npm run sync) pass { retryCount: 0, lastAttempt: true }. */
export interface SyncAttempt {
  retryCount: number;
  /** Overrides the provider's queue max attempts (true: no retry will follow). */
  lastAttempt?: boolean;
  taskId?: string;
}

export type SyncOutcome = "dropped" | "skipped" | "success" | FailureOutcome;

export interface SyncResult {
  outcome: SyncOutcome;
  /** True: the trigger must throw so Cloud Tasks retries (with backoff, bounded attempts). */
  retry: boolean;
  uid?: string;
  provider?: Provider;
  runId?: string;
  skipped?: Exclude<LeaseResult["kind"], "acquired"> | "stale";
  error?: { code: string; message: string };
  counts?: Record<string, number>;
  snapshots?: { written: string[]; unchanged: string[]; split: Record<string, number> };
  images?: MirrorCounts;
  tokenRefreshed?: boolean;
  requests?: number;
  /**
   * The play log (providers with one): plays logged and already logged, whether a gap was
   * recorded; `superseded` when the run had lost its lease (nothing logged, the run stopped).
   */
  plays?: { logged: number; duplicates: number; gap: boolean; superseded: boolean };
  /** The local day whose daily point this run wrote, if it wrote one. */
  pointDay?: string;
  /** Raw plays deleted by the daily retention trim. */
  trimmed?: number;
  /** A quiet run: counted on the connection (`quietRuns`) instead of a sync_runs row. */
  quiet?: boolean;
  /**
   * Set when the account was deleted, the provider disconnected, or the run's lease taken or
   * cleared (`overtaken`: a newer run or a reconnect) during the run (see the file comment).
   */
  superseded?: { by: "account_deleted" | "disconnected" | "overtaken"; documents: number; objects: number };
  ms: number;
}

export function defaultRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:.]/g, "");
  return `${stamp}-${randomBytes(4).toString("hex")}`;
}

export async function runSync(deps: SyncDeps, rawPayload: unknown, attempt: SyncAttempt): Promise<SyncResult> {
  const t0 = Date.now();
  const parsed = SyncTaskPayload.safeParse(rawPayload);
  if (!parsed.success) {
    // Logged and dropped: a malformed payload will never become valid, so it is not retried.
    logs.warn("sync.payload_invalid", { issues: parsed.error.issues.slice(0, 5).map((i) => i.path.join(".")) });
    return { outcome: "dropped", retry: false, ms: Date.now() - t0 };
  }
  const { uid, provider, reason, requestedAt } = parsed.data;
  const { db, clock, config } = deps;
  if (staleTaskSkip(parsed.data, clock.now(), config)) {
    // Replaced by a newer task (backlog.ts): exits without a transaction.
    logs.info("sync.skipped", { uid, provider, reason, skipped: "stale" });
    return { outcome: "skipped", retry: false, uid, provider, skipped: "stale", ms: Date.now() - t0 };
  }
  const startedAt = clock.now();
  const runId = (deps.newRunId ?? defaultRunId)(startedAt);

  const lease = await acquireLease(db, {
    uid,
    provider,
    holder: runId,
    now: startedAt,
    leaseSeconds: config.LEASE_SECONDS,
    reason,
    requestedAt,
    ...(attempt.taskId !== undefined ? { taskId: attempt.taskId } : {}),
  });
  if (lease.kind !== "acquired") {
    logs.info("sync.skipped", { uid, provider, reason, skipped: lease.kind });
    return { outcome: "skipped", retry: false, uid, provider, skipped: lease.kind, ms: Date.now() - t0 };
  }
  if (lease.tookOverFrom !== undefined)
    // A redelivery of this task: the earlier attempt died holding the lease (lease.ts).
    logs.warn("sync.lease_taken_over", { uid, provider, runId, from: lease.tookOverFrom });
  const connection = lease.connection;
  const module = deps.provider(provider);
  const settings = providerSettings(config, provider);
  const ctx: ProviderContext = {
    config,
    now: () => clock.now(),
    history: { playsAfter: connection.history?.newestPlayedAt?.toDate() ?? null },
    deadline: {
      at: new Date(startedAt.getTime() + config.SYNC_DEADLINE_SECONDS * 1000),
      name: `the sync's deadline, SYNC_DEADLINE_SECONDS (${config.SYNC_DEADLINE_SECONDS} s)`,
    },
  };
  const fence = { uid, provider, runId };
  // Whose budget this connection spends: the operator's app, or the person's own (providerPause.ts).
  const ownClientId = connection.app?.clientId;
  const pauseTarget = { provider, ...(ownClientId !== undefined ? { clientId: ownClientId } : {}) };
  const result: SyncResult = { outcome: "success", retry: false, uid, provider, runId, ms: 0, tokenRefreshed: false };
  let update: Record<string, unknown>;
  let account: { id: string; displayName: string | null } | undefined;
  let pausedUntil: Date | null = null;
  let point: { update: PointUpdate; day: string; nextAt: Date } | undefined;
  let trimDue = false;
  /** The run began writing snapshots: a failure after it leaves the known hashes in doubt. */
  let snapshotsTouched = false;
  /** The tokens as stored, and a refreshed access token not saved yet (the refresh token unchanged). */
  const tokenState: { stored: TokenSet | null; pending: TokenSet | null } = { stored: null, pending: null };
  const saveTokens = async (fresh: TokenSet) => {
    const saved = tokenState.stored !== null && (await deps.tokens.replace(uid, provider, tokenState.stored, fresh));
    if (saved) tokenState.stored = fresh;
    else logs.warn("sync.tokens_superseded", { uid, provider, runId });
    tokenState.pending = null;
  };

  try {
    // The provider rate-limited the whole app: no call until the pause ends (providerPause.ts).
    pausedUntil = deps.pauses
      ? await deps.pauses.pausedUntil(pauseTarget, startedAt, config)
      : await providerPausedUntil(db, pauseTarget, startedAt, config);
    if (pausedUntil) throw pausedError(provider, pausedUntil, ownClientId !== undefined);
    if (ownClientId !== undefined) ctx.app = await ownApp(deps.apps, uid, provider, ownClientId);
    const tokens = await deps.tokens.load(uid, provider);
    if (!tokens)
      throw new ReauthRequiredError(
        `No ${providerName(provider)} tokens are stored for this account; reconnect ${providerName(provider)}.`,
      );
    tokenState.stored = tokens;
    // Refreshes when due (and once more on a 401), persisting new tokens before they are used
    // when they carry a new credential: a rotated refresh token (or a refreshed long-lived token)
    // must survive whatever happens next. A 401 right after a refresh means the grant is gone:
    // ReauthRequiredError. A refresh that kept the refresh token only renewed the access token:
    // the stored refresh token still works, so it is saved after the fetch, and only when it is
    // still good at the next attempt (after the fetch, below); an hourly Spotify sync refreshes anyway.
    // Saved only over the tokens they were refreshed from: a reconnect meanwhile (new grant) is
    // not overwritten, and a disconnect or account deletion is not undone.
    const { result: fetched } = await withAccessToken(
      ctx,
      module,
      tokens,
      async (fresh) => {
        result.tokenRefreshed = true;
        if (fresh.refreshToken !== undefined && fresh.refreshToken === tokenState.stored?.refreshToken) {
          tokenState.pending = fresh;
          return;
        }
        await saveTokens(fresh);
      },
      (accessToken) => module.fetchAll(ctx, accessToken),
    );
    result.requests = fetched.requests;
    result.counts = { ...fetched.counts };
    account = fetched.account;
    snapshotsTouched = true;
    const { superseded: snapshotsSuperseded, ...snapshots } = await writeSnapshots(
      db,
      uid,
      provider,
      fetched.snapshots,
      clock.now(),
      {
        fence,
        ...(deps.beforeWrite ? { beforeWrite: (point, name) => deps.beforeWrite!(`snapshot.${point}`, name) } : {}),
        // What the last successful run left, unless a run since may have written unrecorded.
        ...(!lease.inherited && connection.snapshotHashes ? { known: connection.snapshotHashes } : {}),
      },
    );
    const { hashes: snapshotHashes, ...snapshotCounts } = snapshots;
    result.snapshots = snapshotCounts;
    // The person's day and month boundaries: one profile read, only when a play may be new (its
    // month) or the daily point is due (its day). Plays the history lists are duplicates as they are.
    const knownPlayCommit = fetched.plays ? knownPlays(connection.history, fetched.plays.items) : null;
    const nextPointAt = connection.history?.nextPointAt?.toMillis() ?? 0;
    const pointDue = module.historyPoint !== undefined && nextPointAt <= clock.now().getTime();
    const needsTimeZone = (fetched.plays !== undefined && knownPlayCommit === null) || pointDue;
    const timeZone = needsTimeZone ? await timeZoneOf(db, uid) : null;
    let activity: ListeningActivity | null = null;
    let superseded = snapshotsSuperseded === true;
    if (fetched.plays && (timeZone || knownPlayCommit) && !superseded) {
      await deps.beforeWrite?.("plays");
      const committed =
        knownPlayCommit ??
        (await commitPlays(db, {
          uid,
          provider,
          runId,
          plays: fetched.plays.items,
          gapCheck: { fullWindow: fetched.plays.fullWindow },
          now: clock.now(),
          timeZone: timeZone!,
        }));
      superseded = committed.kind === "superseded";
      const logged = committed.kind === "committed" ? committed.logged : 0;
      const duplicates = committed.kind === "committed" ? committed.duplicates : 0;
      const gap = committed.kind === "committed" && committed.gap !== null;
      result.plays = { logged, duplicates, gap, superseded };
      result.counts.playsLogged = logged;
      result.counts.playsDuplicate = duplicates;
      activity = { playsLogged: logged, gap };
    }
    // Storage writes cannot join a transaction: the mirror checks the lease before its first save
    // and before its first delete (stillHolds), so an unchanged sync reads nothing more for it.
    // A provider without a catalog mirror never touches Storage (no listing of an empty folder).
    // The manifest read with the lease says what is stored: an unchanged sync makes no Storage call.
    let mirror: MirrorResult | undefined;
    if (catalogEntry(provider).mirror && !superseded) {
      await deps.beforeWrite?.("mirror");
      const manifest = connection.mirror ?? null;
      mirror = await mirrorImages(
        { blobs: deps.blobs, download: deps.download, config },
        {
          uid,
          provider,
          items: fetched.mirror,
          enabled: settings.mirror,
          manifest,
          reconcile: reconcileDue(manifest, clock.now(), config),
          now: clock.now(),
          stillHolds: () => holdsLease(db, fence),
        },
      );
      if (mirror.superseded) superseded = true;
    }
    // Overtaken (disconnected, deleted, or the lease expired and another run took it): no daily
    // point; finishRun decides what the run leaves behind.
    const today = timeZone ? dayOf(clock.now(), timeZone) : null;
    if (!superseded && today && connection.history?.lastPointDay !== today) {
      const p = module.historyPoint?.(fetched.snapshots) ?? null;
      if (p)
        point = {
          update: pointUpdate(db, uid, provider, today, p, clock.now()),
          day: today,
          nextAt: nextMidnight(clock.now(), timeZone!),
        };
      trimDue = fetched.plays !== undefined;
    }
    result.images = mirror?.counts ?? { saved: 0, unchanged: 0, deleted: 0, failed: 0 };
    const now = clock.now();
    update = {
      ...(mirror ? { mirror: mirror.manifest } : {}),
      snapshotHashes,
      status: "connected",
      counts: result.counts,
      consecutiveFailures: 0,
      lastError: null,
      nextSyncAt: Timestamp.fromDate(nextSyncAfterSuccess(now, config, settings, activity)),
      rateLimitedUntil: null,
      reauthReason: null,
    };
  } catch (caught) {
    const now = clock.now();
    const e =
      caught instanceof DeadlineExceededError
        ? new DeadlineExceededError(
            `The sync ran longer than SYNC_DEADLINE_SECONDS (${config.SYNC_DEADLINE_SECONDS} s) and stopped before saving anything; the next sync tries again. ${caught.message}`,
          )
        : caught;
    if (e instanceof RateLimitedError && e.scope === "app" && !pausedUntil) {
      // Everyone's limit, not this account's: pause the provider for every connection (unless
      // this run stopped at the pause itself, which would only re-read it in a transaction).
      await pauseProvider(db, { ...pauseTarget, until: e.retryAt, reason: e.message, now, limits: config }).catch(
        (pe: unknown) => logs.error("sync.provider_pause_failed", { provider, error: errorSummary(pe) }),
      );
      deps.pauses?.forget(pauseTarget);
    }
    const lastAttempt = attempt.lastAttempt ?? attempt.retryCount + 1 >= settings.queue.maxAttempts;
    const d = decideFailure(e, {
      now,
      config,
      consecutiveFailures: connection.consecutiveFailures,
      status: connection.status,
      lastAttempt,
    });
    result.outcome = d.outcome;
    result.retry = d.retry;
    result.error = d.lastError;
    update = {
      // The run may have written snapshots before it failed: the next one reads them.
      ...(snapshotsTouched ? { snapshotHashes: null } : {}),
      consecutiveFailures: d.consecutiveFailures,
      lastError: { ...d.lastError, at: Timestamp.fromDate(now) },
      ...(d.status ? { status: d.status } : {}),
      ...(d.nextSyncAt ? { nextSyncAt: Timestamp.fromDate(d.nextSyncAt) } : {}),
      ...(d.rateLimitedUntil !== undefined
        ? { rateLimitedUntil: d.rateLimitedUntil ? Timestamp.fromDate(d.rateLimitedUntil) : null }
        : {}),
      ...(d.reauthReason !== undefined ? { reauthReason: d.reauthReason } : {}),
    };
    const log = d.outcome === "transient" || d.outcome === "rate_limited" ? logs.warn : logs.error;
    log("sync.failed", {
      uid,
      provider,
      runId,
      outcome: d.outcome,
      retry: d.retry,
      error: errorSummary(e),
      ...(isAppError(e) ? {} : { unexpected: true }),
    });
  }

  // A refreshed access token not saved yet: saved when the next attempt can still use it, i.e.
  // it is not due for a refresh by then. The next attempt: a retry at once; else nextSyncAt at
  // this run's point of its slot (the queue reaches a connection at about the same point each
  // slot). An hourly sync with hour-long tokens refreshes every time anyway: no write for it.
  if (tokenState.pending) {
    const now = clock.now();
    const nextSync = update.nextSyncAt instanceof Timestamp ? update.nextSyncAt.toMillis() : now.getTime();
    const offset = now.getTime() - slotStart(now, config.SYNC_TICK_MINUTES);
    const next = result.retry ? now : new Date(Math.max(now.getTime(), nextSync + offset));
    const pending = tokenState.pending;
    if (!module.refreshDue({ ...ctx, now: () => next }, pending)) {
      await saveTokens(pending).catch((e: unknown) =>
        logs.warn("sync.tokens_save_failed", { uid, provider, runId, error: errorSummary(e) }),
      );
    }
  }
  const finishedAt = clock.now();
  result.ms = Date.now() - t0;
  const quiet =
    !config.SYNC_RUNS_UNCHANGED &&
    reason === "scheduled" &&
    attempt.retryCount === 0 &&
    !lease.inherited &&
    point === undefined &&
    changedNothing(result);
  await deps.beforeWrite?.("finish");
  const fate = await finishRun(db, {
    uid,
    provider,
    runId,
    startedAt,
    quiet,
    ...(point && result.outcome === "success" ? { point } : {}),
    update: {
      ...update,
      lastSyncAt: Timestamp.fromDate(finishedAt),
      updatedAt: Timestamp.fromDate(finishedAt),
      // The run's own finish time, so the connection and its sync_runs row name the same moment.
      ...(result.outcome === "success" ? { lastSuccessAt: Timestamp.fromDate(finishedAt) } : {}),
      ...(account ? { providerAccountName: account.displayName } : {}),
    },
    run: {
      runId,
      uid,
      provider,
      reason,
      taskId: attempt.taskId ?? null,
      attempt: attempt.retryCount + 1,
      startedAt: Timestamp.fromDate(startedAt),
      finishedAt: Timestamp.fromDate(finishedAt),
      ms: result.ms,
      outcome: result.outcome,
      willRetry: result.retry,
      error: result.error ?? null,
      counts: result.counts ?? {},
      requests: result.requests ?? 0,
      tokenRefreshed: result.tokenRefreshed ?? false,
      snapshotsWritten: result.snapshots?.written ?? [],
      snapshotsUnchanged: result.snapshots?.unchanged.length ?? 0,
      images: result.images ?? null,
      expiresAt: Timestamp.fromMillis(finishedAt.getTime() + config.SYNC_RUN_TTL_DAYS * 86_400_000),
    },
  });
  if (fate.kind === "overtaken") {
    // Another run holds the lease now (ours expired), or a reconnect cleared it: that run owns
    // the connection; this one wrote nothing after it lost the lease, and is not retried.
    result.retry = false;
    result.superseded = { by: "overtaken", documents: 0, objects: 0 };
    result.ms = Date.now() - t0;
    logs.warn("sync.superseded", { uid, provider, runId, outcome: result.outcome, by: "overtaken" });
    return result;
  }
  if (fate.kind !== "recorded") {
    // Overtaken by an account deletion or a disconnect: undo what the run may have written
    // after they swept past (its writes are fenced, but Storage objects of a mirror already
    // running are not). No retry either way.
    const erase = fate.kind === "gone" || fate.dataErasedDuringRun;
    const documents = erase ? await deps.eraser.eraseDocuments(uid, provider) : 0;
    const objects = erase ? await deps.eraser.eraseObjects(uid, provider) : 0;
    // A refresh cannot re-create tokens (tokens.replace); deleting again after an account
    // deletion is belt and braces. Not after a disconnect: the person may have reconnected since.
    if (fate.kind === "gone") await deps.tokens.delete(uid, provider);
    const by = fate.kind === "gone" ? "account_deleted" : "disconnected";
    result.retry = false;
    result.superseded = { by, documents, objects };
    result.ms = Date.now() - t0;
    logs.warn("sync.superseded", { uid, provider, runId, outcome: result.outcome, by, documents, objects });
    return result;
  }
  if (fate.pointWritten && point) result.pointDay = point.day;
  if (quiet) result.quiet = true;
  if (trimDue && result.outcome === "success") {
    const cutoff = retentionCutoff(clock.now(), config.PLAY_RETENTION_DAYS);
    if (cutoff) {
      // Best effort: a failed trim is tried again on the next day's first sync.
      result.trimmed = await trimPlays(db, uid, cutoff, TRIM_PER_DAY).catch((e: unknown) => {
        logs.warn("sync.trim_failed", { uid, provider, runId, error: errorSummary(e) });
        return 0;
      });
    }
  }
  if (result.outcome === "success") {
    logs.info("sync.completed", {
      uid,
      provider,
      runId,
      reason,
      ms: result.ms,
      requests: result.requests,
      snapshotsWritten: result.snapshots?.written.length,
      snapshotsUnchanged: result.snapshots?.unchanged.length,
      images: result.images,
      tokenRefreshed: result.tokenRefreshed,
      ...(result.plays ? { playsLogged: result.plays.logged, playsDuplicate: result.plays.duplicates } : {}),
      ...(result.plays?.gap ? { historyGap: true } : {}),
      ...(result.pointDay ? { historyPoint: true } : {}),
      ...(result.trimmed ? { playsTrimmed: result.trimmed } : {}),
      ...(result.quiet ? { quiet: true } : {}),
    });
  }
  return result;
}

/** A successful run that wrote nothing but its outcome: no snapshot, play, gap or image change. */
function changedNothing(result: SyncResult): boolean {
  if (result.outcome !== "success") return false;
  if ((result.snapshots?.written.length ?? 0) > 0) return false;
  if (result.plays && (result.plays.logged > 0 || result.plays.gap)) return false;
  const images = result.images;
  return !images || images.saved + images.deleted + images.failed === 0;
}

/** Raw plays deleted at most by one day's retention trim of a connection (a heavy day is ~1,000). */
export const TRIM_PER_DAY = 2_000;

/**
 * The person's own app a connection was made through. Removing or replacing the app disconnects
 * the provider (apps/store.ts), so a missing or different app means the grant cannot be used:
 * the person reconnects.
 */
async function ownApp(apps: SyncAppStore, uid: string, provider: Provider, clientId: string): Promise<ProviderApp> {
  const app = await apps.load(uid, provider);
  if (app && app.clientId === clientId) return { clientId: app.clientId, clientSecret: app.clientSecret };
  const name = providerName(provider);
  throw new ReauthRequiredError(`The own ${name} app this connection was made through is no longer saved.`, {
    reason: `Your own ${name} app was removed or replaced; connect ${name} again.`,
  });
}

/**
 * Records the outcome on the connection, appends the sync_runs document (a quiet run: counts
 * itself in `quietRuns` instead) and releases the lease, in one transaction. A connection deleted meanwhile (account deletion) is not recreated; a status
 * set meanwhile by someone else (paused) is not overwritten. Fenced: when the run no longer holds
 * its lease (another run took it, a disconnect or reconnect cleared it), only the run's own
 * sync_runs row is written, with outcome `superseded` (`supersededOutcome`: what the run itself
 * ended with), and the connection is left alone. Says whether the connection was gone,
 * disconnected or held by someone else.
 */
async function finishRun(
  db: Firestore,
  args: {
    uid: string;
    provider: Provider;
    runId: string;
    startedAt: Date;
    update: Record<string, unknown>;
    run: Record<string, unknown>;
    /** No row: the connection counts the run (runSync's file comment). */
    quiet: boolean;
    /** Today's daily point, written unless the connection is gone or disconnected, or has it already. */
    point?: { update: PointUpdate; day: string; nextAt: Date };
  },
): Promise<RunFate> {
  const ref = db.doc(firestorePaths.connection(args.uid, args.provider));
  return db.runTransaction(async (tx): Promise<RunFate> => {
    const snap = await tx.get(ref);
    if (!snap.exists) return { kind: "gone" };
    const data = snap.data() as {
      status?: string;
      lease?: { holder?: string } | null;
      dataErasedAt?: Timestamp | null;
      history?: unknown;
      quietRuns?: unknown;
    };
    const runRef = db.doc(firestorePaths.syncRun(args.uid, args.runId));
    if (!leaseHeldBy(data, args.runId)) {
      tx.set(runRef, { ...args.run, outcome: "superseded", supersededOutcome: args.run.outcome, willRetry: false });
      if (data.status !== "disconnected") return { kind: "overtaken" };
      return { kind: "disconnected", dataErasedDuringRun: erasedDuring(data.dataErasedAt, args.startedAt) };
    }
    const update = { ...args.update };
    if (typeof data.status === "string" && !isSyncable(data.status as never) && "status" in update)
      delete update.status;
    update.lease = null;
    // Erased during the run (disconnect with deleteData): the run erases its objects after this, so
    // it keeps the disconnect's empty manifest instead of recording what it stored.
    if (data.dataErasedAt instanceof Timestamp && data.dataErasedAt.toMillis() >= args.startedAt.getTime())
      delete update.mirror;
    let pointWritten = false;
    if (args.point && data.status !== "disconnected") {
      const history = ConnectionHistory.safeParse(data.history);
      if (!history.success || history.data.lastPointDay !== args.point.day) {
        const p = args.point.update;
        tx.set(p.ref, p.data, p.options);
        // The play log's fields are kept (commitPlays may have moved them during this run).
        const nextPointAt = Timestamp.fromDate(args.point.nextAt);
        if (history.success) {
          update["history.lastPointDay"] = args.point.day;
          update["history.nextPointAt"] = nextPointAt;
        } else update.history = { ...emptyHistory(), lastPointDay: args.point.day, nextPointAt };
        pointWritten = true;
      }
    }
    const quietBefore = typeof data.quietRuns === "number" && data.quietRuns > 0 ? data.quietRuns : 0;
    if (args.quiet) update.quietRuns = FieldValue.increment(1);
    else if (quietBefore > 0) update.quietRuns = 0;
    tx.update(ref, update);
    if (!args.quiet) tx.set(runRef, quietBefore > 0 ? { ...args.run, quietRunsBefore: quietBefore } : args.run);
    if (data.status !== "disconnected") return { kind: "recorded", pointWritten };
    return { kind: "disconnected", dataErasedDuringRun: erasedDuring(data.dataErasedAt, args.startedAt), pointWritten };
  });
}

/** Whether a disconnect erased the provider's data after the run started. */
function erasedDuring(dataErasedAt: unknown, startedAt: Date): boolean {
  return dataErasedAt instanceof Timestamp && dataErasedAt.toMillis() >= startedAt.getTime();
}

type RunFate = { pointWritten?: boolean } & (
  | { kind: "recorded" }
  | { kind: "gone" }
  | { kind: "overtaken" }
  | { kind: "disconnected"; dataErasedDuringRun: boolean }
);
