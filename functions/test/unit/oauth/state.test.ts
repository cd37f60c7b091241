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
const BROWSER = createHash("sha256").update("nonce-of-the-starting-browser").digest("hex");
const OTHER_BROWSER = createHash("sha256").update("nonce-of-another-browser").digest("hex");
const record = (over: Record<string, unknown> = {}) => ({
  ...stateRecord({
    uid: "u1",
    provider: "spotify",
    returnTo: "https://app.example.test/",
    browserHash: BROWSER,
    now: NOW,
  }),
  ...over,
});
/** The callback's side: this provider's path, this browser's cookie hash, at `now`. */
const at = (now: Date, provider: "spotify" | "instagram" = "spotify", browserHash: string | null = BROWSER) => ({
  provider,
  browserHash: browserHash ?? undefined,
  now,
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
    const check = checkState(record(), at(new Date(NOW.getTime() + 60_000)));
    expect(check).toEqual({ ok: true, record: record() });
  });

  it("when there is no record, then it is rejected as unknown", () => {
    expect(checkState(undefined, at(NOW))).toEqual({ ok: false, reason: "unknown" });
  });

  it("when the record is not a state record, then it is rejected as unknown", () => {
    expect(checkState({ uid: "u1" }, at(NOW))).toEqual({ ok: false, reason: "unknown" });
  });

  it("when the record was consumed, then it is rejected as used", () => {
    expect(checkState(record({ consumedAt: Timestamp.fromDate(NOW) }), at(NOW))).toEqual({
      ok: false,
      reason: "used",
    });
  });

  it("when exactly 10 minutes have passed, then it is rejected as expired", () => {
    expect(checkState(record(), at(new Date(NOW.getTime() + STATE_TTL_MS)))).toEqual({
      ok: false,
      reason: "expired",
    });
  });

  it("when it was issued for another provider, then it is rejected as wrong provider", () => {
    expect(checkState(record(), at(NOW, "instagram"))).toEqual({ ok: false, reason: "wrong_provider" });
  });

  it("when the callback comes from another browser than the one that started the flow, then it is rejected as wrong browser", () => {
    expect(checkState(record(), at(NOW, "spotify", OTHER_BROWSER))).toEqual({ ok: false, reason: "wrong_browser" });
  });

  it("when the callback carries no browser cookie at all, then it is rejected as wrong browser", () => {
    expect(checkState(record(), at(NOW, "spotify", null))).toEqual({ ok: false, reason: "wrong_browser" });
  });

  it("when a record from before the browser binding has no browser hash, then no browser matches it", () => {
    const legacy = record();
    delete (legacy as { browserHash?: string }).browserHash;
    expect(checkState(legacy, at(NOW))).toEqual({ ok: false, reason: "wrong_browser" });
  });

  it("when a state is both expired and from another browser, then it says expired (liveness is checked first)", () => {
    expect(checkState(record(), at(new Date(NOW.getTime() + STATE_TTL_MS), "spotify", OTHER_BROWSER))).toEqual({
      ok: false,
      reason: "expired",
    });
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
    await expect(store.consume(undefined, at(NOW))).resolves.toEqual({ ok: false, reason: "missing" });
    await expect(store.consume("", at(NOW))).resolves.toEqual({ ok: false, reason: "missing" });
  });

  it("when the state is not 43 base64url characters, then it is rejected as malformed without reading Firestore", async () => {
    await expect(store.consume("abc/def", at(NOW))).resolves.toEqual({ ok: false, reason: "malformed" });
    await expect(store.consume("A".repeat(44), at(NOW))).resolves.toEqual({ ok: false, reason: "malformed" });
  });

  it("when two different states are hashed, then their ids differ and are 64 hex characters", () => {
    expect(stateId("a")).toMatch(/^[0-9a-f]{64}$/);
    expect(stateId("a")).not.toBe(stateId("b"));
  });
});
