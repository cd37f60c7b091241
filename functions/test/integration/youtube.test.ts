/**
 * YouTube end to end against the fake Google server (127.0.0.1:9090, where functions/.env.local
 * points): the real module — Google's client library over the product's HttpClient — syncing into
 * the Firestore emulator, every fault kind and what the policy does with it, the app-wide quota
 * pause until midnight Pacific time, disconnect revoking the grant at Google, and the 30-day
 * retention of YouTube data.
 */
import { randomUUID } from "node:crypto";
import { type DocumentReference, Timestamp } from "firebase-admin/firestore";
import { bucket, db } from "../../src/admin";
import { loadConfig } from "../../src/config";
import { newConnection } from "../../src/connections/model";
import { tokenStoreFromConfig } from "../../src/crypto/tokenStore";
import { FirestoreConnectionStore } from "../../src/oauth/connectionStore";
import { FirestoreStorageEraser, disconnect, storedTokenRevoker } from "../../src/oauth/disconnect";
import { firestorePaths } from "../../src/paths";
import { getProvider } from "../../src/providers/registry";
import { youtube } from "../../src/providers/youtube";
import { expireStaleData } from "../../src/sync/retention";
import { runSync } from "../../src/sync/runSync";
import { syncDeps } from "../../src/sync/runtime";
import { readSnapshot } from "../../src/sync/snapshots";
import { nextMidnight } from "../../src/time";
import { type FakeProviders, startFakeProviders } from "../../../scripts/fake-providers";
import type { YouTubeAccountSpec } from "../../../scripts/fake-providers/youtube";

jest.setTimeout(120_000);

const config = loadConfig();
const tokens = tokenStoreFromConfig();
let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders({ port: 9090 });
});
afterAll(async () => {
  await fake?.stop();
});

interface Conn {
  uid: string;
  accountId: string;
}

const connRef = (c: Conn): DocumentReference => db().doc(firestorePaths.connection(c.uid, "youtube"));
const snapshot = (c: Conn, name: string) => readSnapshot(db(), c.uid, "youtube", name);
const sync = (c: Conn, overrides: Partial<typeof config> = {}) =>
  runSync(
    syncDeps({ ...config, ...overrides }),
    { uid: c.uid, provider: "youtube", reason: "manual", requestedAt: Date.now() },
    { retryCount: 0 },
  );
const ctx = () => ({ config, now: () => new Date() });

/** A fake Google account with tokens stored and a connection, as the OAuth callback leaves them. */
async function connect(spec: YouTubeAccountSpec = {}): Promise<Conn> {
  const uid = `yt-${randomUUID()}`;
  const { id } = fake.addAccount("youtube", { likedVideos: 3, subscriptions: 2, playlists: 2, ...spec });
  const t = fake.issueTokens("youtube", id);
  const now = new Date();
  await tokens.save(uid, "youtube", {
    accessToken: t.accessToken,
    ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}),
    expiresAt: new Date(now.getTime() + t.expiresIn * 1000),
    issuedAt: now,
    scopes: t.scopes,
  });
  await connRef({ uid, accountId: id }).set(
    newConnection({
      uid,
      provider: "youtube",
      providerAccountId: id,
      providerAccountName: null,
      scopes: t.scopes,
      now,
    }),
  );
  return { uid, accountId: id };
}

