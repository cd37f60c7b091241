/** In-memory fakes of the OAuth module's ports (state store, connection store, provider module). */
import { Timestamp } from "firebase-admin/firestore";
import { loadConfig, type Config } from "../../../src/config";
import type { ConnectionStore, MarkDisconnectedArgs, SaveConnectedArgs } from "../../../src/oauth/connectionStore";
import {
  type CallbackContext,
  type NewStateArgs,
  type StateCheck,
  type StateStore,
  checkState,
  newState,
  stateId,
  stateRecord,
} from "../../../src/oauth/state";
import type { Provider } from "../../../src/paths";
import type { ProviderModule } from "../../../src/providers/types";
import { providerName } from "../../../src/providers/catalog";
import { testSecrets } from "../../support/test-secrets";

export const TEST_KEY = Buffer.alloc(32, 7).toString("base64");

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    APP_URL: "https://app.example.test",
    OAUTH_REDIRECT_URI: "https://app.example.test/api/oauth/callback",
    RETURN_URL_ALLOWLIST: "https://admin.example.test, http://127.0.0.1:5002",
    ...testSecrets(`k1:${TEST_KEY}`),
    ...overrides,
  });
}

/** A state store keeping records in a Map, using the real checkState rules. */
export class MemoryStateStore implements StateStore {
  readonly records = new Map<string, Record<string, unknown>>();
  async create(args: NewStateArgs): Promise<{ state: string }> {
    const { state, id } = newState();
    this.records.set(id, stateRecord(args));
    return { state };
  }
  async consume(state: string | undefined, ctx: CallbackContext): Promise<StateCheck> {
    if (!state) return { ok: false, reason: "missing" };
    if (!/^[A-Za-z0-9_-]{43}$/.test(state)) return { ok: false, reason: "malformed" };
    const id = stateId(state);
    const data = this.records.get(id);
    const check = checkState(data, ctx);
    if (data && (check.ok || check.reason !== "used")) data.consumedAt = Timestamp.fromDate(ctx.now);
    return check;
  }
}

export class MemoryConnectionStore implements ConnectionStore {
  saved: SaveConnectedArgs[] = [];
  disconnected: Array<{ uid: string; provider: Provider; dataErased: boolean }> = [];
  failSave: Error | undefined;
  hasConnection = true;
  async saveConnected(args: SaveConnectedArgs): Promise<{ mode: "set" | "update" }> {
    if (this.failSave) throw this.failSave;
    this.saved.push(args);
    return { mode: "set" };
  }
  async markDisconnected(args: MarkDisconnectedArgs): Promise<{ hadConnection: boolean }> {
    this.disconnected.push({ uid: args.uid, provider: args.provider, dataErased: args.dataErased ?? false });
    return { hadConnection: this.hasConnection };
  }
}

export const SECRET_CODE = "code-SECRET-abc123";
export const SECRET_ACCESS = "access-SECRET-xyz789";
export const SECRET_REFRESH = "refresh-SECRET-qrs456";

/** A provider module whose exchange/identify can be told to fail; records what it was called with. */
export function fakeProvider(id: Provider) {
  const calls = {
    authorize: [] as Array<{ state: string; redirectUri: string }>,
    exchange: [] as Array<{ code: string; redirectUri: string }>,
    identify: [] as string[],
  };
  const behaviour: { exchangeError?: Error; identifyError?: Error; scopes?: string[] } = {};
  const module: ProviderModule = {
    id,
    name: providerName(id),
    scopes: id === "spotify" ? ["user-top-read", "playlist-read-private"] : ["instagram_business_basic"],
    authorizeUrl: (_ctx, args) => {
      calls.authorize.push(args);
      const u = new URL(`https://${id}.example.test/authorize`);
      u.searchParams.set("state", args.state);
      u.searchParams.set("redirect_uri", args.redirectUri);
      return u.toString();
    },
    exchangeCode: async (_ctx, args) => {
      calls.exchange.push(args);
      if (behaviour.exchangeError) throw behaviour.exchangeError;
      return {
        accessToken: SECRET_ACCESS,
        ...(id === "spotify" ? { refreshToken: SECRET_REFRESH } : {}),
        expiresAt: new Date(Date.now() + 3600_000),
        issuedAt: new Date(),
        scopes: behaviour.scopes ?? ["user-top-read"],
      };
    },
    refreshDue: () => false,
    refresh: async (_ctx, t) => t,
    identify: async (_ctx, accessToken) => {
      calls.identify.push(accessToken);
      if (behaviour.identifyError) throw behaviour.identifyError;
      return { id: `${id}-account-1`, displayName: "Ada" };
    },
    operatorTokens: {
      needs: "refresh-token",
      make: () => Promise.reject(new Error("not used")),
    },
    fetchAll: async () => {
      throw new Error("not used");
    },
  };
  return { module, calls, behaviour };
}
