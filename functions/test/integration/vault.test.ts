/**
 * The token vault against the Firestore emulator: the stored document, a ciphertext moved to
 * another uid, and key rotation (the library function and `npm run rotate-keys` end to end).
 * Rotation runs in projects of their own, so its counts are exact whatever else the emulator holds.
 */
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { deleteApp, initializeApp } from "firebase-admin/app";
import { type Firestore, getFirestore } from "firebase-admin/firestore";
import { db } from "../../src/admin";
import { FirestoreOwnAppStore } from "../../src/apps/store";
import { rotateTokenKeys } from "../../src/crypto/rotate";
import { TokenDocumentError, createTokenStore } from "../../src/crypto/tokenStore";
import { TokenDecryptError, createVault } from "../../src/crypto/vault";
import { firestorePaths } from "../../src/paths";
import type { TokenSet } from "../../src/providers/types";
import { ROOT } from "../../../scripts/lib/local-env";

const key = (id: string) => ({ id, key: randomBytes(32) });
const tokens = (n: number): TokenSet => ({
  accessToken: `access-${n}-${randomUUID()}`,
  refreshToken: `refresh-${n}`,
  expiresAt: new Date(Date.UTC(2026, 5, 1, 0, n)),
  issuedAt: new Date(Date.UTC(2026, 4, 1)),
  scopes: ["user-read-private"],
});

/** A Firestore client on a project of its own (the emulator keeps projects apart). */
function isolatedFirestore(): { firestore: Firestore; projectId: string; close: () => Promise<void> } {
  const projectId = `demo-rotate-${randomUUID().slice(0, 8)}`;
  const app = initializeApp({ projectId, serviceAccountId: `${projectId}@appspot.gserviceaccount.com` }, projectId);
  return { firestore: getFirestore(app), projectId, close: () => deleteApp(app) };
}

describe("token documents in Firestore", () => {
  it("when tokens are saved, then the stored document has the sealed fields, a plaintext expiry and no token text", async () => {
    const uid = `vault-${randomUUID()}`;
    const store = createTokenStore(db(), createVault([key("k1")]));
    const t = tokens(1);
    await store.save(uid, "spotify", t);
    const raw = (await db().doc(firestorePaths.oauthToken(uid, "spotify")).get()).data()!;
    expect(Object.keys(raw).sort()).toEqual(["ciphertext", "expiresAt", "iv", "keyId", "tag", "updatedAt", "v"]);
    expect(raw.expiresAt.toDate()).toEqual(t.expiresAt);
    expect(JSON.stringify(raw)).not.toContain(t.accessToken);
    expect(await store.load(uid, "spotify")).toEqual(t);
  });

  it("when a ciphertext is moved to another uid, then decrypting it there fails with a typed error", async () => {
    const victim = `victim-${randomUUID()}`;
    const thief = `thief-${randomUUID()}`;
    const store = createTokenStore(db(), createVault([key("k1")]));
    await store.save(victim, "instagram", tokens(2));
    const stolen = (await db().doc(firestorePaths.oauthToken(victim, "instagram")).get()).data()!;
    await db().doc(firestorePaths.oauthToken(thief, "instagram")).set(stolen);
    await expect(store.load(thief, "instagram")).rejects.toBeInstanceOf(TokenDecryptError);
    await expect(store.load(thief, "instagram")).rejects.toMatchObject({ reason: "authentication_failed" });
    // Also to another provider of the same user.
    await db().doc(firestorePaths.oauthToken(victim, "spotify")).set(stolen);
    await expect(store.load(victim, "spotify")).rejects.toBeInstanceOf(TokenDecryptError);
    expect((await store.load(victim, "instagram"))?.refreshToken).toBe("refresh-2");
  });

  it("when tokens are written in the caller's transaction, then they are stored atomically with its other writes", async () => {
    const uid = `tx-${randomUUID()}`;
    const store = createTokenStore(db(), createVault([key("k1")]));
    await db().runTransaction(async (tx) => {
      tx.set(db().doc(firestorePaths.connection(uid, "spotify")), { status: "connected" });
      await store.save(uid, "spotify", tokens(3), tx);
    });
    expect((await db().doc(firestorePaths.connection(uid, "spotify")).get()).exists).toBe(true);
    const loaded = await db().runTransaction((tx) => store.loadRequired(uid, "spotify", tx));
    expect(loaded.refreshToken).toBe("refresh-3");
  });

  it("when a token document is malformed, then loading it fails with TokenDocumentError", async () => {
    const uid = `bad-${randomUUID()}`;
    await db().doc(firestorePaths.oauthToken(uid, "spotify")).set({ accessToken: "plaintext!" });
    await expect(createTokenStore(db(), createVault([key("k1")])).load(uid, "spotify")).rejects.toBeInstanceOf(
      TokenDocumentError,
    );
  });
});

