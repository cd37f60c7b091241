import { TOKEN_VARIABLES, type TokenVariable, REFRESH_FIRST_ACCESS_TOKEN, legacyGrants } from "./legacy-tokens";

const names = Object.fromEntries(TOKEN_VARIABLES.map((v) => [v, v])) as Record<TokenVariable, string>;
const now = new Date("2026-01-10T00:00:00Z");

describe("legacy token variables", () => {
  it("when only a Spotify refresh token is given, then the grant is stored expired so the sync refreshes first", () => {
    const { grants, problems } = legacyGrants({ SPOTIFY_REFRESH_TOKEN: "r1", SPOTIFY_USER_ID: "sp-user" }, names, now);
    expect(problems).toEqual([]);
    expect(grants).toHaveLength(1);
    const g = grants[0]!;
    expect(g.provider).toBe("spotify");
    expect(g.accountId).toBe("sp-user");
    expect(g.tokens.refreshToken).toBe("r1");
    expect(g.tokens.accessToken).toBe(REFRESH_FIRST_ACCESS_TOKEN);
    expect(g.tokens.expiresAt.getTime()).toBeLessThan(now.getTime());
  });

  it("when the Instagram expiry is given, then it is kept and the token counts as issued 60 days earlier", () => {
    const { grants } = legacyGrants(
      { INSTAGRAM_ACCESS_TOKEN: "ig", INSTAGRAM_TOKEN_EXPIRES_AT: "2026-02-01T00:00:00Z", INSTAGRAM_SCOPES: "a, b" },
      names,
      now,
    );
    expect(grants[0]!.tokens.expiresAt.toISOString()).toBe("2026-02-01T00:00:00.000Z");
    expect(grants[0]!.tokens.issuedAt.toISOString()).toBe("2025-12-03T00:00:00.000Z");
    expect(grants[0]!.tokens.scopes).toEqual(["a", "b"]);
  });

  it("when variables are renamed with --var, then the renamed ones are read", () => {
    const renamed = { ...names, INSTAGRAM_ACCESS_TOKEN: "OLD_IG_TOKEN" };
    const { grants } = legacyGrants({ OLD_IG_TOKEN: "ig", INSTAGRAM_ACCESS_TOKEN: "ignored" }, renamed, now);
    expect(grants[0]!.tokens.accessToken).toBe("ig");
  });

  it("when a user id is given without its token, or an expiry is garbage, then it is a problem", () => {
    const { grants, problems } = legacyGrants(
      {
        INSTAGRAM_USER_ID: "x",
        SPOTIFY_REFRESH_TOKEN: "r",
        SPOTIFY_ACCESS_TOKEN: "a",
        SPOTIFY_TOKEN_EXPIRES_AT: "soon",
      },
      names,
      now,
    );
    expect(problems).toHaveLength(2);
    expect(problems.join(" ")).not.toMatch(/SECRET/);
    expect(grants.map((g) => g.provider)).toEqual(["spotify"]);
  });
});
