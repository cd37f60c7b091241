import { redact } from "../../src/logs";

describe("redact", () => {
  it("when a field looks like a credential, then its value is replaced at any depth", () => {
    const out = redact({
      accessToken: "SECRET-1",
      nested: { refresh_token: "SECRET-2", authorization: "Bearer SECRET-3", client_secret: "SECRET-4" },
      code: "AQBx9_long-OAuth-code-SECRET-5",
      state: "SECRET-6",
    }) as Record<string, unknown>;
    expect(JSON.stringify(out)).not.toMatch(/SECRET|Bearer/);
    expect(out.accessToken).toBe("[redacted]");
    expect((out.nested as Record<string, unknown>).refresh_token).toBe("[redacted]");
  });

  it("when a sensitive-looking key holds a flag, a count or an error code, then it is kept", () => {
    const out = redact({ tokenRefreshed: true, tokens: 3, error: { code: "needs_reauth" } }) as Record<string, unknown>;
    expect(out).toEqual({ tokenRefreshed: true, tokens: 3, error: { code: "needs_reauth" } });
  });

  it("when a string is very long, then it is cut", () => {
    expect((redact("x".repeat(2000)) as string).length).toBeLessThan(510);
  });
});
