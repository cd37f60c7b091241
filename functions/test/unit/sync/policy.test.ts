import { loadConfig } from "../../../src/config";
import {
  DeadlineExceededError,
  NotAllowedError,
  ProviderSchemaError,
  RateLimitedError,
  ReauthRequiredError,
  TransientError,
} from "../../../src/errors";
import {
  backoffMs,
  boundedRetryAt,
  decideFailure,
  nextRegularSync,
  nextSyncAfterSuccess,
} from "../../../src/sync/policy";
import { slotStart, syncTaskId } from "../../../src/sync/ports";
import { testSecrets } from "../../support/test-secrets";

const config = loadConfig(testSecrets(`k1:${Buffer.alloc(32, 1).toString("base64")}`));
const now = new Date("2030-01-01T10:20:30Z");
const base = { now, config, consecutiveFailures: 0, status: "connected" as const, lastAttempt: false };

describe("sync failure policy", () => {
  it("when a 12-hour Retry-After arrives, then the connection pauses until then and the queue does not retry", () => {
    const retryAt = new Date(now.getTime() + 12 * 3_600_000);
    const d = decideFailure(new RateLimitedError("slow down", retryAt), base);
    expect(d).toMatchObject({ outcome: "rate_limited", retry: false, nextSyncAt: retryAt, rateLimitedUntil: retryAt });
    expect(d.consecutiveFailures).toBe(0);
    expect(d.status).toBeUndefined();
  });

  it("when a Retry-After of ten years arrives, then the connection waits only MAX_PAUSE_HOURS (24 h), and then probes again", () => {
    const d = decideFailure(new RateLimitedError("edge proxy", new Date(now.getTime() + 315_360_000_000)), base);
    const cap = new Date(now.getTime() + 24 * 3_600_000);
    expect(config.MAX_PAUSE_HOURS).toBe(24);
    expect(d).toMatchObject({ outcome: "rate_limited", nextSyncAt: cap, rateLimitedUntil: cap });
  });

  it("when the retry time is in the past or not a date, then the normal one-minute wait applies", () => {
    for (const at of [new Date(now.getTime() - 3_600_000), new Date(Number.NaN)]) {
      const d = decideFailure(new RateLimitedError("stale", at), base);
      expect(d.nextSyncAt).toEqual(new Date(now.getTime() + 60_000));
    }
  });

  it("when MAX_PAUSE_HOURS is set lower, then the cap follows it", () => {
    expect(boundedRetryAt(new Date(now.getTime() + 10 * 3_600_000), now, { MAX_PAUSE_HOURS: 2 })).toEqual(
      new Date(now.getTime() + 2 * 3_600_000),
    );
    expect(boundedRetryAt(new Date(now.getTime() + 3_600_000), now, { MAX_PAUSE_HOURS: 2 })).toEqual(
      new Date(now.getTime() + 3_600_000),
    );
  });

  it("when a transient error happens before the last attempt, then the queue retries and nothing is counted", () => {
    const d = decideFailure(new TransientError("503"), base);
    expect(d).toMatchObject({ outcome: "transient", retry: true, consecutiveFailures: 0 });
    expect(d.nextSyncAt).toBeUndefined();
  });

  it("when a transient error happens on the last attempt, then it is a counted failure without retry", () => {
    const d = decideFailure(new TransientError("503"), { ...base, lastAttempt: true });
    expect(d).toMatchObject({ outcome: "transient", retry: false, consecutiveFailures: 1, status: "connected" });
    // One interval after the start of this 20-minute fan-out tick (10:20), not of the hour.
    expect(d.nextSyncAt).toEqual(new Date("2030-01-01T11:20:00Z"));
  });

  it("when an unknown error (a bug) happens, then it is treated as transient", () => {
    expect(decideFailure(new TypeError("x is undefined"), base)).toMatchObject({ outcome: "transient", retry: true });
  });

  it("when the grant is revoked, then status becomes needs_reauth with the reason and no retry", () => {
    const d = decideFailure(new ReauthRequiredError("Spotify access was revoked."), base);
    expect(d).toMatchObject({
      outcome: "reauth",
      retry: false,
      status: "needs_reauth",
      reauthReason: "Spotify access was revoked.",
    });
    // The person reads the error's reason, not the request that failed.
    const worded = new ReauthRequiredError("Spotify POST /api/token answered invalid_grant.", {
      reason: "Spotify access was revoked or has expired; reconnect Spotify.",
    });
    expect(decideFailure(worded, base)).toMatchObject({
      reauthReason: "Spotify access was revoked or has expired; reconnect Spotify.",
      lastError: { message: "Spotify POST /api/token answered invalid_grant." },
    });
  });

  it.each([new ProviderSchemaError("drift"), new NotAllowedError("not allow-listed")])(
    "when the error is give-up (%p), then it is recorded, counted, not retried, and the next regular slot is kept",
    (e) => {
      const d = decideFailure(e, base);
      expect(d).toMatchObject({ outcome: "failed", retry: false, consecutiveFailures: 1, status: "connected" });
      expect(d.lastError.code).toBe(e.code);
      expect(d.nextSyncAt).toEqual(nextRegularSync(now, config));
    },
  );

  it("when a sync ran past its deadline, then it is a `timeout`, counted like a failure, and not retried in place", () => {
    const e = new DeadlineExceededError("The sync ran longer than SYNC_DEADLINE_SECONDS (420 s).");
    const d = decideFailure(e, base);
    expect(d).toMatchObject({
      outcome: "timeout",
      retry: false,
      consecutiveFailures: 1,
      status: "connected",
      lastError: { code: "timeout", message: e.message },
    });
    expect(d.nextSyncAt).toEqual(nextRegularSync(now, config));
    // At the threshold it backs off like any counted failure.
    const third = decideFailure(e, { ...base, consecutiveFailures: config.FAILURE_BACKOFF_THRESHOLD - 1 });
    expect(third).toMatchObject({ outcome: "timeout", status: "error" });
    expect(third.nextSyncAt!.getTime() - now.getTime()).toBe(backoffMs(config.FAILURE_BACKOFF_THRESHOLD, config));
  });

  it("when failures reach the threshold, then status is error and nextSyncAt backs off exponentially up to the cap", () => {
    const third = decideFailure(new ProviderSchemaError("drift"), { ...base, consecutiveFailures: 2 });
    expect(third.status).toBe("error");
    expect(third.nextSyncAt!.getTime() - now.getTime()).toBe(2 * 3_600_000);
    const fourth = decideFailure(new ProviderSchemaError("drift"), {
      ...base,
      consecutiveFailures: 3,
      status: "error",
    });
    expect(fourth.nextSyncAt!.getTime() - now.getTime()).toBe(4 * 3_600_000);
    expect(backoffMs(50, config)).toBe(config.MAX_BACKOFF_HOURS * 3_600_000);
  });
});

