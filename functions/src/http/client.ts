/**
 * The one HTTP client every provider call goes through (axios underneath).
 *
 * - One deadline per attempt (HTTP_TIMEOUT_MS) covering connect, headers and body.
 * - A byte cap on every body (HTTP_MAX_RESPONSE_BYTES for API answers; downloads pass their own).
 * - Retries only 408, 429 and 5xx answers, with exponential backoff and jitter, at most
 *   HTTP_MAX_RETRIES times. Requests that are not idempotent (token POSTs) are retried on 429 only:
 *   the server says it did not process them. Timeouts and network failures are not retried in
 *   place (a hung endpoint costs one timeout); they surface as TransientError and the task retries.
 * - `Retry-After` is honoured up to RETRY_AFTER_CAP_SECONDS; a longer one throws RateLimitedError
 *   carrying the time to retry at once, without waiting.
 * - An optional deadline for the whole job (a sync's SYNC_DEADLINE_SECONDS): checked before every
 *   attempt and before every in-place wait (a wait that would end past it is not started), and an
 *   idempotent attempt is cut short at it; past it the client throws DeadlineExceededError. A
 *   request that is not idempotent (a token POST) keeps its full timeout once sent, so a rotated
 *   refresh token is never dropped halfway.
 * - Errors and logs name a request by method and path only: never its query (Instagram puts
 *   tokens there), headers (Authorization) or body (codes, secrets, tokens). No axios error is
 *   attached as a cause, since it carries the request config.
 */
import axios, { type AxiosAdapter, type AxiosResponse } from "axios";
import type { Agent } from "node:http";
import { Readable, Stream } from "node:stream";
import type { Config } from "../config";
import {
  type AppError,
  DeadlineExceededError,
  DownloadRejectedError,
  NotAllowedError,
  ProviderSchemaError,
  RateLimitedError,
  TokenRejectedError,
  TransientError,
} from "../errors";
import { logs } from "../logs";
import type { RateGate } from "./rateGate";

/** First backoff step; attempt n waits between half and all of BACKOFF_BASE_MS × 2^n. */
export const BACKOFF_BASE_MS = 200;
/** No single backoff wait is longer than this. */
export const BACKOFF_MAX_MS = 10_000;
/**
 * Redirects followed by downloads (CDNs redirect), each hop checked by download.ts; axios follows
 * none, and API calls follow none.
 */
export const MAX_DOWNLOAD_REDIRECTS = 5;
/** Statuses that redirect (answered as they are when a request asks for `redirects: "return"`). */
export const REDIRECT_STATUSES: readonly number[] = [301, 302, 303, 307, 308];

export interface HttpLimits {
  timeoutMs: number;
  maxResponseBytes: number;
  maxRetries: number;
  retryAfterCapSeconds: number;
}

export function httpLimits(config: Config): HttpLimits {
  return {
    timeoutMs: config.HTTP_TIMEOUT_MS,
    maxResponseBytes: config.HTTP_MAX_RESPONSE_BYTES,
    maxRetries: config.HTTP_MAX_RETRIES,
    retryAfterCapSeconds: config.RETRY_AFTER_CAP_SECONDS,
  };
}

/** What tests replace: the transport (so unit tests need no socket), the clock, sleeping, randomness. */
export interface HttpDeps {
  adapter?: AxiosAdapter;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface HttpRequest {
  method: "GET" | "POST";
  /** Absolute URL, query included. Never shown in errors or logs (only the path is). */
  url: string;
  headers?: Record<string, string>;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Retried on 408/5xx as well as 429. Defaults to true for GET, false otherwise. */
  idempotent?: boolean;
  /** "api" (default): JSON answers, errors classified for API calls. "download": a file to mirror. */
  purpose?: "api" | "download";
  /** Byte cap of the body; defaults to HTTP_MAX_RESPONSE_BYTES. */
  maxBytes?: number;
  /** Downloads: content types (without parameters) a 2xx answer may have. */
  allowedContentTypes?: readonly string[];
  /** "return": a redirect answer (REDIRECT_STATUSES) is returned, for the caller to check and follow. */
  redirects?: "return";
  /**
   * The connection's Agent (for the URL's protocol), e.g. one whose lookup is pinned to a checked
   * address. With an agent, no proxy is used: the connection goes where the agent says.
   */
  agent?: Agent;
}

export interface HttpResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Buffer;
}

