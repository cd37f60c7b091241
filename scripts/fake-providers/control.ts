/**
 * The control API over HTTP, for scripts in another process (npm start, benchmarks):
 * POST /_control/<operation> with a JSON body of the same named arguments as the code API.
 * GET /_control lists the operations. Answers 200 with JSON, or 400 {"error": "<sentence>"}.
 */
import { PROVIDERS, isProviderId } from "../../functions/src/providers/catalog";
import { APP_ACTIONS, type AppAction, type OwnAppSpec } from "./apps";
import type { ProviderId } from "./data";
import type { FaultSpec, RateLimitSpec } from "./faults";
import type { FakeProviders } from "./index";
import { type AccountSpec, FAKES } from "./registry";

/** The account mutations the `account` operation runs: every account's, then each provider's own. */
const ACCOUNT_ACTIONS: readonly string[] = [
  ...new Set(["rename", ...PROVIDERS.flatMap((p) => FAKES[p].accountActions), "changeItems"]),
];

const quoted = (names: readonly string[]) => {
  const q = names.map((n) => JSON.stringify(n));
  return q.length > 1 ? `${q.slice(0, -1).join(", ")} or ${q.at(-1)!}` : (q[0] ?? "");
};

export const CONTROL_OPERATIONS: Record<string, string> = {
  addAccount: '{"provider","spec"?:{"id"?,"seed"?,"displayName"?, the provider\'s sizes…}} → {"id"}',
  accounts: '{"provider"?} → summaries of the fake accounts',
  account: `{"provider","id","action"?,"args"?} → runs ${ACCOUNT_ACTIONS.join("/")}; returns the summary`,
  issueTokens:
    '{"provider","accountId","opts"?:{"scopes"?,"shortLived"?,"clientId"?}} → {"accessToken","refreshToken"?,"expiresIn","scopes"}',
  revokeTokens: '{"provider","accountId"}',
  createApp:
    '{"provider":"spotify","spec"?:{"clientId"?,"clientSecret"?,"name"?,"redirectUris"?:[…],"users"?:[account ids]}} → {"clientId","clientSecret"}',
  app: `{"provider","clientId","action"?,"args"?} → runs ${APP_ACTIONS.join("/")} on an own app; returns its summary`,
  apps: '{"provider"?} → summaries of the own apps {"clientId","name","redirectUris","users"} (no secrets)',
  fault:
    '{"provider","fault":{"kind","accountId"?,"clientId"?,"endpoint"?,"retryAfterSeconds"?,"delayMs"?,"times"?,"skip"?,"status"?}} → {"id"}',
  clearFault: '{"id"}',
  faults: "{} → the active faults",
  clearFaults: "{}",
  rateLimit: '{"provider","limit":{"windowSeconds","budget"}|null,"clientId"?} (clientId: that app\'s own budget)',
  latency: '{"ms"}',
  rotateRefreshTokens: '{"on":true}',
  "clock/now": '{} → {"now"}',
  "clock/advance": '{"ms"} → {"now"}',
  listen:
    '{"provider","account","plays":[{"trackKey"?,"playedAt","visibleAt"?}]} (ISO times) → {"added":[{"playedAt","visibleAt","trackId","trackName","artists","durationMs"}]}',
  plays:
    '{"provider","account","visibleOnly"?} → [{"playedAt","visibleAt","trackId","trackName","artists","durationMs"}] (every play made by now, oldest first)',
  stats: '{} → {"requests","rateLimited","byEndpoint"}',
  resetStats: "{}",
};

type Body = Record<string, unknown>;

/** An account whose fake simulates listening (its recently-played). */
interface ListeningAccount {
  listen(plays: unknown): unknown[];
  plays(nowMs: number, visibleOnly: boolean): unknown[];
}

function listening(fake: FakeProviders, b: Body): ListeningAccount {
  const account = fake.account(provider(b), str(b, "account"));
  const a = account as unknown as Partial<ListeningAccount>;
  if (typeof a.listen !== "function" || typeof a.plays !== "function")
    throw new Error(`A ${account.provider} account has no listening history.`);
  return a as ListeningAccount;
}

function provider(b: Body): ProviderId {
  if (!isProviderId(b.provider)) {
    throw new Error(`"provider" must be ${quoted(PROVIDERS)} (got ${JSON.stringify(b.provider)}).`);
  }
  return b.provider;
}

function str(b: Body, key: string): string {
  const v = b[key];
  if (typeof v !== "string" || v === "") throw new Error(`"${key}" must be a non-empty string.`);
  return v;
}

function num(b: Body, key: string): number {
  const v = b[key];
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`"${key}" must be a number.`);
  return v;
}

