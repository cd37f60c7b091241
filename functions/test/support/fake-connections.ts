/**
 * A connection to a fresh account of the fake provider server, as the OAuth callback leaves it:
 * the fake's tokens sealed in the vault and a connection document. Integration tests only (real
 * Firestore emulator).
 */
import { randomUUID } from "node:crypto";
import type { DocumentReference } from "firebase-admin/firestore";
import { db } from "../../src/admin";
import { newConnection } from "../../src/connections/model";
import { tokenStoreFromConfig } from "../../src/crypto/tokenStore";
import { type Provider, firestorePaths } from "../../src/paths";
import type { AccountSpec, FakeProviders } from "../../../scripts/fake-providers";

export interface FakeConnection {
  uid: string;
  provider: Provider;
  accountId: string;
}

export interface ConnectOptions {
  /** Default: a fresh uid starting with `prefix` (default "conn-"). */
  uid?: string;
  prefix?: string;
  /** When the stored access token expires (default: as the fake issued it). */
  expiresInMs?: number;
  /** A time zone on the person's profile: providers with a play log log plays only with one. */
  timeZone?: string;
}

export async function connectFake(
  fake: FakeProviders,
  provider: Provider,
  spec: AccountSpec = {},
  opts: ConnectOptions = {},
): Promise<FakeConnection> {
  const uid = opts.uid ?? `${opts.prefix ?? "conn-"}${randomUUID()}`;
  const { id } = fake.addAccount(provider, spec);
  const t = fake.issueTokens(provider, id);
  const now = new Date();
  await tokenStoreFromConfig().save(uid, provider, {
    accessToken: t.accessToken,
    ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}),
    expiresAt: new Date(now.getTime() + (opts.expiresInMs ?? t.expiresIn * 1000)),
    issuedAt: now,
    scopes: t.scopes,
  });
  if (opts.timeZone) {
    await db()
      .doc(firestorePaths.user(uid))
      .set({ settings: { timeZone: opts.timeZone } }, { merge: true });
  }
  await connectionRef({ uid, provider }).set(
    newConnection({ uid, provider, providerAccountId: id, providerAccountName: null, scopes: t.scopes, now }),
  );
  return { uid, provider, accountId: id };
}

export const connectionRef = (c: { uid: string; provider: Provider }): DocumentReference =>
  db().doc(firestorePaths.connection(c.uid, c.provider));
