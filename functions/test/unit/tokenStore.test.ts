import { randomBytes } from "node:crypto";
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import {
  type DocWriter,
  TokenDocumentError,
  createTokenStore,
  openTokens,
  resealTokenDoc,
  sealTokens,
} from "../../src/crypto/tokenStore";
import { TokenDecryptError, Vault } from "../../src/crypto/vault";
import { ReauthRequiredError } from "../../src/errors";
import type { TokenSet } from "../../src/providers/types";
import { MemoryTokenStore } from "../support/memory-token-store";

const key = (id: string) => ({ id, key: randomBytes(32) });
const NOW = new Date("2026-01-02T03:04:05.000Z");

const tokens = (over: Partial<TokenSet> = {}): TokenSet => ({
  accessToken: "AT-very-secret-access",
  refreshToken: "RT-very-secret-refresh",
  expiresAt: new Date("2026-01-02T04:04:05.000Z"),
  issuedAt: new Date("2026-01-02T03:04:05.000Z"),
  scopes: ["user-read-private", "playlist-read-private"],
  ...over,
});

/** A minimal stand-in for Firestore: doc(path) → get/set/delete over a Map. */
function fakeDb() {
  const store = new Map<string, Record<string, unknown>>();
  const db = {
    doc: (path: string) => ({
      path,
      get: async () => ({ exists: store.has(path), data: () => store.get(path) }),
      set: async (data: Record<string, unknown>) => void store.set(path, data),
      delete: async () => void store.delete(path),
    }),
  };
  return { db: db as unknown as Firestore, store };
}

describe("sealTokens / openTokens", () => {
  it("when tokens are sealed, then the document holds only the sealed fields and plaintext timestamps — no token text", () => {
    const vault = new Vault([key("k1")]);
    const doc = sealTokens(vault, "alice", "spotify", tokens(), NOW);
    expect(Object.keys(doc).sort()).toEqual(["ciphertext", "expiresAt", "iv", "keyId", "tag", "updatedAt", "v"]);
    expect(doc.keyId).toBe("k1");
    expect(doc.expiresAt).toBeInstanceOf(Timestamp);
    expect(doc.expiresAt.toDate().toISOString()).toBe("2026-01-02T04:04:05.000Z");
    expect(doc.updatedAt.toDate()).toEqual(NOW);
    const text = JSON.stringify(doc);
    expect(text).not.toContain("AT-very-secret");
    expect(text).not.toContain("RT-very-secret");
    expect(text).not.toContain("playlist-read-private");
  });

  it("when a sealed document is opened by its owner, then the same TokenSet comes back", () => {
    const vault = new Vault([key("k1")]);
    expect(openTokens(vault, "alice", "spotify", sealTokens(vault, "alice", "spotify", tokens(), NOW))).toEqual(
      tokens(),
    );
  });

  it("when tokens have no refresh token (Instagram), then none comes back", () => {
    const vault = new Vault([key("k1")]);
    const opened = openTokens(
      vault,
      "alice",
      "instagram",
      sealTokens(vault, "alice", "instagram", tokens({ refreshToken: undefined }), NOW),
    );
    expect(opened.refreshToken).toBeUndefined();
    expect("refreshToken" in opened).toBe(false);
  });

  it("when a token document is copied to another uid, then opening it fails with TokenDecryptError", () => {
    const vault = new Vault([key("k1")]);
    const doc = sealTokens(vault, "alice", "spotify", tokens(), NOW);
    expect(() => openTokens(vault, "bob", "spotify", doc)).toThrow(TokenDecryptError);
  });

  it("when a document misses fields or has the wrong types, then opening fails with a re-auth error naming the fields", () => {
    const vault = new Vault([key("k1")]);
    const doc = sealTokens(vault, "alice", "spotify", tokens(), NOW);
    const { tag: _tag, ...noTag } = doc;
    expect(() => openTokens(vault, "alice", "spotify", noTag)).toThrow(TokenDocumentError);
    expect(() => openTokens(vault, "alice", "spotify", noTag)).toThrow(/field\(s\): tag/);
    expect(() => openTokens(vault, "alice", "spotify", { ...doc, expiresAt: "tomorrow" })).toThrow(/expiresAt/);
    expect(() => openTokens(vault, "alice", "spotify", undefined)).toThrow(TokenDocumentError);
    try {
      openTokens(vault, "alice", "spotify", noTag);
    } catch (e) {
      expect((e as TokenDocumentError).action).toBe("reauth");
    }
  });

  it("when the decrypted payload is not a token set, then opening fails without echoing the payload", () => {
    const vault = new Vault([key("k1")]);
    const sealed = vault.encrypt("alice", "spotify", JSON.stringify({ hello: "plaintext-marker" }));
    const doc = { ...sealed, expiresAt: Timestamp.fromDate(NOW), updatedAt: Timestamp.fromDate(NOW) };
    expect(() => openTokens(vault, "alice", "spotify", doc)).toThrow(/not a token set/);
    expect(() => openTokens(vault, "alice", "spotify", doc)).not.toThrow(/plaintext-marker/);
  });

  it("when the access token is empty or a date is invalid, then sealing refuses", () => {
    const vault = new Vault([key("k1")]);
    expect(() => sealTokens(vault, "alice", "spotify", tokens({ accessToken: "" }), NOW)).toThrow(
      /incomplete TokenSet/,
    );
    expect(() => sealTokens(vault, "alice", "spotify", tokens({ expiresAt: new Date("nope") }), NOW)).toThrow(
      /expiresAt/,
    );
  });
});