function obj<T>(b: Body, key: string): T | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`"${key}" must be an object.`);
  return v as T;
}

export async function handleControl(fake: FakeProviders, op: string, raw: unknown): Promise<unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error("The body must be a JSON object.");
  const b = raw as Body;
  switch (op) {
    case "":
    case "help":
      return { operations: CONTROL_OPERATIONS };
    case "addAccount":
      return fake.addAccount(provider(b), obj<AccountSpec>(b, "spec"));
    case "accounts":
      return { accounts: fake.accounts(b.provider === undefined ? undefined : provider(b)) };
    case "account": {
      const account = fake.account(provider(b), str(b, "id"));
      if (b.action !== undefined) {
        const action = String(b.action);
        if (!ACCOUNT_ACTIONS.includes(action))
          throw new Error(`"action" must be one of ${ACCOUNT_ACTIONS.join(", ")}.`);
        const fn = (account as unknown as Record<string, unknown>)[action];
        if (typeof fn !== "function") throw new Error(`A ${account.provider} account has no "${action}".`);
        const args = Array.isArray(b.args) ? b.args : [];
        const result = (fn as (...a: unknown[]) => unknown).apply(account, args);
        return { ...account.summary(), ...(result === undefined ? {} : { result }) };
      }
      return account.summary();
    }
    case "createApp":
      return fake.createApp(provider(b), obj<OwnAppSpec>(b, "spec"));
    case "app": {
      const p = provider(b);
      const clientId = str(b, "clientId");
      if (b.action === undefined) return fake.app(p, clientId);
      if (!(APP_ACTIONS as readonly unknown[]).includes(b.action))
        throw new Error(`"action" must be one of ${APP_ACTIONS.join(", ")} (got ${JSON.stringify(b.action)}).`);
      if (b.args !== undefined && !Array.isArray(b.args)) throw new Error('"args" must be an array.');
      return fake.app(p, clientId, b.action as AppAction, (b.args as unknown[] | undefined) ?? []);
    }
    case "apps":
      return { apps: fake.apps(b.provider === undefined ? undefined : provider(b)) };
    case "issueTokens":
      return fake.issueTokens(provider(b), str(b, "accountId"), obj(b, "opts"));
    case "revokeTokens":
      fake.revokeTokens(provider(b), str(b, "accountId"));
      return { ok: true };
    case "fault": {
      const spec = obj<FaultSpec>(b, "fault");
      if (!spec) throw new Error('"fault" is required: {"kind": …}.');
      // "clientId" may also sit beside "fault".
      if (b.clientId !== undefined) {
        const clientId = str(b, "clientId");
        if (spec.clientId !== undefined && spec.clientId !== clientId)
          throw new Error('"clientId" and "fault.clientId" name different apps: give one.');
        spec.clientId = clientId;
      }
      fake.fault(provider(b), spec);
      const added = fake.faults().at(-1)!;
      return { id: added.id };
    }
    case "clearFault": {
      const id = str(b, "id");
      if (!fake.clearFault(id)) throw new Error(`No active fault "${id}".`);
      return { ok: true };
    }
    case "faults":
      return {
        faults: fake.faults().map((f) => ({ ...f, remaining: Number.isFinite(f.remaining) ? f.remaining : null })),
      };
    case "clearFaults":
      fake.clearFaults();
      return { ok: true };
    case "rateLimit":
      fake.rateLimit(
        provider(b),
        b.limit === null ? null : (obj<RateLimitSpec>(b, "limit") ?? null),
        b.clientId === undefined ? undefined : str(b, "clientId"),
      );
      return { ok: true };
    case "latency":
      fake.latency(num(b, "ms"));
      return { ok: true };
    case "rotateRefreshTokens":
      if (typeof b.on !== "boolean") throw new Error('"on" must be true or false.');
      fake.rotateRefreshTokens(b.on);
      return { ok: true };
    case "clock/now":
      return { now: fake.clock.now().toISOString() };
    case "clock/advance":
      fake.clock.advance(num(b, "ms"));
      return { now: fake.clock.now().toISOString() };
    case "listen":
      return { added: listening(fake, b).listen(b.plays) };
    case "plays": {
      if (b.visibleOnly !== undefined && typeof b.visibleOnly !== "boolean")
        throw new Error('"visibleOnly" must be true or false.');
      return listening(fake, b).plays(fake.clock.now().getTime(), b.visibleOnly === true);
    }
    case "stats":
      return fake.stats();
    case "resetStats":
      fake.resetStats();
      return { ok: true };
    default:
      throw new Error(`Unknown control operation "${op}". Operations: ${Object.keys(CONTROL_OPERATIONS).join(", ")}.`);
  }
}