describe("key rotation", () => {
  it("when rotation runs, then every token moves to the new key, the old key can be removed, and a rerun changes nothing", async () => {
    const { firestore, close } = isolatedFirestore();
    try {
      const oldK = key("old");
      const newK = key("new");
      const before = createTokenStore(firestore, createVault([oldK]));
      const seeded: { uid: string; provider: "spotify" | "instagram"; t: TokenSet }[] = [];
      for (let i = 0; i < 23; i++) {
        const entry = {
          uid: `u${String(i).padStart(2, "0")}`,
          provider: i % 2 ? "instagram" : "spotify",
          t: tokens(i),
        } as const;
        await before.save(entry.uid, entry.provider, entry.t);
        seeded.push(entry);
      }
      // Two already under the new key, one unreadable (moved to another uid).
      const during = createTokenStore(firestore, createVault([newK, oldK]));
      await during.save("fresh-1", "spotify", tokens(100));
      await during.save("fresh-2", "instagram", tokens(101));
      const moved = (await firestore.doc(firestorePaths.oauthToken("u00", "spotify")).get()).data()!;
      await firestore.doc(firestorePaths.oauthToken("zz-thief", "spotify")).set(moved);

      const progress: number[] = [];
      const dry = await rotateTokenKeys(firestore, createVault([newK, oldK]), { pageSize: 7, dryRun: true });
      expect(dry).toMatchObject({ reencrypted: 23, alreadyCurrent: 2, scanned: 26, dryRun: true });
      expect((await firestore.doc(firestorePaths.oauthToken("u01", "instagram")).get()).data()?.keyId).toBe("old");

      const result = await rotateTokenKeys(firestore, createVault([newK, oldK]), {
        pageSize: 7,
        concurrency: 4,
        onProgress: (p) => progress.push(p.scanned),
      });
      expect(result.reencrypted).toBe(23);
      expect(result.alreadyCurrent).toBe(2);
      expect(result.unreadable.map((u) => u.path)).toEqual(["users/zz-thief/oauth_tokens/spotify"]);
      expect(result.unreadable[0]!.code).toBe("token_undecryptable");
      expect(progress).toEqual([7, 14, 21, 26]);

      // The old key is gone from the ring: everything still opens.
      const after = createTokenStore(firestore, createVault([newK]));
      for (const s of seeded) expect(await after.load(s.uid, s.provider)).toEqual(s.t);
      const stillOld = (await firestore.collectionGroup("oauth_tokens").get()).docs
        .filter((d) => d.get("keyId") !== "new")
        .map((d) => d.ref.path);
      expect(stillOld).toEqual(["users/zz-thief/oauth_tokens/spotify"]); // the unreadable one, left as it was

      const again = await rotateTokenKeys(firestore, createVault([newK]), { pageSize: 7 });
      expect(again).toMatchObject({ reencrypted: 0, alreadyCurrent: 25 });
    } finally {
      await close();
    }
  });

  it("when people's own apps were sealed with the old key, then rotation re-seals their secrets too, after the tokens", async () => {
    const { firestore, close } = isolatedFirestore();
    try {
      const oldK = key("old");
      const newK = key("new");
      await createTokenStore(firestore, createVault([oldK])).save("t1", "spotify", tokens(1));
      const apps = new FirestoreOwnAppStore(firestore, createVault([oldK]));
      const secrets = ["a1", "a2", "a3"].map((uid) => ({ uid, clientSecret: `secret-${uid}-${randomUUID()}` }));
      for (const { uid, clientSecret } of secrets)
        await apps.save(uid, "spotify", { clientId: `client-${uid}-0000`, clientSecret }, new Date());
      const paths: string[] = [];
      const result = await rotateTokenKeys(firestore, createVault([newK, oldK]), {
        pageSize: 2,
        onProgress: (p) => paths.push(p.lastPath),
      });
      expect(result).toMatchObject({ scanned: 4, reencrypted: 4, unreadable: [] });
      expect(paths).toEqual([
        "users/t1/oauth_tokens/spotify",
        "users/a2/provider_apps/spotify",
        "users/a3/provider_apps/spotify",
      ]);
      const after = new FirestoreOwnAppStore(firestore, createVault([newK]));
      for (const { uid, clientSecret } of secrets)
        expect((await after.load(uid, "spotify"))?.clientSecret).toBe(clientSecret);
      // Resuming after an app document skips the tokens and the apps before it.
      const resumed = await rotateTokenKeys(firestore, createVault([newK]), {
        startAfter: "users/a2/provider_apps/spotify",
      });
      expect(resumed).toMatchObject({ scanned: 1, alreadyCurrent: 1 });
    } finally {
      await close();
    }
  });

  it("when a run resumes after a path, then only documents after it are scanned", async () => {
    const { firestore, close } = isolatedFirestore();
    try {
      const oldK = key("old");
      const before = createTokenStore(firestore, createVault([oldK]));
      for (const uid of ["a", "b", "c", "d"]) await before.save(uid, "spotify", tokens(1));
      const result = await rotateTokenKeys(firestore, createVault([key("new"), oldK]), {
        startAfter: "users/b/oauth_tokens/spotify",
      });
      expect(result).toMatchObject({ scanned: 2, reencrypted: 2 });
      expect((await firestore.doc("users/a/oauth_tokens/spotify").get()).get("keyId")).toBe("old");
      expect((await firestore.doc("users/c/oauth_tokens/spotify").get()).get("keyId")).toBe("new");
    } finally {
      await close();
    }
  });

  it("when `npm run rotate-keys` runs against the emulator, then it prints progress and the final counts", async () => {
    const { firestore, projectId, close } = isolatedFirestore();
    try {
      const oldK = key("old");
      const newK = key("new");
      const before = createTokenStore(firestore, createVault([oldK]));
      for (let i = 0; i < 5; i++) await before.save(`cli-${i}`, "spotify", tokens(i));
      await createTokenStore(firestore, createVault([newK])).save("cli-current", "instagram", tokens(9));
      const ring = [newK, oldK].map((k) => `${k.id}:${k.key.toString("base64")}`).join(",");
      const { stdout } = await promisify(execFile)(
        join(ROOT, "node_modules", ".bin", "tsx"),
        [join(ROOT, "scripts", "rotate-keys.ts"), "--project", projectId, "--page-size", "2"],
        { cwd: ROOT, env: { ...process.env, TOKEN_ENCRYPTION_KEYS: ring }, timeout: 60_000 },
      );
      expect(stdout).toContain(`current key "new", ring [new, old]`);
      expect(stdout).toMatch(/page 3: scanned 6/);
      expect(stdout).toContain("rotate-keys: 5 re-encrypted, 1 already current, 0 unreadable (scanned 6).");
      const after = createTokenStore(firestore, createVault([newK]));
      expect(await after.load("cli-3", "spotify")).toMatchObject({ refreshToken: "refresh-3" });
    } finally {
      await close();
    }
  });
});
