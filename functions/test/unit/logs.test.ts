import { randomBytes } from "node:crypto";
import { maskCredentials, redact } from "../../src/logs";

/** A random credential-looking value (what a provider would issue). */
const secret = (label: string) => `${label}${randomBytes(18).toString("base64url")}`;
/** A JWT-shaped string: three base64url parts, the first one `eyJ…`. */
const jwt = () =>
  [
    Buffer.from(JSON.stringify({ alg: "RS256", kid: "k1" })).toString("base64url"),
    Buffer.from(JSON.stringify({ sub: "user-1", email: "ada@example.com", exp: 1 })).toString("base64url"),
    randomBytes(64).toString("base64url"),
  ].join(".");
const text = (v: unknown) => JSON.stringify(v);
const expectNoLeak = (out: unknown, secrets: string[]) => {
  const s = text(out);
  for (const x of secrets) expect(s).not.toContain(x);
};

describe("redact: credential-looking keys", () => {
  it("when a field looks like a credential, then its value is replaced at any depth", () => {
    const out = redact({
      accessToken: "SECRET-1",
      nested: { refresh_token: "SECRET-2", authorization: "Bearer SECRET-3", client_secret: "SECRET-4" },
      code: "AQBx9_long-OAuth-code-SECRET-5",
      state: "SECRET-6",
    }) as Record<string, unknown>;
    expect(text(out)).not.toMatch(/SECRET|Bearer/);
    expect(out.accessToken).toBe("[redacted]");
    expect((out.nested as Record<string, unknown>).refresh_token).toBe("[redacted]");
  });

  it("when a key is one of the newer credential names, in any case, then its value is replaced", () => {
    const fields = {
      authCode: "v1",
      AUTH_CODE: "v2",
      oauthState: "v3",
      OAuthState: "v4",
      jwt: "v5",
      JWT: "v6",
      credential: "v7",
      Credentials: { user: "v8" },
      idToken: "v9",
      ID_TOKEN: "v10",
      sessionCookie: "v11",
      sessionId: "v12",
      assertion: "v13",
      client_assertion: "v14",
      nonce: "v15",
      codeVerifier: "v16",
      code_verifier: "v17",
      Authorization: "v18",
      ApiKey: "v19",
      passphrase: "v20",
      "X-Goog-Signature": "v21",
      Code: "v22-Mixed-Case-OAuth",
      STATE: "v23",
    };
    const out = redact(fields) as Record<string, unknown>;
    for (const k of Object.keys(fields)) expect([k, out[k]]).toEqual([k, "[redacted]"]);
  });

  it("when a sensitive-looking key holds a flag, a count or an error code, then it is kept", () => {
    const out = redact({
      tokenRefreshed: true,
      tokens: 3,
      credentialDocuments: 12,
      nonceCount: 0,
      state: null,
      error: { code: "needs_reauth" },
      cause: { code: "ECONNRESET" },
      auth: { code: "auth/id-token-expired" },
    });
    expect(out).toEqual({
      tokenRefreshed: true,
      tokens: 3,
      credentialDocuments: 12,
      nonceCount: 0,
      state: null,
      error: { code: "needs_reauth" },
      cause: { code: "ECONNRESET" },
      auth: "[redacted]",
    });
  });

  it("when ordinary fields are logged, then they pass unchanged", () => {
    const fields = {
      uid: "u-1",
      provider: "spotify",
      status: "connected",
      keyId: "k1",
      counts: { playlists: 51, media: 7 },
      reason: "Spotify answered 429; retry after 30 s",
      note: "Basic authentication is not used",
      url: "https://api.spotify.com/v1/me/playlists?limit=50&offset=100",
    };
    expect(redact(fields)).toEqual(fields);
  });
});

