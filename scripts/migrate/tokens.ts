/**
 * Imports the legacy grants into the encrypted vault (users/{uid}/oauth_tokens/{provider}) and
 * creates the connection documents (due now, so the next fan-out syncs the user), in one batch
 * per provider. Existing tokens are opened and compared by their long-lived credential (Spotify
 * refresh token, Instagram token); existing connections by provider account id.
 */
import type { Firestore } from "./deps";
import { newConnection } from "../../functions/src/connections/model";
import { createTokenStore } from "../../functions/src/crypto/tokenStore";
import type { Vault } from "../../functions/src/crypto/vault";
import { firestorePaths } from "../../functions/src/paths";
import { type LegacyGrant, credentialOf } from "./legacy-tokens";

export type TokenAction = "create" | "unchanged" | "conflict" | "overwrite";

export interface TokenItem {
  grant: LegacyGrant;
  tokens: "missing" | "same" | "different" | "unreadable";
  connection: "missing" | "same" | "different";
  action: TokenAction;
}

export async function classifyTokens(
  db: Firestore,
  vault: Vault,
  uid: string | undefined,
  grants: LegacyGrant[],
  overwrite: boolean,
): Promise<TokenItem[]> {
  const store = createTokenStore(db, vault);
  const out: TokenItem[] = [];
  for (const grant of grants) {
    const item: TokenItem = { grant, tokens: "missing", connection: "missing", action: "create" };
    if (uid) {
      const [tokenSnap, connSnap] = await db.getAll(
        db.doc(firestorePaths.oauthToken(uid, grant.provider)),
        db.doc(firestorePaths.connection(uid, grant.provider)),
      );
      if (tokenSnap!.exists) {
        try {
          const stored = store.fromDoc(uid, grant.provider, tokenSnap!.data());
          item.tokens =
            credentialOf(grant.provider, stored) === credentialOf(grant.provider, grant.tokens) ? "same" : "different";
        } catch {
          item.tokens = "unreadable";
        }
      }
      if (connSnap!.exists) {
        const accountId = connSnap!.get("providerAccountId") as string | null | undefined;
        item.connection = grant.accountId === null || accountId === grant.accountId ? "same" : "different";
      }
    }
    const conflict = item.tokens === "different" || item.tokens === "unreadable" || item.connection === "different";
    if (conflict) item.action = overwrite ? "overwrite" : "conflict";
    else if (item.tokens === "same" && item.connection === "same") item.action = "unchanged";
    out.push(item);
  }
  return out;
}

/** Writes what an item needs: missing documents are created, conflicting ones replaced (overwrite only). */
export async function writeTokens(db: Firestore, vault: Vault, uid: string, item: TokenItem, now: Date): Promise<void> {
  if (item.action === "unchanged" || item.action === "conflict") return;
  const { provider } = item.grant;
  const store = createTokenStore(db, vault, { now: () => now });
  const batch = db.batch();
  if (item.tokens !== "same") await store.save(uid, provider, item.grant.tokens, batch);
  if (item.connection !== "same") {
    const conn = newConnection({
      uid,
      provider,
      providerAccountId: item.grant.accountId,
      providerAccountName: null,
      scopes: item.grant.tokens.scopes,
      now,
    });
    const ref = db.doc(firestorePaths.connection(uid, provider));
    if (item.connection === "missing") batch.create(ref, conn);
    else batch.set(ref, conn);
  }
  await batch.commit();
}

/** For --verify: the stored tokens open through the vault and a connection exists. */
export async function verifyTokens(
  db: Firestore,
  vault: Vault,
  uid: string,
  grants: LegacyGrant[],
): Promise<{ provider: string; ok: boolean; detail: string }[]> {
  const items = await classifyTokens(db, vault, uid, grants, false);
  return items.map((i) => {
    const ok = (i.tokens === "same" || i.tokens === "different") && i.connection === "same";
    const detail = !ok
      ? `tokens ${i.tokens}, connection ${i.connection}`
      : i.tokens === "same"
        ? "tokens decrypt and match the env file; connection present"
        : "tokens decrypt (rotated since import); connection present";
    return { provider: i.grant.provider, ok, detail };
  });
}
