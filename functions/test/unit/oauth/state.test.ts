import { createHash } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import type { Firestore } from "firebase-admin/firestore";
import {
  FirestoreStateStore,
  STATE_TTL_MS,
  checkState,
  isWellFormedState,
  newState,
  stateId,
  stateRecord,
} from "../../../src/oauth/state";

const NOW = new Date("2026-11-01T12:00:00Z");
const record = (over: Record<string, unknown> = {}) => ({
  ...stateRecord({ uid: "u1", provider: "spotify", returnTo: "https://app.example.test/", now: NOW }),
  ...over,
});

describe("newState", () => {
  it("when a state is made, then it is 32 random bytes in base64url and its id is the hex SHA-256 of it", () => {
    const { state, id } = newState(() => Buffer.alloc(32, 0xfb));
    expect(state).toBe(Buffer.alloc(32, 0xfb).toString("base64url"));
    expect(state).toHaveLength(43);
    expect(isWellFormedState(state)).toBe(true);
    expect(id).toBe(createHash("sha256").update(state).digest("hex"));
    expect(id).not.toContain(state);
  });

  it("when two states are made with the real random source, then they differ", () => {
    expect(newState().state).not.toBe(newState().state);
  });

  it("when a record is built, then it expires 10 minutes after creation and is not consumed", () => {
    const r = record();
    expect(r.expiresAt.toMillis() - r.createdAt.toMillis()).toBe(10 * 60 * 1000);
    expect(STATE_TTL_MS).toBe(600_000);
    expect(r.consumedAt).toBeNull();
  });
});

describe("checkState", () => {
  it("when the record is valid, unused, unexpired and for this provider, then it is accepted", () => {
    const check = checkState(record(), "spotify", new Date(NOW.getTime() + 60_000));
    expect(check).toEqual({ ok: true, record: record() });
  });

  it("when there is no record, then it is rejected as unknown", () => {
    expect(checkState(undefined, "spotify", NOW)).toEqual({ ok: false, reason: "unknown" });
  });

  it("when the record is not a state record, then it is rejected as unknown", () => {
    expect(checkState({ uid: "u1" }, "spotify", NOW)).toEqual({ ok: false, reason: "unknown" });
  });

  it("when the record was consumed, then it is rejected as used", () => {
    expect(checkState(record({ consumedAt: Timestamp.fromDate(NOW) }), "spotify", NOW)).toEqual({
      ok: false,
      reason: "used",
    });
  });

  it("when exactly 10 minutes have passed, then it is rejected as expired", () => {
    expect(checkState(record(), "spotify", new Date(NOW.getTime() + STATE_TTL_MS))).toEqual({
      ok: false,
      reason: "expired",
    });
  });

  it("when it was issued for another provider, then it is rejected as wrong provider", () => {
    expect(checkState(record(), "instagram", NOW)).toEqual({ ok: false, reason: "wrong_provider" });
  });
});

describe("FirestoreStateStore.consume without a usable state", () => {
  const untouchable = new Proxy({} as Firestore, {
    get: () => {
      throw new Error("Firestore must not be touched");
    },
  });
  const store = new FirestoreStateStore(untouchable);

  it("when the state is absent, then it is rejected as missing without reading Firestore", async () => {
    await expect(store.consume(undefined, "spotify", NOW)).resolves.toEqual({ ok: false, reason: "missing" });
    await expect(store.consume("", "spotify", NOW)).resolves.toEqual({ ok: false, reason: "missing" });
  });

  it("when the state is not 43 base64url characters, then it is rejected as malformed without reading Firestore", async () => {
    await expect(store.consume("abc/def", "spotify", NOW)).resolves.toEqual({ ok: false, reason: "malformed" });
    await expect(store.consume("A".repeat(44), "spotify", NOW)).resolves.toEqual({ ok: false, reason: "malformed" });
  });

  it("when two different states are hashed, then their ids differ and are 64 hex characters", () => {
    expect(stateId("a")).toMatch(/^[0-9a-f]{64}$/);
    expect(stateId("a")).not.toBe(stateId("b"));
  });
});