/** Identifies a request in messages: "Spotify GET /v1/me/playlists". */
export interface RequestInfo {
  service: string;
  method: string;
  path: string;
}

export function requestLabel(info: RequestInfo): string {
  return `${info.service} ${info.method} ${info.path}`;
}

/**
 * Provider-specific reading of an error answer (e.g. `invalid_grant`, Instagram error 190).
 * Returns a typed error, or undefined to fall back to the generic status mapping.
 */
export type ErrorClassifier = (res: HttpResponse, info: RequestInfo, now: Date) => AppError | undefined;

export interface HttpClientOptions {
  /** Human name of the remote ("Spotify"), used in messages. */
  service: string;
  limits: HttpLimits;
  classify?: ErrorClassifier;
  /** Whose limit a 429 is: the whole app's or this account's (RateLimitedError.scope). Default account. */
  rateLimitScope?: "app" | "account";
  /** The end of the whole job (see the file comment), read on `now` (the job's clock). */
  deadline?: HttpDeadline;
  /**
   * The app's rate gate in this process (rateGate.ts), for a provider whose 429s are app-wide:
   * API requests wait at it while another request's short Retry-After runs, and set it on one.
   */
  rateGate?: RateGate;
  deps?: HttpDeps;
}

export interface HttpDeadline {
  at: Date;
  now: () => Date;
  /** Names the deadline in messages: "SYNC_DEADLINE_SECONDS (420 s)". */
  name: string;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Makes requests; counts every attempt it sends (`requests`). One instance per sync or OAuth step. */
export class HttpClient {
  requests = 0;
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly opts: HttpClientOptions) {
    this.now = opts.deps?.now ?? (() => new Date());
    this.sleep = opts.deps?.sleep ?? defaultSleep;
    this.random = opts.deps?.random ?? Math.random;
  }

  /** Sends `req`, retrying as the policy allows. Resolves with a 2xx answer or throws a typed error. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const info: RequestInfo = { service: this.opts.service, method: req.method, path: safePath(req.url) };
    const idempotent = req.idempotent ?? req.method === "GET";
    const { maxRetries, retryAfterCapSeconds } = this.opts.limits;
    const gate = req.purpose === "download" ? undefined : this.opts.rateGate;
    for (let attempt = 0; ; attempt++) {
      // The app's rate gate (rateGate.ts): asked again after each wait, another may have gone first.
      for (let held = gate?.waitMs() ?? 0; held > 0; held = gate!.waitMs()) {
        if (this.timeLeft(info) <= held) {
          throw this.pastDeadline(
            info,
            `was not sent: waiting ${Math.ceil(held / 1000)} s for the app's rate limit would pass`,
          );
        }
        await this.sleep(held);
      }
      const left = this.timeLeft(info);
      const res = await this.attempt(req, info, idempotent ? left : Infinity);
      if (res.status >= 200 && res.status < 300) return res;
      if (req.redirects === "return" && REDIRECT_STATUSES.includes(res.status)) return res;

      const now = this.now();
      if (req.purpose !== "download") {
        const classified = this.opts.classify?.(res, info, now);
        if (classified) throw classified;
      }
      const status = res.status;
      const retryable = status === 429 || (idempotent && (status === 408 || status >= 500));
      if (!retryable) throw statusError(res, info, req.purpose ?? "api");

      const retryAfterMs = parseRetryAfter(res.headers["retry-after"], now);
      if (retryAfterMs !== undefined && retryAfterMs > retryAfterCapSeconds * 1000) {
        throw new RateLimitedError(
          `${requestLabel(info)} answered ${status} with Retry-After ${Math.ceil(retryAfterMs / 1000)} s, ` +
            `longer than RETRY_AFTER_CAP_SECONDS (${retryAfterCapSeconds} s).`,
          new Date(now.getTime() + retryAfterMs),
          { scope: this.opts.rateLimitScope },
        );
      }
      const delayMs = retryAfterMs ?? this.backoff(attempt);
      if (attempt >= maxRetries) {
        if (status === 429) {
          throw new RateLimitedError(
            `${requestLabel(info)} answered 429 ${attempt + 1} times.`,
            new Date(now.getTime() + delayMs),
            { scope: this.opts.rateLimitScope },
          );
        }
        throw new TransientError(`${requestLabel(info)} answered ${status} ${attempt + 1} times.`);
      }
      if (this.timeLeft(info) <= delayMs) {
        throw this.pastDeadline(info, `was not retried: waiting ${Math.ceil(delayMs / 1000)} s would pass`);
      }
      logs.warn("http.retry", {
        service: info.service,
        request: `${info.method} ${info.path}`,
        status,
        attempt,
        delayMs,
      });
      // The whole app was refused: the gate holds this instance's other requests of the app too and
      // learns the budget; this one waits at it with them (its turn may come after the Retry-After).
      if (gate && status === 429) gate.refused(delayMs);
      else await this.sleep(delayMs);
    }
  }

  /** Sends `req` and parses the answer as JSON (malformed JSON is a ProviderSchemaError). */
  async json(req: HttpRequest): Promise<unknown> {
    const res = await this.request(req);
    return parseJson(res, { service: this.opts.service, method: req.method, path: safePath(req.url) });
  }

