import { inspect } from "node:util";
import {
  DeadlineExceededError,
  NotAllowedError,
  ProviderSchemaError,
  RateLimitedError,
  TokenRejectedError,
  TransientError,
} from "../../../src/errors";
import { BACKOFF_BASE_MS, HttpClient, type HttpLimits, parseRetryAfter } from "../../../src/http/client";
import { RateGate } from "../../../src/http/rateGate";
import { type FakeAnswer, fakeHttp } from "../../support/http-fake";

const limits: HttpLimits = { timeoutMs: 50, maxResponseBytes: 1_000, maxRetries: 3, retryAfterCapSeconds: 30 };
const NOW = new Date("2026-01-01T00:00:00Z");

function client(answers: (FakeAnswer | "hang")[], overrides: Partial<HttpLimits> = {}) {
  let i = 0;
  const fake = fakeHttp(() => answers[Math.min(i++, answers.length - 1)]!, { now: () => NOW });
  const http = new HttpClient({ service: "Test", limits: { ...limits, ...overrides }, deps: fake.deps });
  return { http, ...fake };
}

const get = { method: "GET" as const, url: "https://api.example.test/v1/things?access_token=SECRET-IN-QUERY" };

describe("HttpClient retries", () => {
  it("when a GET answers 5xx and then 200, then it retries with exponential backoff and returns the 200", async () => {
    const { http, requests, waits } = client([{ status: 503 }, { status: 500 }, { status: 200, body: { ok: 1 } }]);
    await expect(http.json(get)).resolves.toEqual({ ok: 1 });
    expect(requests).toHaveLength(3);
    expect(http.requests).toBe(3);
    // random() = 0.5 → three quarters of base × 2^attempt.
    expect(waits).toEqual([0.75 * BACKOFF_BASE_MS, 0.75 * BACKOFF_BASE_MS * 2]);
  });

  it("when a GET keeps answering 5xx, then it sends 1 + maxRetries requests and throws TransientError", async () => {
    const { http, requests } = client([{ status: 502 }]);
    await expect(http.request(get)).rejects.toBeInstanceOf(TransientError);
    expect(requests).toHaveLength(1 + limits.maxRetries);
  });

  it("when a GET answers 408, then it is retried like a 5xx", async () => {
    const { http, requests } = client([{ status: 408 }, { status: 200, body: {} }]);
    await http.request(get);
    expect(requests).toHaveLength(2);
  });

  it("when a POST answers 5xx, then it is not retried (it may have been processed)", async () => {
    const { http, requests } = client([{ status: 500 }]);
    await expect(http.request({ method: "POST", url: get.url, form: { a: "b" } })).rejects.toBeInstanceOf(
      TransientError,
    );
    expect(requests).toHaveLength(1);
  });

  it("when a POST answers 429 with a short Retry-After, then it waits that long and retries", async () => {
    const { http, requests, waits } = client([
      { status: 429, headers: { "retry-after": "2" } },
      { status: 200, body: {} },
    ]);
    await http.request({ method: "POST", url: get.url, form: {} });
    expect(requests).toHaveLength(2);
    expect(waits).toEqual([2_000]);
  });

  it("when 4xx other than 408/429 comes back, then there is no retry and the error is typed by status", async () => {
    const cases: [number, new (...a: never[]) => Error][] = [
      [401, TokenRejectedError],
      [403, NotAllowedError],
      [404, ProviderSchemaError],
      [400, ProviderSchemaError],
    ];
    for (const [status, type] of cases) {
      const { http, requests } = client([{ status, body: { error: { status, message: "nope" } } }]);
      await expect(http.request(get)).rejects.toBeInstanceOf(type);
      expect(requests).toHaveLength(1);
    }
  });
});

