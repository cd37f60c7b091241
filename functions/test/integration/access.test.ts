/**
 * Who may call, over real HTTP against the emulators: the callables (syncNow, disconnect) and
 * `media` (through the Hosting rewrite) refuse a revoked session; Sync now refuses a connection
 * whose error backoff has not expired, with the time it ends (and allows it once it has).
 */
import { randomUUID } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { auth, db } from "../../src/admin";
import { SESSION_ENDED } from "../../src/access/caller";
import { newConnection } from "../../src/connections/model";
import { type Provider, firestorePaths, storagePaths } from "../../src/paths";
import { requestManualSync } from "../../src/sync/manual";
import { EMULATORS, PROJECT_ID, REGION } from "../../../scripts/lib/local-env";
import { FakeClock, RecordingQueue } from "../support/sync-fakes";
import { newSignedInPerson } from "../support/people";

const HOSTING = `http://${EMULATORS.hosting.host}:${EMULATORS.hosting.port}`;
const FUNCTIONS = `http://${EMULATORS.functions.host}:${EMULATORS.functions.port}/${PROJECT_ID}/${REGION}`;

// The first call of each function cold-starts it in the emulator.
jest.setTimeout(60_000);

interface Person {
  uid: string;
  idToken: string;
}

const newPerson = (): Promise<Person> => newSignedInPerson("access");

/**
 * Revokes the person's sessions. Auth keeps the revocation time in whole seconds and compares it
 * with the token's sign-in second, so wait until a new second has begun after signing in.
 */
async function revoke(p: Person): Promise<void> {
  await new Promise((r) => setTimeout(r, 1_100));
  await auth().revokeRefreshTokens(p.uid);
}

interface CallableError {
  status: string;
  message: string;
  details?: { reason?: string; retryAt?: string | null };
}

/** Calls a callable the way the web SDK does; the error of a refused call, or null on success. */
async function call(name: string, p: Person, data: unknown): Promise<CallableError | null> {
  const res = await fetch(`${FUNCTIONS}/${name}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${p.idToken}` },
    body: JSON.stringify({ data }),
  });
  const body = (await res.json()) as { result?: unknown; error?: CallableError };
  return body.error ?? null;
}

async function seedConnection(uid: string, provider: Provider, fields: Record<string, unknown>): Promise<void> {
  const base = newConnection({
    uid,
    provider,
    providerAccountId: "acct",
    providerAccountName: "Acct",
    scopes: [],
    now: new Date(),
  });
  await db()
    .doc(firestorePaths.connection(uid, provider))
    .set({ ...base, ...fields });
}

describe("revoked sessions", () => {
  it("when a person's sessions are revoked, then syncNow and disconnect refuse their old ID token with a sentence", async () => {
    const p = await newPerson();
    // Before: the token passes the checks (no connection yet, so Sync now says so).
    expect(await call("syncNow", p, { provider: "spotify" })).toMatchObject({
      status: "FAILED_PRECONDITION",
      details: { reason: "not_connected" },
    });
    await revoke(p);
    expect(await call("syncNow", p, { provider: "spotify" })).toMatchObject({
      status: "UNAUTHENTICATED",
      message: SESSION_ENDED,
    });
    expect(await call("disconnect", p, { provider: "spotify" })).toMatchObject({
      status: "UNAUTHENTICATED",
      message: SESSION_ENDED,
    });
  });

  // Against the Auth emulator firebase-admin checks revocation on every verification; in production
  // media's per-instance cache does (unit-tested in test/unit/access/caller.test.ts).
  it("when a person's sessions are revoked, then media refuses their old ID token (401) through Hosting", async () => {
    const [kept, revoked] = [await newPerson(), await newPerson()];
    const cover = (uid: string) => `${HOSTING}/api/media/${storagePaths.mirrorObject(uid, "spotify", "p1", "jpg")}`;
    const get = (p: Person) => fetch(cover(p.uid), { headers: { Authorization: `Bearer ${p.idToken}` } });
    await revoke(revoked);
    // The token that was not revoked gets past the checks: the object simply does not exist.
    expect((await get(kept)).status).toBe(404);
    const res = await get(revoked);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe(SESSION_ENDED);
  });
});

describe("Sync now during an error backoff", () => {
  it("when the connection is in error and its backoff has not expired, then syncNow is refused (resource-exhausted) with the time it ends", async () => {
    const p = await newPerson();
    const until = new Date(Date.now() + 2 * 3_600_000);
    await seedConnection(p.uid, "spotify", {
      status: "error",
      consecutiveFailures: 4,
      nextSyncAt: Timestamp.fromDate(until),
    });
    const e = await call("syncNow", p, { provider: "spotify" });
    expect(e).toMatchObject({ status: "RESOURCE_EXHAUSTED", details: { reason: "backoff" } });
    expect(new Date(e!.details!.retryAt!).getTime()).toBe(until.getTime());
    expect(e!.message).toMatch(/failed several times/);
    // The refusal did not spend the cooldown.
    expect((await db().doc(firestorePaths.connection(p.uid, "spotify")).get()).get("lastManualSyncAt")).toBeNull();
  });

  it("when the backoff has expired, then Sync now enqueues a sync", async () => {
    const uid = `access-${randomUUID()}`;
    const clock = new FakeClock();
    await seedConnection(uid, "instagram", {
      status: "error",
      consecutiveFailures: 4,
      nextSyncAt: Timestamp.fromMillis(clock.t + 60_000),
    });
    const queue = new RecordingQueue();
    const deps = { db: db(), queue, clock, config: { MANUAL_SYNC_COOLDOWN_SECONDS: 300, MAX_PAUSE_HOURS: 24 } };
    await expect(requestManualSync(deps, uid, { provider: "instagram" })).rejects.toMatchObject({
      reason: "backoff",
      retryAt: new Date(clock.t + 60_000),
    });
    expect(queue.tasks).toHaveLength(0);
    clock.advance(60_000);
    expect((await requestManualSync(deps, uid, { provider: "instagram" })).enqueued).toBe(true);
    expect(queue.tasks).toHaveLength(1);
  });
});
