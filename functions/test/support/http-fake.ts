/**
 * HTTP without sockets for unit tests: an axios adapter that hands each request to a responder
 * and records it. Provider modules take it through ProviderContext.http; the HTTP client through
 * HttpDeps. Also: a unit-test config, fixture loading and an instant sleep that records waits.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { type AxiosAdapter, AxiosError, type InternalAxiosRequestConfig } from "axios";
import { type Config, loadConfig } from "../../src/config";
import type { HttpDeps } from "../../src/http/client";
import { testSecrets } from "./test-secrets";

export interface SeenRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
}

export interface FakeAnswer {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
}

/** "hang": never answers; the request ends only when the client aborts it. */
export type Responder = (req: SeenRequest) => FakeAnswer | "hang" | Promise<FakeAnswer | "hang">;

export function fakeHttp(respond: Responder, extra: Partial<HttpDeps> = {}) {
  const requests: SeenRequest[] = [];
  const waits: number[] = [];
  const adapter: AxiosAdapter = async (config: InternalAxiosRequestConfig) => {
    const raw = (config.headers?.toJSON?.() ?? {}) as Record<string, unknown>;
    const headers = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const req: SeenRequest = {
      method: (config.method ?? "get").toUpperCase(),
      url: new URL(config.url!),
      headers,
      body: typeof config.data === "string" ? config.data : "",
    };
    requests.push(req);
    const answer = await respond(req);
    if (answer === "hang") {
      return new Promise((_, reject) => {
        const signal = config.signal as AbortSignal | undefined;
        signal?.addEventListener("abort", () => reject(new AxiosError("canceled", "ERR_CANCELED", config)));
      });
    }
    const body = answer.body;
    const isObject = body !== undefined && typeof body !== "string" && !Buffer.isBuffer(body);
    const bytes = Buffer.from(isObject ? JSON.stringify(body) : ((body ?? "") as string | Buffer));
    return {
      data: Readable.from([bytes]),
      status: answer.status ?? 200,
      statusText: "",
      headers: { "content-type": isObject ? "application/json" : "text/plain", ...answer.headers },
      config,
    };
  };
  const deps: HttpDeps = {
    adapter,
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
    ...extra,
  };
  return { deps, requests, waits };
}

export function fixture(path: string): unknown {
  return JSON.parse(readFileSync(join(__dirname, "..", "fixtures", "providers", path), "utf8"));
}

/** Every secret (testSecrets), with known client secrets where provider tests check what is sent. */
export const TEST_SECRETS = {
  ...testSecrets(`unit:${Buffer.alloc(32, 7).toString("base64")}`),
  SPOTIFY_CLIENT_SECRET: "unit-spotify-secret",
  INSTAGRAM_CLIENT_SECRET: "unit-instagram-secret",
};

/** The real defaults (real provider base URLs) plus test secrets and any overrides. */
export function unitConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...TEST_SECRETS, ...overrides });
}