  /** Exponential backoff with jitter: between half and all of base × 2^attempt, capped. */
  backoff(attempt: number): number {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  /** Milliseconds to the job's deadline (Infinity without one); throws when it has passed. */
  private timeLeft(info: RequestInfo): number {
    const d = this.opts.deadline;
    if (!d) return Infinity;
    const left = d.at.getTime() - d.now().getTime();
    if (left <= 0) throw this.pastDeadline(info, "was not sent: it would start past");
    return left;
  }

  /** "Spotify GET /v1/me/playlists <what> SYNC_DEADLINE_SECONDS (420 s)." */
  private pastDeadline(info: RequestInfo, what: string): DeadlineExceededError {
    return new DeadlineExceededError(`${requestLabel(info)} ${what} ${this.opts.deadline?.name ?? "the deadline"}.`);
  }

  /**
   * One attempt: send, then read the body under the same timeout and byte cap. `deadlineMs`: the
   * time left to the job's deadline, when shorter than the timeout the attempt ends there.
   */
  private async attempt(req: HttpRequest, info: RequestInfo, deadlineMs: number): Promise<HttpResponse> {
    const byDeadline = deadlineMs < this.opts.limits.timeoutMs;
    const timeoutMs = byDeadline ? Math.max(1, Math.ceil(deadlineMs)) : this.opts.limits.timeoutMs;
    const maxBytes = req.maxBytes ?? this.opts.limits.maxResponseBytes;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    this.requests++;
    let stream: Readable | undefined;
    try {
      let res: AxiosResponse<Readable>;
      try {
        res = await axios.request<Readable>({
          method: req.method,
          url: req.url,
          headers: {
            ...(req.form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
            ...req.headers,
          },
          data: req.form ? new URLSearchParams(req.form).toString() : undefined,
          responseType: "stream",
          validateStatus: () => true,
          maxRedirects: 0,
          ...(req.agent ? { httpAgent: req.agent, httpsAgent: req.agent, proxy: false as const } : {}),
          maxContentLength: -1,
          timeout: timeoutMs,
          signal: controller.signal,
          adapter: this.opts.deps?.adapter,
        });
      } catch (e) {
        if (timedOut && byDeadline) throw this.pastDeadline(info, "was cut short at");
        throw transportError(e, info, timedOut, timeoutMs);
      }
      stream = asStream(res.data);
      const headers = flattenHeaders(res.headers);
      if (res.status >= 200 && res.status < 300 && req.purpose === "download") {
        checkContentType(headers, req.allowedContentTypes, info);
      }
      const declared = Number(headers["content-length"]);
      if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(info, maxBytes, req.purpose);
      const body = await readCapped(stream, maxBytes, controller.signal).catch((e: unknown) => {
        if (e === TOO_LARGE) throw tooLarge(info, maxBytes, req.purpose);
        if (timedOut && byDeadline) throw this.pastDeadline(info, "was cut short at");
        throw transportError(e, info, timedOut, timeoutMs);
      });
      return { status: res.status, headers, body };
    } finally {
      clearTimeout(timer);
      stream?.destroy();
    }
  }
}

// --- Reading answers ---------------------------------------------------------------------------

const TOO_LARGE = Symbol("too large");

/** axios' Node adapter answers a stream; a test adapter may answer a Buffer or a string. */
function asStream(data: unknown): Readable {
  if (data instanceof Stream) return data as Readable;
  return Readable.from([Buffer.from(typeof data === "string" ? data : ((data ?? "") as Buffer))]);
}

function readCapped(stream: Readable, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onAbort = () => reject(new Error("aborted"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    stream.on("data", (chunk: Buffer | string) => {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > maxBytes) {
        stream.destroy();
        reject(TOO_LARGE);
        return;
      }
      chunks.push(buf);
    });
    stream.on("error", reject);
    stream.on("end", () => {
      signal.removeEventListener("abort", onAbort);
      resolve(Buffer.concat(chunks));
    });
  });
}

export function parseJson(res: HttpResponse, info: RequestInfo): unknown {
  try {
    return JSON.parse(res.body.toString("utf8"));
  } catch {
    throw new ProviderSchemaError(`${requestLabel(info)} answered ${res.status} with malformed JSON.`);
  }
}

/** JSON of an error answer, or undefined when it is not JSON (never throws). */
export function errorJson(res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body.toString("utf8"));
  } catch {
    return undefined;
  }
}