describe("HttpClient rate limits", () => {
  it("when Retry-After exceeds the cap, then it throws RateLimitedError at once, carrying the retry time", async () => {
    const { http, requests, waits } = client([{ status: 429, headers: { "retry-after": String(12 * 3600) } }]);
    const error = await http.request(get).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAt.toISOString()).toBe("2026-01-01T12:00:00.000Z");
    expect((error as RateLimitedError).scope).toBe("account"); // the client's default
    expect(requests).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("when the client is told a 429 is the whole app's limit, then its RateLimitedError says so", async () => {
    const fake = fakeHttp(() => ({ status: 429, headers: { "retry-after": String(12 * 3600) } }), { now: () => NOW });
    const http = new HttpClient({ service: "Test", limits, rateLimitScope: "app", deps: fake.deps });
    const error = (await http.request(get).catch((e: unknown) => e)) as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.scope).toBe("app");
  });

  it("when 429 keeps coming within the cap, then after maxRetries it throws RateLimitedError", async () => {
    const { http, requests, waits } = client([{ status: 429, headers: { "retry-after": "1" } }]);
    const error = await http.request(get).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAt.getTime()).toBe(NOW.getTime() + 1_000);
    expect(requests).toHaveLength(1 + limits.maxRetries);
    expect(waits).toEqual([1_000, 1_000, 1_000]);
  });

  it("when a 429 has no Retry-After, then it backs off exponentially", async () => {
    const { http, waits } = client([{ status: 429 }, { status: 429 }, { status: 200, body: {} }]);
    await http.request(get);
    expect(waits).toEqual([0.75 * BACKOFF_BASE_MS, 1.5 * BACKOFF_BASE_MS]);
  });

  it("when Retry-After is an HTTP date, then it is read as the time until that date", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:01:00 GMT", NOW)).toBe(60_000);
    expect(parseRetryAfter("7", NOW)).toBe(7_000);
    expect(parseRetryAfter("soon", NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    // A date in the past (clock skew, a stale proxy) is no instruction: the normal backoff applies.
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", NOW)).toBeUndefined();
    expect(parseRetryAfter("-5", NOW)).toBeUndefined();
  });
});

describe("HttpClient limits", () => {
  it("when the endpoint hangs, then the request fails with TransientError after the timeout, without retry", async () => {
    const { http, requests } = client(["hang"]);
    const started = Date.now();
    const error = await http.request(get).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/timed out after 50 ms/);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(requests).toHaveLength(1);
  });

  it("when the answer is larger than the cap, then it is a ProviderSchemaError", async () => {
    const { http } = client([{ status: 200, body: "x".repeat(1_001) }]);
    await expect(http.request(get)).rejects.toThrow(/more than 1000 bytes/);
    await expect(client([{ status: 200, body: "x".repeat(1_001) }]).http.request(get)).rejects.toBeInstanceOf(
      ProviderSchemaError,
    );
  });

  it("when the answer is malformed JSON, then json() throws ProviderSchemaError", async () => {
    const { http } = client([{ status: 200, body: '{"items": [' }]);
    await expect(http.json(get)).rejects.toBeInstanceOf(ProviderSchemaError);
  });
});

describe("HttpClient redaction", () => {
  it("when a request with credentials fails, then neither its error nor its cause chain shows them", async () => {
    const { http } = client([{ status: 400, body: { error: "invalid_request", error_description: "bad" } }]);
    const error = await http
      .request({
        method: "POST",
        url: "https://accounts.example.test/api/token?code=CODE-IN-QUERY",
        headers: { authorization: "Basic SECRET-BASIC-CREDENTIALS" },
        form: { refresh_token: "SECRET-REFRESH-TOKEN", code: "SECRET-CODE" },
      })
      .catch((e: unknown) => e);
    const shown = `${inspect(error, { depth: 10 })} ${JSON.stringify(error)} ${(error as Error).message}`;
    for (const secret of ["SECRET", "CODE-IN-QUERY", "Basic"]) expect(shown).not.toContain(secret);
    expect((error as Error).message).toContain("Test POST /api/token answered 400");
  });

  it("when a provider error message contains a token-like string, then it is masked", async () => {
    const token = "IGAA" + "x".repeat(60);
    const { http } = client([{ status: 404, body: { error: { message: `token ${token} unknown` } } }]);
    const error = await http.request(get).catch((e: unknown) => e);
    expect((error as Error).message).toContain("token [redacted] unknown");
    expect((error as Error).message).not.toContain(token);
  });
});

