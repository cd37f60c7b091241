import { ReauthRequiredError, TokenRejectedError, TransientError } from "../../../src/errors";
import { withAccessToken } from "../../../src/providers/session";
import type { ProviderContext, ProviderModule, TokenSet } from "../../../src/providers/types";
import { unitConfig } from "../../support/http-fake";

const NOW = new Date("2026-03-01T10:00:00Z");
const ctx: ProviderContext = { config: unitConfig(), now: () => NOW };
const tokens: TokenSet = {
  accessToken: "A1",
  refreshToken: "R1",
  expiresAt: new Date(NOW.getTime() + 3_600_000),
  issuedAt: NOW,
  scopes: [],
};

/** A module whose refresh hands out A2, A3, … and records calls. */
function fakeModule(due: boolean) {
  let n = 1;
  const events: string[] = [];
  const module = {
    id: "spotify",
    refreshDue: () => due,
    refresh: async (_ctx: ProviderContext, t: TokenSet) => {
      events.push(`refresh ${t.accessToken}`);
      return { ...t, accessToken: `A${++n}` };
    },
  } as unknown as ProviderModule;
  const save = async (t: TokenSet) => {
    events.push(`save ${t.accessToken}`);
  };
  return { module, save, events };
}

describe("withAccessToken", () => {
  it("when a refresh is due, then it refreshes and saves before the call uses the new token", async () => {
    const { module, save, events } = fakeModule(true);
    const out = await withAccessToken(ctx, module, tokens, save, async (a) => {
      events.push(`call ${a}`);
      return 7;
    });
    expect(out).toEqual({ result: 7, tokens: { ...tokens, accessToken: "A2" } });
    expect(events).toEqual(["refresh A1", "save A2", "call A2"]);
  });

  it("when a token that was not just refreshed is rejected, then it refreshes once and retries", async () => {
    const { module, save, events } = fakeModule(false);
    const out = await withAccessToken(ctx, module, tokens, save, async (a) => {
      events.push(`call ${a}`);
      if (a === "A1") throw new TokenRejectedError("401");
      return a;
    });
    expect(out.result).toBe("A2");
    expect(events).toEqual(["call A1", "refresh A1", "save A2", "call A2"]);
  });

  it("when a freshly refreshed token is rejected, then ReauthRequiredError without another refresh", async () => {
    const { module, save, events } = fakeModule(true);
    const error = await withAccessToken(ctx, module, tokens, save, async () => {
      throw new TokenRejectedError("Spotify GET /v1/me rejected the access token (401).");
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReauthRequiredError);
    expect((error as ReauthRequiredError).reason).toMatch(/reconnect Spotify/);
    expect(events).toEqual(["refresh A1", "save A2"]);
  });

  it("when the retried call is rejected again, then ReauthRequiredError", async () => {
    const { module, save } = fakeModule(false);
    await expect(
      withAccessToken(ctx, module, tokens, save, async () => {
        throw new TokenRejectedError("401");
      }),
    ).rejects.toBeInstanceOf(ReauthRequiredError);
  });

  it("when there is no refresh token, then a rejection is ReauthRequiredError at once", async () => {
    const { module, save, events } = fakeModule(false);
    const { refreshToken: _r, ...noRefresh } = tokens;
    await expect(
      withAccessToken(ctx, module, noRefresh, save, async () => {
        throw new TokenRejectedError("401");
      }),
    ).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(events).toEqual([]);
  });

  it("when the call fails otherwise, then the error passes through untouched", async () => {
    const { module, save } = fakeModule(false);
    const boom = new TransientError("503");
    await expect(withAccessToken(ctx, module, tokens, save, async () => Promise.reject(boom))).rejects.toBe(boom);
  });
});
