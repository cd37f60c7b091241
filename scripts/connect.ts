/**
 * `npm run connect` — stores a person's provider tokens without the browser flow (support, tests),
 * encrypted through the token store, and creates their connection document (due for sync now).
 *
 *   npm run connect -- --uid U --provider spotify --refresh-token T
 *   npm run connect -- --uid U --provider instagram --access-token T [--expires-in-days 60]
 *   (add --project ID for a real project; export TOKEN_ENCRYPTION_KEYS and the client secrets first)
 *
 * Each provider says which token it takes (`operatorTokens.needs`) and checks it before anything
 * is stored: a refresh token is exchanged for an access token right away, a long-lived access
 * token is checked by asking who it belongs to. Tokens and connection are stored the way the OAuth
 * callback stores them (one transaction, the provider account claimed for this person: an account
 * connected under someone else is refused). Tokens are never printed. The result is the only
 * thing on stdout (one JSON document); log lines go to stderr.
 */
import { isProvider } from "../functions/src/paths";
import { UsageError, parseOptions, printResult, runMain, selectTarget } from "./ops/target";

runMain(async () => {
  const { values } = parseOptions(process.argv.slice(2), {
    uid: { type: "string" },
    provider: { type: "string" },
    "refresh-token": { type: "string" },
    "access-token": { type: "string" },
    "expires-in-days": { type: "string" },
  });
  const usage =
    "usage: npm run connect -- --uid U --provider P (--refresh-token T | --access-token T) [--expires-in-days N] [--project ID]";
  const { uid, provider } = values;
  if (!uid || !isProvider(provider)) throw new UsageError(usage);
  const { getProvider } = await import("../functions/src/providers/registry");
  const module = getProvider(provider);
  const flag = module.operatorTokens.needs;
  const token = values[flag];
  if (!token) throw new UsageError(`${module.name} needs --${flag}.\n${usage}`);
  const days = Number(values["expires-in-days"] ?? 60);
  if (!Number.isFinite(days) || days <= 0 || days > 60)
    throw new UsageError("--expires-in-days must be between 1 and 60.");
  const target = selectTarget(values.project);

  const { db } = await import("../functions/src/admin");
  const { getConfig } = await import("../functions/src/config");
  const { tokenStoreFromConfig } = await import("../functions/src/crypto/tokenStore");
  const { FirestoreConnectionStore } = await import("../functions/src/oauth/connectionStore");
  const config = getConfig();
  const ctx = { config, now: () => new Date() };

  const tokens = await module.operatorTokens.make(ctx, { token, expiresInDays: days });
  const account = await module.identify(ctx, tokens.accessToken);
  await new FirestoreConnectionStore(db(), tokenStoreFromConfig()).saveConnected({
    uid,
    provider,
    tokens,
    account,
    scopes: tokens.scopes,
    now: new Date(),
  });
  printResult({
    project: target.projectId,
    uid,
    provider,
    account,
    tokenExpiresAt: tokens.expiresAt,
    connection: "connected, due now",
  });
  return 0;
});