describe("HttpClient deadline", () => {
  function withDeadline(answers: (FakeAnswer | "hang")[], msLeft: number, overrides: Partial<HttpLimits> = {}) {
    let i = 0;
    let now = NOW.getTime();
    const fake = fakeHttp(() => answers[Math.min(i++, answers.length - 1)]!, {
      now: () => new Date(now),
      // The fake sleep records the wait; the job's clock moves by it.
      sleep: async (ms) => {
        fake.waits.push(ms);
        now += ms;
      },
    });
    const http = new HttpClient({
      service: "Test",
      limits: { ...limits, ...overrides },
      deadline: { at: new Date(NOW.getTime() + msLeft), now: () => new Date(now), name: "TEST_DEADLINE (1 s)" },
      deps: fake.deps,
    });
    return { http, ...fake, advance: (ms: number) => (now += ms) };
  }

  it("when the deadline has passed, then the next request is not sent and DeadlineExceededError says which", async () => {
    const { http, requests, advance } = withDeadline([{ status: 200, body: {} }], 1_000);
    await http.request(get);
    advance(1_000);
    const error = await http.request(get).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ code: "timeout", action: "retry" });
    expect((error as Error).message).toBe("Test GET /v1/things was not sent: it would start past TEST_DEADLINE (1 s).");
    expect(requests).toHaveLength(1);
  });

  it("when a 429 asks for a wait that would end past the deadline, then the client does not wait", async () => {
    const { http, requests, waits } = withDeadline([{ status: 429, headers: { "retry-after": "5" } }], 3_000);
    const error = await http.request(get).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as Error).message).toMatch(/was not retried: waiting 5 s would pass TEST_DEADLINE/);
    expect(waits).toEqual([]);
    expect(requests).toHaveLength(1);
  });

  it("when a GET hangs across the deadline, then it is cut short there, not at its timeout", async () => {
    const { http } = withDeadline(["hang"], 30, { timeoutMs: 5_000 });
    const started = Date.now();
    const error = await http.request(get).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as Error).message).toMatch(/was cut short at TEST_DEADLINE/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("when a POST (a token refresh) is in flight at the deadline, then it keeps its whole timeout", async () => {
    const { http } = withDeadline(["hang"], 1, { timeoutMs: 80 });
    const error = await http.request({ method: "POST", url: get.url, form: {} }).catch((e: unknown) => e);
    // The refresh may have rotated the token at the provider: its answer is waited for.
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/timed out after 80 ms/);
  });
});

describe("HttpClient behind an app's rate gate", () => {
  /** A clock that the fake's sleeps move, shared by the gate (a 10 s window). */
  function gated(answer: (n: number) => FakeAnswer) {
    let t = 0;
    const gate = new RateGate(10_000, () => t, 100);
    let n = 0;
    const fake = fakeHttp(() => answer(n++), { now: () => NOW });
    const sleeps: number[] = [];
    const deps = {
      ...fake.deps,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        t += ms;
      },
    };
    const make = () => new HttpClient({ service: "Test", limits, rateLimitScope: "app", rateGate: gate, deps });
    return { gate, make, sleeps, requests: fake.requests, clock: { advance: (ms: number) => (t += ms) } };
  }

  it("when one request meets an app-wide 429, then another request of the app waits for the Retry-After instead of being sent into the full window", async () => {
    const g = gated((n) => (n === 0 ? { status: 429, headers: { "retry-after": "2" } } : { status: 200, body: {} }));
    await g.make().request(get); // refused once, waits 2 s at the gate, then succeeds
    expect(g.sleeps).toEqual([2_000]);
    g.clock.advance(-1_500); // a request of another sync, 0.5 s after the 429
    await g.make().request(get);
    // It waited for the gate's next turn (the first waiter's turn + 100 ms), then was sent once.
    expect(g.sleeps).toEqual([2_000, 1_600]);
    expect(g.requests).toHaveLength(3);
  });

  it("when the gate is open, then a request is sent at once", async () => {
    const g = gated(() => ({ status: 200, body: {} }));
    await g.make().request(get);
    expect(g.sleeps).toEqual([]);
  });

  it("when waiting at the gate would pass the job's deadline, then the request is not sent", async () => {
    const g = gated(() => ({ status: 200, body: {} }));
    g.gate.refused(5_000);
    const fake = fakeHttp(() => ({ status: 200, body: {} }), { now: () => NOW });
    const http = new HttpClient({
      service: "Test",
      limits,
      rateLimitScope: "app",
      rateGate: g.gate,
      deadline: { at: new Date(NOW.getTime() + 1_000), now: () => NOW, name: "the test's deadline" },
      deps: fake.deps,
    });
    await expect(http.request(get)).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(fake.requests).toHaveLength(0);
  });

  it("when a download is made, then it does not wait at the gate", async () => {
    const g = gated(() => ({ status: 200, body: "x", headers: { "content-type": "image/jpeg" } }));
    g.gate.refused(5_000);
    await g.make().request({ ...get, purpose: "download", allowedContentTypes: ["image/jpeg"] });
    expect(g.sleeps).toEqual([]);
  });
});
