/**
 * The fake provider server in its own process (scripts/fake-providers/cli.ts on a random port),
 * driven over its HTTP control API. The bench keeps it out of its own process so the fake's work
 * (generating pages and JPEGs) does not share one Node thread with the syncs being measured —
 * as real providers do not share the sync's CPU.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import type { ProviderId } from "../../functions/src/providers/catalog";
import {
  type AccountSpec,
  type BaseUrls,
  FAKES,
  type IssuedTokens,
  type RateLimitSpec,
  type Stats,
  baseUrlsFor,
} from "../fake-providers";
import { ROOT } from "../lib/local-env";

export interface BenchFake {
  url: string;
  baseUrls: BaseUrls;
  addAccount(provider: ProviderId, spec?: AccountSpec): Promise<{ id: string }>;
  issueTokens(provider: ProviderId, accountId: string): Promise<IssuedTokens>;
  /** The provider's small change (its fake's bench.smallChange: e.g. one playlist or post changed). */
  smallChange(provider: ProviderId, accountId: string): Promise<void>;
  rateLimit(provider: ProviderId, limit: RateLimitSpec | null): Promise<void>;
  latency(ms: number): Promise<void>;
  advanceClock(ms: number): Promise<void>;
  stats(): Promise<Stats>;
  resetStats(): Promise<void>;
  /** Any other operation of the control API (e.g. `listen`). */
  control<T = unknown>(op: string, body?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

export async function startFakeProcess(): Promise<BenchFake> {
  const child: ChildProcess = spawn(
    join(ROOT, "node_modules", ".bin", "tsx"),
    [join(ROOT, "scripts", "fake-providers", "cli.ts"), "--port", "0"],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("The fake provider server did not start within 30 s.")), 30_000);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on("exit", (code) => reject(new Error(`The fake provider server exited (${code}) before listening.`)));
  });
  child.stdout!.resume();

  const control = async <T>(op: string, body: Record<string, unknown> = {}): Promise<T> => {
    const r = await fetch(`${url}/_control/${op}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = (await r.json()) as T & { error?: string };
    if (!r.ok) throw new Error(`fake-providers ${op}: ${json.error ?? r.status}`);
    return json;
  };

  return {
    url,
    baseUrls: baseUrlsFor(url),
    addAccount: (provider, spec) => control("addAccount", { provider, ...(spec ? { spec } : {}) }),
    issueTokens: (provider, accountId) => control("issueTokens", { provider, accountId }),
    smallChange: async (provider, id) => {
      const { action, args } = FAKES[provider].bench.smallChange;
      await control("account", { provider, id, action, args });
    },
    rateLimit: async (provider, limit) => void (await control("rateLimit", { provider, limit })),
    latency: async (ms) => void (await control("latency", { ms })),
    advanceClock: async (ms) => void (await control("clock/advance", { ms })),
    stats: () => control<Stats>("stats"),
    resetStats: async () => void (await control("resetStats")),
    control,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGINT");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