describe("a YouTube sync against the fake", () => {
  it("when an account has every page of data, then each listing is stored whole, units are counted and the next sync is six hours on", async () => {
    const c = await connect({ likedVideos: 120, subscriptions: 51, playlists: 7 });
    const t0 = Date.now();
    const r = await sync(c);
    expect(r).toMatchObject({ outcome: "success" });
    // 1 channel + 3 pages of liked videos (50, 50, 20) + 2 of subscriptions + 1 of playlists.
    expect(r.counts).toMatchObject({ likedVideos: 120, subscriptions: 51, playlists: 7, quotaUnits: 7, skipped: 0 });
    const liked = (await snapshot(c, "liked-videos")) as {
      total: number;
      items: { id: string; thumbnailUrl: string }[];
    };
    expect(liked.total).toBe(120);
    expect(new Set(liked.items.map((v) => v.id)).size).toBe(120);
    // Thumbnails stay on the provider's URLs; nothing goes to Storage.
    expect(liked.items[0]!.thumbnailUrl).toMatch(/^http:\/\/127\.0\.0\.1:9090\/cdn\/youtube\//);
    const [objects] = await bucket().getFiles({ prefix: `${c.uid}/` });
    expect(objects).toHaveLength(0);
    const channel = (await snapshot(c, "channel")) as { channel: { statistics: Record<string, unknown> } };
    expect(channel.channel.statistics).toEqual({
      subscribers: expect.any(Number),
      views: expect.any(Number),
      videos: expect.any(Number),
    });
    const conn = (await connRef(c).get()).data()!;
    expect(conn.status).toBe("connected");
    expect(conn.counts).toMatchObject({ likedVideos: 120, quotaUnits: 7 });
    // YOUTUBE_SYNC_INTERVAL_MINUTES (360) from the start of this fan-out tick (SYNC_TICK_MINUTES;
    // the next tick's start when the sync ended in it).
    const tick = config.SYNC_TICK_MINUTES * 60_000;
    const slot = Math.floor(t0 / tick) * tick;
    expect([slot + 360 * 60_000, slot + tick + 360 * 60_000]).toContain(conn.nextSyncAt.toMillis());
  });

  it("when the Google account has no channel, then the sync succeeds with the message and one unit", async () => {
    const c = await connect({ hasChannel: false });
    const r = await sync(c);
    expect(r).toMatchObject({ outcome: "success" });
    expect(r.counts).toMatchObject({ quotaUnits: 1, likedVideos: 0 });
    expect(await snapshot(c, "channel")).toEqual({
      channel: null,
      message: expect.stringMatching(/no YouTube channel/),
    });
    expect((await connRef(c).get()).get("status")).toBe("connected");
  });

  it("when the channel hides its subscriber count, then it is stored as null", async () => {
    const c = await connect({ hiddenSubscriberCount: true });
    await sync(c);
    expect(await snapshot(c, "channel")).toMatchObject({ channel: { statistics: { subscribers: null } } });
  });

  it("when the access token has expired, then the sync refreshes it, keeps the refresh token and succeeds", async () => {
    const c = await connect();
    const before = await tokens.load(c.uid, "youtube");
    const expired = { ...before!, expiresAt: new Date(Date.now() - 1000) };
    await tokens.save(c.uid, "youtube", expired);
    const r = await sync(c);
    expect(r).toMatchObject({ outcome: "success", tokenRefreshed: true });
    // Google keeps the refresh token, and the new access token (an hour) expires before the next
    // YouTube sync (6 h): not worth a write, the stored tokens stay as they were.
    const after = await tokens.load(c.uid, "youtube");
    expect(after).toEqual(expired);
    // With syncs closer than the token's life it is saved, and the refresh token is kept.
    await tokens.save(c.uid, "youtube", expired);
    const every20 = { SYNC_INTERVAL_MINUTES: 20, YOUTUBE_SYNC_INTERVAL_MINUTES: 20 };
    expect(await sync(c, every20)).toMatchObject({ outcome: "success", tokenRefreshed: true });
    const saved = await tokens.load(c.uid, "youtube");
    expect(saved!.accessToken).not.toBe(before!.accessToken);
    expect(saved!.refreshToken).toBe(before!.refreshToken);
  });
});

describe("YouTube faults", () => {
  it("when the project's daily quota is used up, then YouTube pauses for the whole app until midnight Pacific time", async () => {
    const c = await connect();
    const clear = fake.fault("youtube", { accountId: c.accountId, endpoint: "videos", kind: "quota" });
    const pause = db().doc(firestorePaths.providerState("youtube"));
    try {
      const t0 = new Date();
      const r = await sync(c);
      expect(r).toMatchObject({ outcome: "rate_limited", retry: false });
      const conn = (await connRef(c).get()).data()!;
      expect(conn.lastError.code).toBe("quota_exceeded");
      const reset = nextMidnight(t0, "America/Los_Angeles").getTime();
      expect(conn.nextSyncAt.toMillis()).toBe(reset);
      expect((await pause.get()).get("pausedUntil").toMillis()).toBe(reset);
      // Another person's sync makes no request while the pause holds.
      const other = await connect();
      const r2 = await sync(other);
      expect(r2.outcome).toBe("rate_limited");
      expect(r2.requests ?? 0).toBe(0);
    } finally {
      await pause.delete();
      clear();
    }
  });

  it.each([
    ["5xx", { kind: "5xx", endpoint: "subscriptions" }, "transient", true, "connected"],
    ["hang", { kind: "hang", endpoint: "playlists" }, "transient", true, "connected"],
    ["malformed JSON", { kind: "malformed", endpoint: "videos" }, "failed", false, "connected"],
    ["schema drift", { kind: "schema", endpoint: "channels" }, "failed", false, "connected"],
    ["403", { kind: "403", endpoint: "channels" }, "failed", false, "connected"],
    ["invalid_grant on refresh", { kind: "invalid_grant" }, "reauth", false, "needs_reauth"],
  ] as const)(
    "when Google fails with %s, then the outcome, retry and status follow the policy and the last good data is intact",
    async (name, f, outcome, retry, status) => {
      const c = await connect();
      expect((await sync(c)).outcome).toBe("success");
      const good = await snapshot(c, "liked-videos");
      if (name === "invalid_grant on refresh") {
        const t = await tokens.load(c.uid, "youtube");
        await tokens.save(c.uid, "youtube", { ...t!, expiresAt: new Date(Date.now() - 1000) });
      }
      fake.fault("youtube", { accountId: c.accountId, ...f });
      const r = await sync(c);
      expect(r).toMatchObject({ outcome, retry });
      const conn = (await connRef(c).get()).data()!;
      expect(conn.status).toBe(status);
      expect(conn.lastError).not.toBeNull();
      expect(conn.lease).toBeNull();
      if (status === "needs_reauth") expect(conn.reauthReason).toMatch(/reconnect YouTube/);
      expect(await snapshot(c, "liked-videos")).toEqual(good);
    },
  );

  it("when one liked video is malformed, then it is skipped and counted and the rest is stored", async () => {
    const c = await connect({ likedVideos: 5 });
    fake.fault("youtube", { accountId: c.accountId, endpoint: "videos", kind: "bad-item" });
    const r = await sync(c);
    expect(r.outcome).toBe("success");
    expect(r.counts!.skipped).toBeGreaterThan(0);
    expect(r.counts!.likedVideos).toBe(5 - r.counts!.skipped!);
  });
});

describe("YouTube disconnect and retention", () => {
  const eraser = () => new FirestoreStorageEraser(db(), bucket());

  it("when the person disconnects YouTube, then the grant is revoked at Google and the data is deleted", async () => {
    const c = await connect();
    await sync(c);
    const stored = await tokens.load(c.uid, "youtube");
    const res = await disconnect(
      {
        now: () => new Date(),
        connections: new FirestoreConnectionStore(db(), tokens),
        eraser: eraser(),
        revoke: storedTokenRevoker({ tokens, provider: getProvider, context: ctx }),
      },
      c.uid,
      { provider: "youtube" },
    );
    expect(res).toMatchObject({ revoked: true, hadConnection: true });
    expect(res.deletedDocuments).toBeGreaterThanOrEqual(4);
    expect(await snapshot(c, "channel")).toBeNull();
    expect(await tokens.load(c.uid, "youtube")).toBeNull();
    // Google no longer honours the refresh token (revoking one token ends the whole grant).
    await expect(youtube.refresh(ctx(), stored!)).rejects.toMatchObject({ code: "needs_reauth" });
  });

  it("when a connection's last success is older than 30 days, then its YouTube data is deleted once and the connection stays", async () => {
    const stale = await connect();
    const fresh = await connect();
    await sync(stale);
    await sync(fresh);
    const old = Timestamp.fromMillis(Date.now() - 31 * 86_400_000);
    await connRef(stale).update({ lastSuccessAt: old, status: "needs_reauth" });
    const deps = { db: db(), eraser: eraser(), now: () => new Date() };
    const first = await expireStaleData(deps, "youtube");
    expect(first.expired).toBeGreaterThanOrEqual(1);
    expect(await snapshot(stale, "liked-videos")).toBeNull();
    expect(await snapshot(fresh, "liked-videos")).not.toBeNull();
    const conn = (await connRef(stale).get()).data()!;
    expect(conn.status).toBe("needs_reauth");
    expect(conn.dataExpiredAt.toMillis()).toBeGreaterThan(old.toMillis());
    // Already expired since its last success: not erased again.
    const second = await expireStaleData(deps, "youtube");
    expect(second.stale).toBe(first.stale);
    expect(second.expired).toBe(0);
  });

  it("when a provider keeps data without an age limit (Spotify), then retention leaves it alone", async () => {
    expect(await expireStaleData({ db: db(), eraser: eraser(), now: () => new Date() }, "spotify")).toMatchObject({
      stale: 0,
      expired: 0,
    });
  });
});
