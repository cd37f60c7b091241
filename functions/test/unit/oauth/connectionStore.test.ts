import { Timestamp } from "firebase-admin/firestore";
import { newConnection } from "../../../src/connections/model";
import { connectionWrite, disconnectFields } from "../../../src/oauth/connectionStore";

const T0 = new Date("2026-10-01T00:00:00Z");
const NOW = new Date("2026-11-01T12:00:00Z");
const args = {
  uid: "u1",
  provider: "spotify" as const,
  account: { id: "acct-1", displayName: "Ada" },
  scopes: ["user-top-read"],
  now: NOW,
};

function broken() {
  return {
    ...newConnection({
      uid: "u1",
      provider: "spotify",
      providerAccountId: "acct-1",
      providerAccountName: "Old",
      scopes: [],
      now: T0,
    }),
    status: "needs_reauth" as const,
    lastError: { code: "needs_reauth", message: "revoked", at: Timestamp.fromDate(T0) },
    consecutiveFailures: 4,
    reauthReason: "Spotify access was revoked.",
    lastSuccessAt: Timestamp.fromDate(T0),
    counts: { playlists: 12 },
  };
}

describe("connectionWrite", () => {
  it("when there is no connection yet, then a fresh connected document is set, due for sync now", () => {
    const w = connectionWrite(undefined, args);
    expect(w.mode).toBe("set");
    if (w.mode !== "set") throw new Error("unreachable");
    expect(w.doc).toMatchObject({
      uid: "u1",
      provider: "spotify",
      status: "connected",
      providerAccountId: "acct-1",
      providerAccountName: "Ada",
      scopes: ["user-top-read"],
      lastError: null,
      consecutiveFailures: 0,
    });
    expect(w.doc.nextSyncAt.toDate()).toEqual(NOW);
  });

  it("when the same account reconnects after failing, then its error state is cleared and its history kept", () => {
    const w = connectionWrite(broken(), args);
    expect(w.mode).toBe("update");
    if (w.mode !== "update") throw new Error("unreachable");
    expect(w.fields).toMatchObject({
      status: "connected",
      providerAccountName: "Ada",
      lastError: null,
      consecutiveFailures: 0,
      reauthReason: null,
    });
    expect((w.fields.nextSyncAt as Timestamp).toDate()).toEqual(NOW);
    expect("lastSuccessAt" in w.fields).toBe(false);
    expect("counts" in w.fields).toBe(false);
    // A sync still running on the old grant loses its lease (its writes are fenced by it)…
    expect(w.fields.lease).toBeNull();
    // …and may have written snapshots it never recorded: the next sync reads them.
    expect(w.fields.snapshotHashes).toBeNull();
  });

  it("when a different provider account connects, then the old history is not carried over", () => {
    const w = connectionWrite(broken(), { ...args, account: { id: "acct-2", displayName: "Bo" } });
    expect(w.mode).toBe("set");
    if (w.mode !== "set") throw new Error("unreachable");
    expect(w.doc.counts).toEqual({});
    expect(w.doc.lastSuccessAt).toBeNull();
  });

  it("when the existing document is unreadable, then it is replaced by a fresh one", () => {
    expect(connectionWrite({ status: 42 }, args).mode).toBe("set");
  });
});

describe("disconnectFields", () => {
  it("when disconnecting, then only status, time, reason, lease and the known snapshot hashes change", () => {
    const f = disconnectFields(NOW);
    expect(Object.keys(f).sort()).toEqual(["lease", "reauthReason", "snapshotHashes", "status", "updatedAt"]);
    // A sync cut off by the disconnect may have written snapshots it never recorded.
    expect(f.snapshotHashes).toBeNull();
    expect(f.status).toBe("disconnected");
    expect(f.updatedAt!.toDate()).toEqual(NOW);
  });

  it("when disconnecting with the data erased, then the erase time is recorded for a sync still running", () => {
    const f = disconnectFields(NOW, { dataErased: true });
    expect(f.dataErasedAt!.toDate()).toEqual(NOW);
    expect(f.mirror).toBeNull(); // the image mirror's manifest goes with the erased objects
    expect(disconnectFields(NOW, { dataErased: false })).not.toHaveProperty("dataErasedAt");
    expect(disconnectFields(NOW, { dataErased: false })).not.toHaveProperty("mirror");
  });
});