describe("task ids and slots", () => {
  it("when fan-outs run every 20-minute tick, then each tick has its own task id", () => {
    const ticks = ["10:00:01", "10:19:59", "10:20:00", "10:40:00"].map((t) =>
      slotStart(new Date(`2030-01-01T${t}Z`), config.SYNC_TICK_MINUTES),
    );
    expect(config.SYNC_TICK_MINUTES).toBe(20);
    expect(ticks[0]).toBe(ticks[1]);
    expect(new Set(ticks.map((t) => syncTaskId("u1", "spotify", t))).size).toBe(3);
  });

  it("when two fan-outs run in the same slot, then they compute the same task id; the next slot differs", () => {
    const a = slotStart(new Date("2030-01-01T10:00:01Z"), 60);
    const b = slotStart(new Date("2030-01-01T10:59:59Z"), 60);
    const c = slotStart(new Date("2030-01-01T11:00:00Z"), 60);
    expect(a).toBe(b);
    expect(syncTaskId("u1", "spotify", a)).toBe(syncTaskId("u1", "spotify", b));
    expect(syncTaskId("u1", "spotify", a)).not.toBe(syncTaskId("u1", "spotify", c));
    expect(syncTaskId("u1", "spotify", a)).not.toBe(syncTaskId("u1", "instagram", a));
    expect(syncTaskId("u1", "spotify", a)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("regular sync times", () => {
  const config = { SYNC_INTERVAL_MINUTES: 60, SYNC_TICK_MINUTES: 20 };
  // The fan-out runs every tick (20 min), so the next sync counts from the start of this tick
  // (10:20), not of the hour: a sync at 10:25 is due again at 11:20, one interval later.
  it("when a provider has its own longer interval, then the next sync is that many minutes after this tick", () => {
    const now = new Date("2026-12-01T10:25:00Z");
    expect(nextRegularSync(now, config).toISOString()).toBe("2026-12-01T11:20:00.000Z");
    expect(nextRegularSync(now, config, 360).toISOString()).toBe("2026-12-01T16:20:00.000Z");
    expect(nextRegularSync(now, { SYNC_INTERVAL_MINUTES: 60, SYNC_TICK_MINUTES: 60 }).toISOString()).toBe(
      "2026-12-01T11:00:00.000Z",
    );
  });
});

describe("the active-listener interval", () => {
  const config = { SYNC_INTERVAL_MINUTES: 60, SYNC_TICK_MINUTES: 20 };
  const spotifyLike = { syncIntervalMinutes: 60, activeSyncMinutes: 20 };
  const now = new Date("2026-12-01T10:25:00Z");
  const at = (d: Date) => d.toISOString();

  it("when a sync logged new plays, then the next one is activeSyncMinutes after this tick", () => {
    expect(at(nextSyncAfterSuccess(now, config, spotifyLike, { playsLogged: 3, gap: false }))).toBe(
      "2026-12-01T10:40:00.000Z",
    );
  });

  it("when a sync found a gap without new plays counted, then it is still active", () => {
    expect(at(nextSyncAfterSuccess(now, config, spotifyLike, { playsLogged: 0, gap: true }))).toBe(
      "2026-12-01T10:40:00.000Z",
    );
  });

  it("when a sync logged nothing new, or the provider has no play log, then the regular interval applies", () => {
    expect(at(nextSyncAfterSuccess(now, config, spotifyLike, { playsLogged: 0, gap: false }))).toBe(
      "2026-12-01T11:20:00.000Z",
    );
    expect(at(nextSyncAfterSuccess(now, config, spotifyLike, null))).toBe("2026-12-01T11:20:00.000Z");
    const noLog = { syncIntervalMinutes: 360, activeSyncMinutes: null };
    expect(at(nextSyncAfterSuccess(now, config, noLog, { playsLogged: 9, gap: false }))).toBe(
      "2026-12-01T16:20:00.000Z",
    );
  });
});
