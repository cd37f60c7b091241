import { allowedOrigins, providerFromPath, redirectUriFor, resolveReturnUrl, withQuery } from "../../../src/oauth/urls";
import { testConfig } from "./fakes";

const config = testConfig();

describe("resolveReturnUrl", () => {
  it("when no return path is given, then the app's root is used", () => {
    expect(resolveReturnUrl(config, undefined)).toBe("https://app.example.test/");
    expect(resolveReturnUrl(config, "")).toBe("https://app.example.test/");
  });

  it("when a path on the app is given, then it is resolved against APP_URL with its query and fragment", () => {
    expect(resolveReturnUrl(config, "/settings/connections?tab=2#top")).toBe(
      "https://app.example.test/settings/connections?tab=2#top",
    );
  });

  it("when a path has dots inside segment names (not dot segments), then it is accepted", () => {
    expect(resolveReturnUrl(config, "/v1.2/..settings/a.b")).toBe("https://app.example.test/v1.2/..settings/a.b");
  });

  it("when an absolute URL on an allow-listed origin is given, then it is accepted", () => {
    expect(resolveReturnUrl(config, "https://admin.example.test/x")).toBe("https://admin.example.test/x");
    expect(resolveReturnUrl(config, "http://127.0.0.1:5002/")).toBe("http://127.0.0.1:5002/");
  });

  it.each([
    ["another origin", "https://evil.example/"],
    ["a look-alike subdomain", "https://app.example.test.evil.example/"],
    ["another port of an allowed host", "http://127.0.0.1:5003/"],
    ["a protocol-relative URL", "//evil.example/x"],
    ["a backslash trick", "/\\evil.example"],
    ["a javascript: URL", "javascript:alert(1)"],
    ["a data: URL", "data:text/html,hi"],
    ["credentials in the URL", "https://user:pw@app.example.test/"],
    ["a relative path without a slash", "settings"],
    ["a control character", "/a\nb"],
    ["an over-long value", `/${"a".repeat(3000)}`],
    ["a dot-dot segment that resolves to a protocol-relative path", "/..//evil.com"],
    ["a dot segment that resolves to a protocol-relative path", "/.//evil.com"],
    ["a percent-encoded dot-dot segment", "/%2e%2e//evil.com"],
    ["a dot-dot segment inside the path", "/a/../..//evil.com"],
    ["an upper-case encoded dot segment", "/settings/%2E%2E/x"],
    ["an allow-listed origin with a protocol-relative path", "https://admin.example.test//evil.com"],
  ])("when the return URL is %s, then it is refused", (_what, input) => {
    expect(() => resolveReturnUrl(config, input)).toThrow(/return (URL|path)/);
  });
});

describe("redirect URIs and callback paths", () => {
  it("when a redirect URI is built, then each provider gets its own under OAUTH_REDIRECT_URI", () => {
    expect(redirectUriFor(config, "spotify")).toBe("https://app.example.test/api/oauth/callback/spotify");
    expect(redirectUriFor(config, "instagram")).toBe("https://app.example.test/api/oauth/callback/instagram");
  });

  it("when the callback path ends in a provider, then that provider is found, with or without the Hosting prefix", () => {
    expect(providerFromPath("/api/oauth/callback/spotify")).toBe("spotify");
    expect(providerFromPath("/instagram")).toBe("instagram");
    expect(providerFromPath("/instagram/")).toBe("instagram");
  });

  it("when the callback path names no known provider, then none is found", () => {
    expect(providerFromPath("/api/oauth/callback")).toBeUndefined();
    expect(providerFromPath("/")).toBeUndefined();
    expect(providerFromPath("/api/oauth/callback/myspace")).toBeUndefined();
  });
});

describe("allowedOrigins and withQuery", () => {
  it("when the allow-list holds URLs with paths and junk, then only their origins count, plus APP_URL's", () => {
    const origins = allowedOrigins({
      APP_URL: "https://a.test/app",
      RETURN_URL_ALLOWLIST: ["https://b.test/x", "nope"],
    });
    expect([...origins].sort()).toEqual(["https://a.test", "https://b.test"]);
  });

  it("when query parameters are added, then existing ones are replaced and the fragment is kept", () => {
    expect(withQuery("https://a.test/p?connected=x&k=1#f", { connected: "spotify" })).toBe(
      "https://a.test/p?connected=spotify&k=1#f",
    );
  });
});