function flattenHeaders(headers: AxiosResponse["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined || v === null) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : String(v);
  }
  return out;
}

function checkContentType(
  headers: Record<string, string>,
  allowed: readonly string[] | undefined,
  info: RequestInfo,
): void {
  if (!allowed) return;
  const type = (headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (!allowed.map((t) => t.toLowerCase()).includes(type)) {
    throw new DownloadRejectedError(
      `${requestLabel(info)} answered content type "${type.slice(0, 100)}"; allowed: ${allowed.join(", ")}.`,
      "content_type",
    );
  }
}

// --- Errors ------------------------------------------------------------------------------------

/** The path of a URL, without query or fragment; "(invalid URL)" when it does not parse. */
export function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return "(invalid URL)";
  }
}

function tooLarge(info: RequestInfo, maxBytes: number, purpose: HttpRequest["purpose"]): AppError {
  const message = `${requestLabel(info)} answered more than ${maxBytes} bytes.`;
  return purpose === "download"
    ? new DownloadRejectedError(message, "too_large")
    : new ProviderSchemaError(`${message} (HTTP_MAX_RESPONSE_BYTES)`);
}

function transportError(e: unknown, info: RequestInfo, timedOut: boolean, timeoutMs: number): AppError {
  if (timedOut || (axios.isAxiosError(e) && (e.code === "ECONNABORTED" || e.code === "ETIMEDOUT"))) {
    return new TransientError(`${requestLabel(info)} timed out after ${timeoutMs} ms.`);
  }
  const code = (e as { code?: unknown })?.code;
  return new TransientError(`${requestLabel(info)} failed: ${typeof code === "string" ? code : "network error"}.`);
}

/** The generic mapping of a non-2xx answer nobody classified and that is not retried (any more). */
function statusError(res: HttpResponse, info: RequestInfo, purpose: "api" | "download"): AppError {
  const status = res.status;
  if (status === 408 || status >= 500) return new TransientError(`${requestLabel(info)} answered ${status}.`);
  if (purpose === "download") return new DownloadRejectedError(`${requestLabel(info)} answered ${status}.`, "status");
  if (status === 401) return new TokenRejectedError(`${requestLabel(info)} rejected the access token (401).`);
  if (status === 403) {
    return new NotAllowedError(
      `${requestLabel(info)} answered 403${providerMessage(res)}: the provider does not allow this account or app.`,
    );
  }
  return new ProviderSchemaError(`${requestLabel(info)} answered ${status}${providerMessage(res)}.`);
}

/** A short, scrubbed provider error message (": …") for error texts, or "". */
export function providerMessage(res: HttpResponse): string {
  const body = errorJson(res) as Record<string, unknown> | undefined;
  const e = body?.error;
  const msg =
    (typeof e === "object" && e !== null ? (e as Record<string, unknown>).message : undefined) ??
    body?.error_description ??
    body?.error_message ??
    (typeof e === "string" ? e : undefined);
  return typeof msg === "string" && msg ? `: ${scrub(msg)}` : "";
}

/** Cuts a provider-supplied text and masks anything that looks like a token. */
export function scrub(text: string): string {
  return text.replace(/[A-Za-z0-9._~+/=-]{32,}/g, "[redacted]").slice(0, 200);
}

/**
 * Retry-After as milliseconds from `now`: delta-seconds or an HTTP date. Undefined when absent,
 * unparseable or a date in the past — the caller's normal backoff applies then, rather than
 * "retry at once". How long is too long is the sync policy's to bound (MAX_PAUSE_HOURS).
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at) || at <= now.getTime()) return undefined;
  return at - now.getTime();
}