describe("resealTokenDoc (key rotation of one document)", () => {
  it("when the document is under an old key, then it is re-sealed under the current key with expiry kept", () => {
    const oldK = key("old");
    const newK = key("new");
    const doc = sealTokens(new Vault([oldK]), "alice", "spotify", tokens(), NOW);
    const later = new Date(NOW.getTime() + 60_000);
    const moved = resealTokenDoc(new Vault([newK, oldK]), "alice", "spotify", doc, later);
    expect(moved?.keyId).toBe("new");
    expect(moved?.expiresAt.isEqual(doc.expiresAt)).toBe(true);
    expect(moved?.updatedAt.toDate()).toEqual(later);
    // The old key can now be removed.
    expect(openTokens(new Vault([newK]), "alice", "spotify", moved)).toEqual(tokens());
  });

  it("when the document is already under the current key, then nothing is returned", () => {
    const k1 = key("k1");
    const doc = sealTokens(new Vault([k1]), "alice", "spotify", tokens(), NOW);
    expect(resealTokenDoc(new Vault([k1, key("old")]), "alice", "spotify", doc, NOW)).toBeUndefined();
  });

  it("when a document claims the current key but does not open, then it throws instead of counting as current", () => {
    const doc = sealTokens(new Vault([key("k1")]), "alice", "spotify", tokens(), NOW);
    expect(() => resealTokenDoc(new Vault([key("k1")]), "alice", "spotify", doc, NOW)).toThrow(TokenDecryptError);
  });
});

describe("createTokenStore (Firestore)", () => {
  it("when tokens are saved, then the sealed document lands at users/{uid}/oauth_tokens/{provider} and loads back", async () => {
    const { db, store } = fakeDb();
    const s = createTokenStore(db, new Vault([key("k1")]), { now: () => NOW });
    await s.save("alice", "spotify", tokens());
    expect([...store.keys()]).toEqual(["users/alice/oauth_tokens/spotify"]);
    expect(JSON.stringify(store.get("users/alice/oauth_tokens/spotify"))).not.toContain("AT-very-secret");
    expect(await s.load("alice", "spotify")).toEqual(tokens());
  });

  it("when nothing is stored, then load gives null and loadRequired asks for re-auth", async () => {
    const { db } = fakeDb();
    const s = createTokenStore(db, new Vault([key("k1")]));
    expect(await s.load("alice", "instagram")).toBeNull();
    await expect(s.loadRequired("alice", "instagram")).rejects.toBeInstanceOf(ReauthRequiredError);
  });

  it("when a writer is given, then save and delete only queue their writes on it", async () => {
    const { db, store } = fakeDb();
    const s = createTokenStore(db, new Vault([key("k1")]), { now: () => NOW });
    const queued: string[] = [];
    const writer: DocWriter = {
      set: (ref) => queued.push(`set ${ref.path}`),
      delete: (ref) => queued.push(`delete ${ref.path}`),
    };
    await s.save("alice", "spotify", tokens(), writer);
    await s.delete("alice", "spotify", writer);
    expect(queued).toEqual(["set users/alice/oauth_tokens/spotify", "delete users/alice/oauth_tokens/spotify"]);
    expect(store.size).toBe(0);
  });

  it("when toDoc's output is read back with fromDoc, then the tokens round-trip (callers' own batches)", () => {
    const { db } = fakeDb();
    const s = createTokenStore(db, new Vault([key("k1")]), { now: () => NOW });
    const doc = s.toDoc("alice", "instagram", tokens());
    expect(doc.updatedAt.toDate()).toEqual(NOW);
    expect(s.fromDoc("alice", "instagram", doc)).toEqual(tokens());
    expect(() => s.fromDoc("alice", "spotify", doc)).toThrow(TokenDecryptError);
  });

  it("when tokens are deleted, then load gives null", async () => {
    const { db } = fakeDb();
    const s = createTokenStore(db, new Vault([key("k1")]));
    await s.save("alice", "spotify", tokens());
    await s.delete("alice", "spotify");
    expect(await s.load("alice", "spotify")).toBeNull();
  });

  it("when a uid is hostile, then no path is built", async () => {
    const { db } = fakeDb();
    const s = createTokenStore(db, new Vault([key("k1")]));
    await expect(s.save("../bob", "spotify", tokens())).rejects.toThrow(/Invalid uid/);
  });
});

describe("MemoryTokenStore (test double)", () => {
  it("when used like the real store, then it seals what it keeps and opens it again", async () => {
    const s = new MemoryTokenStore();
    await s.save("alice", "spotify", tokens());
    expect(JSON.stringify([...s.docs.values()])).not.toContain("AT-very-secret");
    expect(await s.loadRequired("alice", "spotify")).toEqual(tokens());
    await s.delete("alice", "spotify");
    await expect(s.loadRequired("alice", "spotify")).rejects.toBeInstanceOf(ReauthRequiredError);
  });
});
