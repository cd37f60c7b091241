/**
 * Bench users: a fake provider account per user × provider (the sizes of `specs`, or the fake's
 * defaults), its tokens stored through the product's token store (encrypted), and a connection
 * that is due now.
 */
import { db } from "../../functions/src/admin";
import { newConnection } from "../../functions/src/connections/model";
import type { TokenStore } from "../../functions/src/crypto/tokenStore";
import { type Provider, firestorePaths } from "../../functions/src/paths";
import type { AccountSpec } from "../fake-providers";
import type { BenchFake } from "./fakeProcess";

export interface BenchConnection {
  uid: string;
  provider: Provider;
  accountId: string;
}

export async function createUsers(
  fake: BenchFake,
  tokens: TokenStore,
  opts: {
    prefix: string;
    users: number;
    providers: readonly Provider[];
    now: Date;
    /** Account sizes per provider (default: the fake's defaults). */
    specs?: Partial<Record<Provider, AccountSpec>>;
  },
): Promise<BenchConnection[]> {
  const out: BenchConnection[] = [];
  for (let i = 0; i < opts.users; i++) {
    for (const provider of opts.providers) {
      const { id } = await fake.addAccount(provider, { seed: 1000 + i, ...opts.specs?.[provider] });
      out.push({ uid: `${opts.prefix}-${i}`, provider, accountId: id });
    }
  }
  const nowMs = opts.now.getTime();
  for (let i = 0; i < out.length; i += 50) {
    await Promise.all(
      out.slice(i, i + 50).map(async (c) => {
        const t = await fake.issueTokens(c.provider, c.accountId);
        await tokens.save(c.uid, c.provider, {
          accessToken: t.accessToken,
          ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}),
          expiresAt: new Date(nowMs + t.expiresIn * 1000),
          issuedAt: new Date(nowMs),
          scopes: t.scopes,
        });
        await db()
          .doc(firestorePaths.connection(c.uid, c.provider))
          .set(
            newConnection({
              uid: c.uid,
              provider: c.provider,
              providerAccountId: c.accountId,
              providerAccountName: null,
              scopes: t.scopes,
              now: opts.now,
            }),
          );
      }),
    );
  }
  return out;
}
