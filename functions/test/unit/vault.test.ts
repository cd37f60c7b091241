import { randomBytes } from "node:crypto";
import { loadConfig } from "../../src/config";
import {
  TokenDecryptError,
  Vault,
  VaultKeyRingError,
  associatedData,
  createVault,
  vaultFromConfig,
} from "../../src/crypto/vault";
import { testSecrets } from "../support/test-secrets";

const k = () => randomBytes(32);

describe("Vault (AES-256-GCM key ring)", () => {
  it("when a value is encrypted and decrypted with the same owner, then the plaintext comes back", () => {
    const vault = createVault([{ id: "k1", key: k() }]);
    const blob = vault.encrypt("alice", "spotify", Buffer.from("access-token-123"));
    expect(vault.decrypt("alice", "spotify", blob).toString()).toBe("access-token-123");
  });

  it("when a value is encrypted, then the blob records the key id, a 96-bit IV, a 128-bit tag and no plaintext", () => {
    const vault = new Vault([{ id: "k1", key: k() }]);
    const blob = vault.encrypt("alice", "spotify", "access-token-123");
    expect(blob.v).toBe(1);
    expect(blob.keyId).toBe("k1");
    expect(Buffer.from(blob.iv, "base64")).toHaveLength(12);
    expect(Buffer.from(blob.tag, "base64")).toHaveLength(16);
    expect(JSON.stringify(blob)).not.toContain("access-token-123");
    expect(Buffer.from(blob.ciphertext, "base64").toString("latin1")).not.toContain("access-token");
  });

  it("when the same value is encrypted twice, then each encryption uses a fresh IV and gives a different ciphertext", () => {
    const vault = new Vault([{ id: "k1", key: k() }]);
    const ivs = new Set<string>();
    const cts = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const blob = vault.encrypt("alice", "spotify", "same");
      ivs.add(blob.iv);
      cts.add(blob.ciphertext);
    }
    expect(ivs.size).toBe(50);
    expect(cts.size).toBe(50);
  });

  it("when a ciphertext is moved to another uid, then decrypting it fails with a typed re-auth error", () => {
    const vault = new Vault([{ id: "k1", key: k() }]);
    const blob = vault.encrypt("alice", "spotify", "secret");
    let error: unknown;
    try {
      vault.decrypt("mallory", "spotify", blob);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TokenDecryptError);
    expect(error).toMatchObject({ reason: "authentication_failed", action: "reauth", code: "token_undecryptable" });
    expect((error as Error).message).toMatch(/belongs to another user or provider/);
    expect((error as Error).message).not.toContain(blob.ciphertext);
  });

  it("when a ciphertext is moved to another provider of the same user, then decrypting it fails", () => {
    const vault = new Vault([{ id: "k1", key: k() }]);
    const blob = vault.encrypt("alice", "spotify", "secret");
    expect(() => vault.decrypt("alice", "instagram", blob)).toThrow(TokenDecryptError);
  });

  it("when the ciphertext or the tag is altered, then decrypting fails authentication", () => {
    const vault = new Vault([{ id: "k1", key: k() }]);
    const blob = vault.encrypt("alice", "spotify", "secret-value");
    const ct = Buffer.from(blob.ciphertext, "base64");
    ct[0] = ct[0]! ^ 1;
    expect(() => vault.decrypt("alice", "spotify", { ...blob, ciphertext: ct.toString("base64") })).toThrow(
      expect.objectContaining({ reason: "authentication_failed" }),
    );
    const tag = Buffer.from(blob.tag, "base64");
    tag[15] = tag[15]! ^ 0x80;
    expect(() => vault.decrypt("alice", "spotify", { ...blob, tag: tag.toString("base64") })).toThrow(
      expect.objectContaining({ reason: "authentication_failed" }),
    );
  });

  it("when the blob is structurally wrong, then decrypting fails as malformed", () => {
    const vault = new Vault([{ id: "k1", key: k() }]);
    const blob = vault.encrypt("alice", "spotify", "secret");
    const short = randomBytes(8).toString("base64");
    for (const bad of [
      { ...blob, iv: short },
      { ...blob, tag: short },
      { ...blob, ciphertext: "not base64!" },
      { ...blob, v: 2 as unknown as 1 },
    ]) {
      expect(() => vault.decrypt("alice", "spotify", bad)).toThrow(
        expect.objectContaining({ reason: "malformed", action: "reauth" }),
      );
    }
  });

  it("when the ring has several keys, then the first encrypts and every listed key decrypts", () => {
    const oldKey = k();
    const before = new Vault([{ id: "old", key: oldKey }]);
    const sealedOld = before.encrypt("alice", "spotify", "from before");
    const ring = new Vault([
      { id: "new", key: k() },
      { id: "old", key: oldKey },
    ]);
    expect(ring.currentKeyId).toBe("new");
    expect(ring.keyIds).toEqual(["new", "old"]);
    expect(ring.encrypt("alice", "spotify", "x").keyId).toBe("new");
    expect(ring.decrypt("alice", "spotify", sealedOld).toString()).toBe("from before");
    expect(ring.isCurrent(sealedOld)).toBe(false);
  });

  it("when a blob names a key the ring lacks, then it fails as unknown_key, an operator (give-up) error naming the key", () => {
    const a = new Vault([{ id: "gone", key: k() }]);
    const blob = a.encrypt("alice", "spotify", "secret");
    const b = new Vault([{ id: "other", key: k() }]);
    expect(() => b.decrypt("alice", "spotify", blob)).toThrow(
      expect.objectContaining({ reason: "unknown_key", action: "give_up", keyId: "gone" }),
    );
    expect(() => b.decrypt("alice", "spotify", blob)).toThrow(
      /sealed with key "gone", which is not in TOKEN_ENCRYPTION_KEYS/,
    );
  });

  it("when a key id is reused for different key bytes, then decrypting fails authentication instead of returning garbage", () => {
    const a = new Vault([{ id: "k1", key: k() }]);
    const b = new Vault([{ id: "k1", key: k() }]);
    expect(() => b.decrypt("alice", "spotify", a.encrypt("alice", "spotify", "secret"))).toThrow(
      expect.objectContaining({ reason: "authentication_failed" }),
    );
  });

  it("when a blob is re-encrypted, then it moves to the current key and opens with a ring lacking the old key", () => {
    const oldKey = { id: "old", key: k() };
    const newKey = { id: "new", key: k() };
    const blob = new Vault([oldKey]).encrypt("alice", "spotify", "rotate me");
    const moved = new Vault([newKey, oldKey]).reencrypt("alice", "spotify", blob);
    expect(moved.keyId).toBe("new");
    expect(moved.iv).not.toBe(blob.iv);
    expect(new Vault([newKey]).decrypt("alice", "spotify", moved).toString()).toBe("rotate me");
  });

  it("when the key ring is empty, has a short key or a duplicate id, then the vault refuses to start", () => {
    expect(() => new Vault([])).toThrow(VaultKeyRingError);
    expect(() => new Vault([{ id: "k1", key: randomBytes(16) }])).toThrow(/16 bytes; AES-256 needs exactly 32/);
    expect(
      () =>
        new Vault([
          { id: "k1", key: k() },
          { id: "k1", key: k() },
        ]),
    ).toThrow(/listed twice/);
  });

  it("when uids contain separator-like characters, then their associated data never collide", () => {
    const a = associatedData('a","spotify', "instagram");
    const b = associatedData("a", "spotify");
    expect(a.equals(b)).toBe(false);
  });

  it("when the vault is built from config, then TOKEN_ENCRYPTION_KEYS's first key is the current key", () => {
    const config = loadConfig(testSecrets(`b:${k().toString("base64")},a:${k().toString("base64")}`));
    const vault = vaultFromConfig(config);
    expect(vault.currentKeyId).toBe("b");
    expect(vault.keyIds).toEqual(["b", "a"]);
  });
});

describe("Vault purposes", () => {
  it("when an app secret is sealed, then it opens only as an app secret of the same owner, never as a token", () => {
    const vault = createVault([{ id: "k1", key: k() }]);
    const blob = vault.encrypt("alice", "spotify", "app-secret-1", "app-secret");
    expect(vault.decrypt("alice", "spotify", blob, "app-secret").toString()).toBe("app-secret-1");
    expect(() => vault.decrypt("alice", "spotify", blob)).toThrow(TokenDecryptError);
    expect(() => vault.decrypt("bob", "spotify", blob, "app-secret")).toThrow(/app secret of user bob/);
    const token = vault.encrypt("alice", "spotify", "token");
    expect(() => vault.decrypt("alice", "spotify", token, "app-secret")).toThrow(TokenDecryptError);
  });

  it("when the associated data is built, then tokens keep their original encoding and app secrets differ", () => {
    expect(associatedData("u", "spotify").toString()).toBe('["metrics-sync/oauth-token",1,"u","spotify"]');
    expect(associatedData("u", "spotify", "app-secret").toString()).toBe('["metrics-sync/app-secret",1,"u","spotify"]');
  });
});