describe("redact: credential-looking values inside strings", () => {
  it("when a URL carries tokens in its query and its fragment, then the values are masked and the names kept", () => {
    const [a, r, c, st, id] = [secret("a"), secret("r"), secret("c"), secret("s"), jwt()];
    const out = redact({
      query: `https://app.example/api/oauth/callback/spotify?code=${c}&state=${st}`,
      fragment: `https://app.example/cb#access_token=${a}&token_type=Bearer&expires_in=3600&state=${st}`,
      upper: `https://graph.example/me?ACCESS_TOKEN=${a}&fields=id`,
      form: `grant_type=refresh_token&refresh_token=${r}&client_id=abc&client_secret=${c}`,
      oidc: `id_token=${id}`,
    }) as Record<string, string>;
    expectNoLeak(out, [a, r, c, st, id, id.split(".")[1]!]);
    expect(out.query).toBe("https://app.example/api/oauth/callback/spotify?code=[redacted]&state=[redacted]");
    expect(out.fragment).toBe(
      "https://app.example/cb#access_token=[redacted]&token_type=Bearer&expires_in=3600&state=[redacted]",
    );
    expect(out.upper).toBe("https://graph.example/me?ACCESS_TOKEN=[redacted]&fields=id");
    expect(out.form).toBe("grant_type=refresh_token&refresh_token=[redacted]&client_id=abc&client_secret=[redacted]");
  });

  it("when a callback URL is percent-encoded inside another URL, then its code and state are masked too", () => {
    const [c, st] = [secret("c"), secret("s")];
    const inner = `https://app.example/cb?code=${c}&state=${st}&x=1`;
    const out = maskCredentials(`https://id.example/login?next=${encodeURIComponent(inner)}&lang=en`);
    expectNoLeak(out, [c, st]);
    expect(out).toContain("%3Fcode%3D[redacted]%26state%3D[redacted]%26x%3D1");
    expect(out).toMatch(/&lang=en$/);
  });

  it("when a message carries a Bearer or Basic credential or a JWT, then they are masked", () => {
    const [t, id] = [secret("t"), jwt()];
    const basic = Buffer.from("client-id:client-secret-value").toString("base64");
    const out = redact({
      header: `Authorization: Bearer ${t}`,
      lower: `sent bearer ${id} to the API`,
      basic: `Authorization: Basic ${basic}`,
      bare: `the ID token ${id} expired`,
    }) as Record<string, string>;
    expectNoLeak(out, [t, id, basic, id.split(".")[1]!, id.split(".")[2]!]);
    expect(out.header).toBe("Authorization: Bearer [redacted]");
    expect(out.lower).toBe("sent bearer [redacted] to the API");
    expect(out.basic).toBe("Authorization: Basic [redacted]");
    expect(out.bare).toBe("the ID token [redacted] expired");
  });

  it("when a message embeds a JSON body with tokens, also escaped JSON, then the token values are masked", () => {
    const [a, r] = [secret("a"), secret("r")];
    const body = JSON.stringify({ access_token: a, token_type: "Bearer", expires_in: 3600, refresh_token: r });
    const out = redact({ message: `unexpected answer ${body}`, twice: JSON.stringify({ body }) }) as Record<
      string,
      string
    >;
    expectNoLeak(out, [a, r]);
    expect(out.message).toContain('"access_token":"[redacted]"');
    expect(out.message).toContain('"token_type":"Bearer"');
    expect(out.message).toContain('"expires_in":3600');
  });

  it("when an Error's message contains tokens, then the message is masked and name and code kept", () => {
    const [c, t] = [secret("c"), secret("t")];
    const e = Object.assign(
      new Error(`token exchange failed for https://acc.example/api/token?code=${c} with Bearer ${t}`),
      {
        code: "exchange_failed",
      },
    );
    const out = redact({ error: e, nested: [{ cause: new TypeError(`fetch ...&access_token=${t}`) }] });
    expectNoLeak(out, [c, t]);
    expect(out).toEqual({
      error: {
        name: "Error",
        message: "token exchange failed for https://acc.example/api/token?code=[redacted] with Bearer [redacted]",
        code: "exchange_failed",
      },
      nested: [{ cause: { name: "TypeError", message: "fetch ...&access_token=[redacted]" } }],
    });
  });

  it("when an Error's code itself looks like a credential, then it is redacted", () => {
    const e = Object.assign(new Error("x"), { code: secret("AQ") });
    expect((redact(e) as Record<string, unknown>).code).toBe("[redacted]");
  });

  it("when tokens hide in arrays and deep nesting, then every one is masked", () => {
    const ts = [secret("a"), secret("b"), secret("c"), secret("d")];
    const out = redact({
      list: [`?access_token=${ts[0]}`, { refreshToken: ts[1] }, [[`Bearer ${ts[2]}`]]],
      a: { b: { c: { urls: [`https://x.example/?state=${ts[3]}`] } } },
    });
    expectNoLeak(out, ts);
  });

  it("when the value is bytes, then only its length is logged", () => {
    const key = randomBytes(32);
    const out = redact({ data: key, view: new Uint8Array(key) });
    expect(out).toEqual({ data: "[32 bytes]", view: "[32 bytes]" });
  });
});

describe("redact: size limits", () => {
  it("when a string is very long, then it is cut", () => {
    expect((redact("x".repeat(2000)) as string).length).toBeLessThan(510);
  });

  it("when a token sits across the cut, then neither its start nor its end is shown", () => {
    for (const pad of [470, 490, 495, 499]) {
      const t = secret("t");
      const id = jwt();
      const s = `${"x".repeat(pad)} access_token=${t} ${"y".repeat(pad)} ${id}`;
      const out = redact(s) as string;
      expect(out.length).toBeLessThanOrEqual(501);
      expect(out).not.toContain(t.slice(0, 6));
      const cutJwt = redact(`${"x".repeat(pad)} ${id}`) as string;
      expect(cutJwt).not.toContain(id.split(".")[1]!.slice(0, 8));
    }
  });

  it("when a JWT straddles the cut, then the part that would show is masked", () => {
    const id = jwt();
    const header = id.split(".")[0]!;
    const out = redact(`${"x".repeat(500 - header.length - 3)} ${id}`) as string;
    expect(out).not.toContain(id.slice(0, header.length + 3));
  });

  it("when a string is huge, then masking stays fast and the result is short", () => {
    const t = secret("t");
    const huge = `?access_token=${t}&${"a=b&".repeat(200_000)}${"eyJ".repeat(50_000)}`;
    const started = Date.now();
    const out = redact({ message: huge }) as { message: string };
    expect(Date.now() - started).toBeLessThan(1000);
    expect(out.message.length).toBeLessThanOrEqual(501);
    expect(out.message).not.toContain(t);
  });

  it("when an object is very deep or an array very long, then it is bounded", () => {
    const deep = { a: { b: { c: { d: { e: { f: { token: "SECRET" } } } } } } };
    expect(text(redact(deep))).not.toContain("SECRET");
    expect(text(redact(deep))).toContain("[…]");
    expect((redact(Array.from({ length: 500 }, (_, i) => i)) as unknown[]).length).toBe(50);
  });
});
