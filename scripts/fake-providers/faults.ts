/**
 * Fault injection and the rolling rate limit.
 *
 * A fault matches by provider, endpoint (a route's name, e.g. "me/playlists", "token", "media";
 * omitted = the provider's API and token endpoints; "invalid_grant" defaults to the token endpoint,
 * "403" and "quota" to the API), account (omitted = any) and app (`clientId`, omitted = any: the
 * app a token POST authenticates as, or the app an API call's token was issued to). It fires
 * `times` times (default: until cleared). The first matching fault in the order they were added wins.
 */
import type { ProviderId } from "./data";

export const FAULT_KINDS = [
  "429",
  "5xx",
  "hang",
  "slow",
  "malformed",
  "schema",
  "invalid_grant",
  "ig190",
  "403",
  "bad-item",
  // A used-up quota (Google: 403 reason quotaExceeded, domain youtube.quota; Spotify: 429 reason
  // QUOTA_EXCEEDED); other providers answer their 5xx.
  "quota",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  accountId?: string;
  /** Only requests made as this app (its client id). */
  clientId?: string;
  endpoint?: string;
  kind: FaultKind;
  /** "429": the Retry-After header (default 1 s); Spotify's "quota": likewise (default 3,600 s). */
  retryAfterSeconds?: number;
  /** "slow": how long to wait before answering normally (default 2,000 ms). */
  delayMs?: number;
  /** How many matching requests it hits before it clears itself (default: all). */
  times?: number;
  /** How many matching requests it lets through before it starts hitting (default 0). */
  skip?: number;
  /** "5xx": the status (default 503). */
  status?: number;
}

/** What kind of route a request hit: consent pages, token endpoints, the data API, or CDN files. */
export type RouteKind = "page" | "token" | "api" | "cdn";

export interface ActiveFault extends FaultSpec {
  id: string;
  provider: ProviderId;
  remaining: number;
  fired: number;
  /** Matching requests let through so far (up to `skip`). */
  passed: number;
}

export class FaultTable {
  private faults: ActiveFault[] = [];
  private nextId = 1;

  add(provider: ProviderId, spec: FaultSpec): ActiveFault {
    if (!FAULT_KINDS.includes(spec.kind)) {
      throw new Error(`Unknown fault kind "${String(spec.kind)}" (one of ${FAULT_KINDS.join(", ")}).`);
    }
    if (spec.times !== undefined && !(Number.isInteger(spec.times) && spec.times > 0)) {
      throw new Error(`Fault "times" must be a positive integer (got ${String(spec.times)}).`);
    }
    if (spec.skip !== undefined && !(Number.isInteger(spec.skip) && spec.skip >= 0)) {
      throw new Error(`Fault "skip" must be an integer >= 0 (got ${String(spec.skip)}).`);
    }
    const fault: ActiveFault = {
      ...spec,
      id: `f${this.nextId++}`,
      provider,
      remaining: spec.times ?? Number.POSITIVE_INFINITY,
      fired: 0,
      passed: 0,
    };
    this.faults.push(fault);
    return fault;
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length < before;
  }

  clear(): void {
    this.faults = [];
  }

  list(): ActiveFault[] {
    return [...this.faults];
  }

  /** The fault to apply to this request (counting it as fired), or undefined. */
  take(
    provider: ProviderId,
    endpoint: string,
    routeKind: RouteKind,
    accountId: string | undefined,
    clientId?: string | undefined,
  ) {
    const fault = this.faults.find(
      (f) =>
        f.provider === provider &&
        (f.accountId === undefined || f.accountId === accountId) &&
        (f.clientId === undefined || f.clientId === clientId) &&
        endpointMatches(f, endpoint, routeKind),
    );
    if (!fault) return undefined;
    if (fault.passed < (fault.skip ?? 0)) {
      fault.passed++;
      return undefined;
    }
    fault.fired++;
    fault.remaining--;
    if (fault.remaining <= 0) this.remove(fault.id);
    return fault;
  }
}

function endpointMatches(f: FaultSpec, endpoint: string, routeKind: RouteKind): boolean {
  if (f.endpoint !== undefined && f.endpoint !== "*") return f.endpoint === endpoint;
  if (f.kind === "invalid_grant") return routeKind === "token";
  if (f.kind === "403" || f.kind === "quota") return routeKind === "api";
  return routeKind === "api" || routeKind === "token";
}

export interface RateLimitSpec {
  windowSeconds: number;
  budget: number;
}

/**
 * Spotify-style rolling window per app: at most `budget` API requests in any `windowSeconds`
 * (fake clock). A request over budget is refused with the seconds until the oldest request in the
 * window leaves it; refused requests do not count.
 */
export class RollingLimiter {
  private spec: RateLimitSpec | null = null;
  private hits: number[] = [];

  set(spec: RateLimitSpec | null): void {
    if (spec && !(spec.windowSeconds > 0 && Number.isInteger(spec.budget) && spec.budget >= 0)) {
      throw new Error("rateLimit needs windowSeconds > 0 and an integer budget >= 0 (or null to turn it off).");
    }
    this.spec = spec;
    this.hits = [];
  }

  get current(): RateLimitSpec | null {
    return this.spec;
  }

  /** undefined = allowed (and counted); a number = refused, retry after that many seconds. */
  check(nowMs: number): number | undefined {
    if (!this.spec) return undefined;
    const windowMs = this.spec.windowSeconds * 1000;
    while (this.hits.length > 0 && this.hits[0]! <= nowMs - windowMs) this.hits.shift();
    if (this.hits.length >= this.spec.budget) {
      const oldest = this.hits[0] ?? nowMs;
      return Math.max(1, Math.ceil((oldest + windowMs - nowMs) / 1000));
    }
    this.hits.push(nowMs);
    return undefined;
  }
}

// --- Body transforms for the faults that answer 200 with a broken body ----------------------------

/** Cuts a body in half: no longer valid JSON (or a truncated file). */
export function truncate(body: string | Buffer): string | Buffer {
  const half = Math.max(1, Math.floor(body.length / 2));
  return typeof body === "string" ? body.slice(0, half) : body.subarray(0, half);
}

const ENVELOPE_KEYS = ["items", "data", "id", "user_id", "access_token", "display_name", "username"];

/** Valid JSON that fails the response schema: the envelope's key fields get the wrong types. */
export function breakSchema(value: unknown): unknown {
  if (!value || typeof value !== "object" || Array.isArray(value)) return { unexpected: true };
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  let broke = false;
  for (const k of ENVELOPE_KEYS) {
    if (k in out) {
      out[k] = typeof out[k] === "number" ? "not-a-number" : 12345;
      broke = true;
    }
  }
  if (!broke) out.items = 12345;
  return out;
}

/** One item of a list response (Spotify `items`, Graph `data`) no longer fits its schema. */
export function breakOneItem(value: unknown): unknown {
  if (!value || typeof value !== "object") return value;
  const out = { ...(value as Record<string, unknown>) };
  for (const key of ["items", "data"]) {
    const list = out[key];
    if (Array.isArray(list) && list.length > 0) {
      out[key] = [{ id: null, name: 42, media_type: 42, track: "not-a-track", type: 7 }, ...list.slice(1)];
    }
  }
  return out;
}
