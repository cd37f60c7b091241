/**
 * Fakes of the sync engine's ports for tests: a settable clock, a provider module driven by a
 * script, a download that serves bytes from memory, and a recording task queue.
 */
import type { Provider } from "../../src/paths";
import type { FetchResult, ProviderModule, TokenSet } from "../../src/providers/types";
import type { Clock, EnqueueResult, SyncTaskPayload, TaskQueue } from "../../src/sync/ports";
import { providerName } from "../../src/providers/catalog";

export class FakeClock implements Clock {
  constructor(public t: number = Date.now()) {}
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface ScriptedProvider extends ProviderModule {
  calls: { refresh: number; fetch: number };
  /** What fetchAll does next (default: return `result`). */
  fetchImpl: (accessToken: string) => Promise<FetchResult>;
  refreshImpl: (t: TokenSet) => Promise<TokenSet>;
}

export function scriptedProvider(id: Provider, result: () => FetchResult): ScriptedProvider {
  const m: ScriptedProvider = {
    id,
    name: providerName(id),
    scopes: ["scope-a"],
    calls: { refresh: 0, fetch: 0 },
    authorizeUrl: () => "http://127.0.0.1/authorize",
    exchangeCode: () => Promise.reject(new Error("not used")),
    identify: async () => ({ id: "acct", displayName: "Acct" }),
    refreshDue: (ctx, t) => t.expiresAt.getTime() - ctx.now().getTime() < 5 * 60_000,
    refreshImpl: async (t) => ({ ...t, accessToken: `${t.accessToken}+`, expiresAt: new Date(Date.now() + 3_600_000) }),
    refresh: async (_ctx, t) => {
      m.calls.refresh++;
      return m.refreshImpl(t);
    },
    fetchImpl: async () => result(),
    operatorTokens: {
      needs: "refresh-token",
      make: () => Promise.reject(new Error("not used")),
    },
    fetchAll: async (_ctx, token) => {
      m.calls.fetch++;
      return m.fetchImpl(token);
    },
  };
  return m;
}

export class RecordingQueue implements TaskQueue {
  tasks: { provider: Provider; payload: SyncTaskPayload; id: string }[] = [];
  private ids = new Set<string>();
  constructor(private readonly latencyMs = 0) {}
  async enqueue(provider: Provider, payload: SyncTaskPayload, opts: { id: string }): Promise<EnqueueResult> {
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (this.ids.has(opts.id)) return "duplicate";
    this.ids.add(opts.id);
    this.tasks.push({ provider, payload, id: opts.id });
    return "enqueued";
  }
}
