import { Timestamp } from "firebase-admin/firestore";
import {
  configuredDispatchRate,
  parsePendingTask,
  pendingState,
  queueCapacity,
  staleTaskSkip,
} from "../../../src/sync/backlog";
import type { SyncTaskPayload } from "../../../src/sync/ports";

const now = new Date("2026-03-01T12:00:00Z");
const minutes = (n: number) => n * 60_000;
const payload = (reason: SyncTaskPayload["reason"], ageMs: number): SyncTaskPayload => ({
  uid: "u1",
  provider: "spotify",
  reason,
  requestedAt: now.getTime() - ageMs,
});

describe("staleTaskSkip", () => {
  it("when a scheduled task is older than the expiry, then it is stale; younger, it is not", () => {
    const config = { PENDING_TASK_EXPIRY_MINUTES: 180 };
    expect(staleTaskSkip(payload("scheduled", minutes(181)), now, config)).toBe(true);
    expect(staleTaskSkip(payload("scheduled", minutes(180)), now, config)).toBe(true);
    expect(staleTaskSkip(payload("scheduled", minutes(179)), now, config)).toBe(false);
    expect(staleTaskSkip(payload("scheduled", 0), now, config)).toBe(false);
  });

  it("when a manual or connect task is old, then it is never stale", () => {
    const config = { PENDING_TASK_EXPIRY_MINUTES: 10 };
    expect(staleTaskSkip(payload("manual", minutes(600)), now, config)).toBe(false);
    expect(staleTaskSkip(payload("connect", minutes(600)), now, config)).toBe(false);
  });

  it("when the config has no expiry, then the setting's default (180 minutes) applies", () => {
    expect(staleTaskSkip(payload("scheduled", minutes(179)), now, {})).toBe(false);
    expect(staleTaskSkip(payload("scheduled", minutes(181)), now, {})).toBe(true);
  });
});

describe("pendingState", () => {
  const slot = now.getTime() - minutes(5);
  const task = (slotMs: number, enqueuedAgoMs: number) => ({
    id: "t",
    slot: Timestamp.fromMillis(slotMs),
    enqueuedAt: Timestamp.fromMillis(now.getTime() - enqueuedAgoMs),
  });
  const config = { PENDING_TASK_EXPIRY_MINUTES: 60 };

  it("tells no task, this slot's task, an older slot's waiting task and an expired one apart", () => {
    expect(pendingState(null, now, slot, config)).toBe("none");
    expect(pendingState(task(slot, minutes(4)), now, slot, config)).toBe("same_slot");
    expect(pendingState(task(slot - minutes(20), minutes(24)), now, slot, config)).toBe("pending");
    expect(pendingState(task(slot - minutes(60), minutes(61)), now, slot, config)).toBe("expired");
  });

  it("reads a malformed record as none", () => {
    expect(parsePendingTask({ id: 3 })).toBeNull();
    expect(parsePendingTask(undefined)).toBeNull();
    const t = task(slot, 0);
    expect(parsePendingTask(t)).toEqual(t);
  });
});

describe("capacity", () => {
  it("is the dispatch rate × 3600 against the due connections", () => {
    const base = { provider: "spotify" as const, lane: "shared" as const, enqueued: 0, skippedPending: 0 };
    expect(queueCapacity({ ...base, due: 18_000, ratePerSecond: 5 })).toMatchObject({
      perHour: 18_000,
      overCapacity: false,
    });
    expect(queueCapacity({ ...base, due: 18_001, ratePerSecond: 5 })).toMatchObject({
      perHour: 18_000,
      overCapacity: true,
    });
    expect(queueCapacity({ ...base, due: 10, ratePerSecond: 0.5 }).perHour).toBe(1_800);
  });

  it("reads the configured rate of a queue, or its catalog default", () => {
    expect(configuredDispatchRate({ SPOTIFY_QUEUE_MAX_DISPATCHES_PER_SECOND: 7 }, "spotify")).toBe(7);
    expect(configuredDispatchRate({}, "spotify")).toBe(5);
    expect(configuredDispatchRate({ SPOTIFY_OWN_APPS_QUEUE_MAX_DISPATCHES_PER_SECOND: 9 }, "spotify", "own")).toBe(9);
  });
});
