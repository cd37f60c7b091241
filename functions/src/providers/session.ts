/**
 * Runs provider calls with a working access token, the way the sync must:
 * 1. refresh first when the module says it is due, and hand the new tokens to `save` before using
 *    them (a rotated refresh token that is lost means the person must reconnect);
 * 2. on a 401 (TokenRejectedError), refresh once, save, and try once more;
 * 3. a 401 right after a fresh refresh — or when there is nothing to refresh with — is a
 *    ReauthRequiredError.
 */
import { ReauthRequiredError, TokenRejectedError } from "../errors";
import { providerName } from "./catalog";
import type { ProviderContext, ProviderModule, TokenSet } from "./types";

export async function withAccessToken<T>(
  ctx: ProviderContext,
  module: ProviderModule,
  tokens: TokenSet,
  save: (tokens: TokenSet) => Promise<void>,
  call: (accessToken: string) => Promise<T>,
): Promise<{ result: T; tokens: TokenSet }> {
  let current = tokens;
  let fresh = false;
  const refresh = async () => {
    current = await module.refresh(ctx, current);
    await save(current);
    fresh = true;
  };
  if (module.refreshDue(ctx, current)) await refresh();
  try {
    return { result: await call(current.accessToken), tokens: current };
  } catch (e) {
    if (!(e instanceof TokenRejectedError)) throw e;
    if (fresh) throw reauth(module, `${e.message} The token had just been refreshed.`);
    if (current.refreshToken === undefined) throw reauth(module, `${e.message} There is no refresh token.`);
  }
  await refresh();
  try {
    return { result: await call(current.accessToken), tokens: current };
  } catch (e) {
    if (e instanceof TokenRejectedError) throw reauth(module, `${e.message} The token had just been refreshed.`);
    throw e;
  }
}

function reauth(module: ProviderModule, message: string): ReauthRequiredError {
  const name = providerName(module.id);
  return new ReauthRequiredError(message, {
    reason: `${name} no longer accepts this connection's tokens; reconnect ${name}.`,
  });
}
