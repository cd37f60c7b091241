/**
 * `npm run connect` — stores a person's provider tokens without the browser flow (support, tests),
 * encrypted through the token store, and creates their connection document (due for sync now).
 *
 *   npm run connect -- --uid U --provider spotify --refresh-token T
 *   npm run connect -- --uid U --provider instagram --access-token T [--expires-in-days 60]
 *   (add --project ID for a real project; export TOKEN_ENCRYPTION_KEYS and the client secrets first)
 *
 * Spotify: the refresh token is exchanged for an access token right away (so a bad token fails
 * here, not in the next sync). Instagram: the long-lived token is checked by asking who it
 * belongs to. Tokens are never printed. The result is the only thing on stdout (one JSON document);
 * log lines go to stderr.
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
    "usage: npm run connect -- --uid U --provider spotify --refresh-token T | --provider instagram --access-token T [--expires-in-days N] [--project ID]";
  const { uid, provider } = values;
  if (!uid || !isProvider(provider)) throw new UsageError(usage);
  if (provider === "spotify" && !values["refresh-token"])
    throw new UsageError(`Spotify needs --refresh-token.\n${usage}`);
  if (provider === "instagram" && !values["access-token"])
    throw new UsageError(`Instagram needs --access-token.\n${usage}`);
  const days = Number(values["expires-in-days"] ?? 60);
  if (!Number.isFinite(days) || days <= 0 || days > 60)
    throw new UsageError("--expires-in-days must be between 1 and 60.");
  const target = selectTarget(values.project);

  const { db } = await import("../functions/src/admin");
  const { getConfig } = await import("../functions/src/config");
  const { newConnection } = await import("../functions/src/connections/model");
  const { tokenStoreFromConfig } = await import("../functions/src/crypto/tokenStore");
  const { firestorePaths } = await import("../functions/src/paths");
  const { getProvider } = await import("../functions/src/providers/registry");
  const config = getConfig();
  const module = getProvider(provider);
  const now = new Date();
  const ctx = { config, now: () => new Date() };

  const tokens =
    provider === "spotify"
      ? await module.refresh(ctx, {
          accessToken: "exchange-pending",
          refreshToken: values["refresh-token"]!,
          expiresAt: new Date(0),
          issuedAt: new Date(0),
          scopes: [...module.scopes],
        })
      : {
          accessToken: values["access-token"]!,
          expiresAt: new Date(now.getTime() + days * 86_400_000),
          issuedAt: now,
          scopes: [...module.scopes],
        };
  const account = await module.identify(ctx, tokens.accessToken);

  const batch = db().batch();
  await tokenStoreFromConfig().save(uid, provider, tokens, batch);
  batch.set(
    db().doc(firestorePaths.connection(uid, provider)),
    newConnection({
      uid,
      provider,
      providerAccountId: account.id,
      providerAccountName: account.displayName,
      scopes: tokens.scopes,
      now,
    }),
  );
  await batch.commit();
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
