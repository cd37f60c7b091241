/**
 * Download rules: scheme, CDN host suffixes, resolved addresses, every redirect hop, and the
 * connection pinned to the checked address. The refusals come before any connection: the stub
 * adapter counts what reached the transport, and the unit setup makes any socket or DNS lookup
 * throw a plain Error (never a DownloadRejectedError).
 */
import dns from "node:dns";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import * as net from "node:net";
import type { InternalAxiosRequestConfig } from "axios";
import { DownloadRejectedError, TransientError } from "../../../src/errors";
import { ipBytes, isLoopbackHost, nonPublicRange } from "../../../src/http/addresses";
import { type HttpDeps, MAX_DOWNLOAD_REDIRECTS } from "../../../src/http/client";
import {
  type DownloadPolicy,
  type ResolvedAddress,
  downloadFile,
  matchesSuffix,
  pinnedAgent,
} from "../../../src/http/download";
import { downloadPolicy } from "../../../src/providers/descriptor";
import { instagramDescriptor } from "../../../src/providers/instagram/descriptor";
import { spotifyDescriptor } from "../../../src/providers/spotify/descriptor";
import { type Responder, fakeHttp, unitConfig } from "../../support/http-fake";

const config = unitConfig({ HTTP_TIMEOUT_MS: "50" });
const LOCAL_BASE_URLS = {
  SPOTIFY_ACCOUNTS_BASE_URL: "http://127.0.0.1:9090/spotify-accounts",
  SPOTIFY_API_BASE_URL: "http://127.0.0.1:9090/spotify-api",
  INSTAGRAM_AUTHORIZE_BASE_URL: "http://127.0.0.1:9090/instagram-www",
  INSTAGRAM_OAUTH_BASE_URL: "http://127.0.0.1:9090/instagram-api",
  INSTAGRAM_GRAPH_BASE_URL: "http://127.0.0.1:9090/instagram-graph",
};
const localConfig = unitConfig({ HTTP_TIMEOUT_MS: "50", ...LOCAL_BASE_URLS });
const spotifyPolicy = downloadPolicy(spotifyDescriptor, config);
const instagramPolicy = downloadPolicy(instagramDescriptor, config);
const localSpotifyPolicy = downloadPolicy(spotifyDescriptor, localConfig);

const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
const JPEG_ANSWER = { body: jpeg, headers: { "content-type": "image/jpeg" } };
const PUBLIC_V4 = "151.101.2.1";
const SECRET_QUERY = "oh=SIGNED-SECRET&oe=1";

/** A stub transport that records every request config it receives (so a test can count and inspect). */
function stub(respond: Responder) {
  const fake = fakeHttp(respond);
  const configs: InternalAxiosRequestConfig[] = [];
  const inner = fake.deps.adapter!;
  const http: HttpDeps = {
    ...fake.deps,
    adapter: (c) => {
      configs.push(c);
      return inner(c);
    },
  };
  return { http, requests: fake.requests, configs };
}

/** A resolver answering from a table; unknown names fail like the system resolver. */
function resolver(table: Record<string, string[]>) {
  return jest.fn(async (hostname: string): Promise<ResolvedAddress[]> => {
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: net.isIP(address) }));
  });
}

const PUBLIC_CDN = {
  "i.scdn.co": [PUBLIC_V4],
  "mosaic.scdn.co": ["151.101.66.1"],
  "image-cdn-ak.spotifycdn.com": ["2600:1408:ec00::b8"],
};

function download(url: string, policy: DownloadPolicy, s: ReturnType<typeof stub>, resolve = resolver(PUBLIC_CDN)) {
  return downloadFile(policy.local ? localConfig : config, url, {
    maxBytes: 100,
    allowedContentTypes: ["image/jpeg"],
    policy,
    http: s.http,
    resolve,
  });
}

async function rejection(p: Promise<unknown>): Promise<DownloadRejectedError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DownloadRejectedError);
  return error as DownloadRejectedError;
}

/** The address a pinned agent's lookup answers for `hostname` (both lookup styles net uses). */
function lookupThrough(agent: unknown, hostname: string): Promise<{ one: string; all: string[] }> {
  const lookup = (agent as { options: { lookup: net.LookupFunction } }).options.lookup;
  return new Promise((resolve, reject) => {
    lookup(hostname, {}, (err, one) => {
      if (err) return reject(err);
      lookup(hostname, { all: true }, (err2, all) => {
        if (err2) return reject(err2);
        resolve({ one: one as string, all: (all as dns.LookupAddress[]).map((a) => a.address) });
      });
    });
  });
}

describe("download policy", () => {
  it("when the base URLs are the real providers', then it is not local: https on the CDN suffixes only", () => {
    expect(spotifyPolicy).toEqual({
      service: "Spotify",
      local: false,
      hostSuffixes: ["scdn.co", "spotifycdn.com"],
      localHosts: [],
    });
    expect(instagramPolicy.hostSuffixes).toEqual(["cdninstagram.com", "fbcdn.net"]);
    expect(instagramPolicy.local).toBe(false);
  });

  it("when every base URL is loopback (the fake server), then it is local and allows the fake's host:port", () => {
    expect(localSpotifyPolicy).toEqual({
      service: "Spotify",
      local: true,
      hostSuffixes: ["scdn.co", "spotifycdn.com"],
      localHosts: ["127.0.0.1:9090"],
    });
    expect(downloadPolicy(instagramDescriptor, localConfig).localHosts).toEqual(["127.0.0.1:9090"]);
  });

  it("when only some base URLs are loopback, then it is not local", () => {
    const mixed = unitConfig({ SPOTIFY_API_BASE_URL: "http://127.0.0.1:9090/spotify-api" });
    expect(downloadPolicy(spotifyDescriptor, mixed).local).toBe(false);
    const igMixed = unitConfig({ ...LOCAL_BASE_URLS, INSTAGRAM_GRAPH_BASE_URL: "https://graph.instagram.com" });
    expect(downloadPolicy(instagramDescriptor, igMixed).local).toBe(false);
  });

  it("when the base URLs name localhost or [::1], then those count as loopback", () => {
    expect(isLoopbackHost("localhost")).toBe(true);
    expect(isLoopbackHost("[::1]")).toBe(true);
    expect(isLoopbackHost("127.8.9.10")).toBe(true);
    expect(isLoopbackHost("10.0.0.1")).toBe(false);
    expect(isLoopbackHost("localhost.example.com")).toBe(false);
    const c = unitConfig({
      SPOTIFY_ACCOUNTS_BASE_URL: "http://localhost:9090/a",
      SPOTIFY_API_BASE_URL: "http://[::1]:9091/b",
    });
    expect(downloadPolicy(spotifyDescriptor, c)).toMatchObject({
      local: true,
      localHosts: ["localhost:9090", "[::1]:9091"],
    });
  });

  it("when a host is compared with a suffix, then it matches only at a label boundary", () => {
    const suffixes = spotifyDescriptor.images.hostSuffixes;
    expect(matchesSuffix("i.scdn.co", suffixes)).toBe(true);
    expect(matchesSuffix("scdn.co", suffixes)).toBe(true);
    expect(matchesSuffix("image-cdn-ak.spotifycdn.com", suffixes)).toBe(true);
    expect(matchesSuffix("evilscdn.co", suffixes)).toBe(false);
    expect(matchesSuffix("scdn.co.evil.com", suffixes)).toBe(false);
    expect(matchesSuffix("i.scdn.co.", suffixes)).toBe(false);
  });
});

describe("address ranges", () => {
  it.each([
    ["0.0.0.0", "this-network"],
    ["10.0.0.1", "private"],
    ["100.64.0.1", "shared (carrier-grade NAT)"],
    ["127.0.0.1", "loopback"],
    ["169.254.169.254", "link-local (cloud metadata)"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.0.0.8", "IETF protocol assignments"],
    ["192.168.1.1", "private"],
    ["198.19.255.1", "benchmarking"],
    ["224.0.0.1", "multicast"],
    ["240.0.0.1", "reserved (including broadcast)"],
    ["255.255.255.255", "reserved (including broadcast)"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["fd00::1", "unique local (private)"],
    ["fc00::1", "unique local (private)"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["ff02::1", "multicast"],
    ["::ffff:10.0.0.1", "private, as IPv4-mapped IPv6"],
    ["::ffff:a00:1", "private, as IPv4-mapped IPv6"],
    ["::ffff:169.254.169.254", "link-local (cloud metadata), as IPv4-mapped IPv6"],
    ["::ffff:127.0.0.1", "loopback, as IPv4-mapped IPv6"],
    ["::10.0.0.1", "private, as IPv4-compatible IPv6"],
    ["64:ff9b::10.0.0.1", "private, as NAT64"],
    ["64:ff9b::a9fe:a9fe", "link-local (cloud metadata), as NAT64"],
    ["2002:a00:1::1", "private, as 6to4"],
    ["2001:db8::1", "documentation"],
    ["not-an-ip", "not an IP address"],
  ])("when the address is %s, then it is not public (%s)", (address, range) => {
    expect(nonPublicRange(address)).toBe(range);
  });

  it.each(["8.8.8.8", PUBLIC_V4, "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"])(
    "when the address is %s, then it is public",
    (address) => {
      expect(nonPublicRange(address)).toBeUndefined();
    },
  );

  it("when IPv6 text is compressed or carries a dotted tail, then its bytes are the expanded address", () => {
    expect(ipBytes("::ffff:10.0.0.1")).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]);
    expect(ipBytes("[fd00::1]")).toEqual([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipBytes("1:2:3:4:5:6:7:8")).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
    expect(ipBytes("i.scdn.co")).toBeUndefined();
  });
});

/** First URLs refused in production, with the rule that refuses them (no resolver call needed). */
const REFUSED_URLS: [url: string, reason: DownloadRejectedError["reason"], host: string][] = [
  ["https://169.254.169.254/latest/meta-data/", "host", "169.254.169.254"],
  ["https://10.0.0.1/a.jpg", "host", "10.0.0.1"],
  ["https://127.0.0.1/a.jpg", "host", "127.0.0.1"],
  ["https://[::1]/a.jpg", "host", "[::1]"],
  ["https://[fd00::1]/a.jpg", "host", "[fd00::1]"],
  ["https://[::ffff:10.0.0.1]/a.jpg", "host", "[::ffff:a00:1]"],
  ["https://localhost/a.jpg", "host", "localhost"],
  ["https://metadata.google.internal/computeMetadata/v1/", "host", "metadata.google.internal"],
  ["https://evilscdn.co/a.jpg", "host", "evilscdn.co"],
  ["https://scdn.co.evil.com/a.jpg", "host", "scdn.co.evil.com"],
  ["https://i.scdn.co:8443/a.jpg", "host", "i.scdn.co:8443"],
  ["http://i.scdn.co/a.jpg", "url", "i.scdn.co"],
  ["ftp://i.scdn.co/a.jpg", "url", "i.scdn.co"],
];

/** CDN names whose resolution is refused: [host, what it resolves to]. */
const REFUSED_RESOLUTIONS: [host: string, addresses: string[]][] = [
  ["i.scdn.co", ["10.0.0.1"]],
  ["i.scdn.co", [PUBLIC_V4, "10.0.0.1"]],
  ["i.scdn.co", ["169.254.169.254"]],
  ["i.scdn.co", ["127.0.0.1"]],
  ["i.scdn.co", ["::1"]],
  ["i.scdn.co", ["fd00::1"]],
  ["i.scdn.co", ["::ffff:10.0.0.1"]],
  ["i.scdn.co", ["2606:4700::1111", "fe80::1"]],
];

describe("downloadFile refuses before connecting", () => {
  it.each(REFUSED_URLS)(
    "when the URL is %s, then DownloadRejectedError(%s) and nothing is sent",
    async (url, reason, host) => {
      const s = stub(() => JPEG_ANSWER);
      const resolve = resolver(PUBLIC_CDN);
      const error = await rejection(download(`${url}?${SECRET_QUERY}`, spotifyPolicy, s, resolve));
      expect(error.reason).toBe(reason);
      expect(error.message).toContain(host);
      expect(error.message).not.toContain("SIGNED-SECRET");
      expect(s.configs).toHaveLength(0);
      expect(resolve).not.toHaveBeenCalled();
    },
  );

  it.each(REFUSED_RESOLUTIONS)(
    "when %s resolves to %j, then DownloadRejectedError(address) and nothing is sent",
    async (host, addresses) => {
      const s = stub(() => JPEG_ANSWER);
      const resolve = resolver({ [host]: addresses });
      const error = await rejection(download(`https://${host}/a.jpg?${SECRET_QUERY}`, spotifyPolicy, s, resolve));
      expect(error.reason).toBe("address");
      expect(error.message).toContain(host);
      expect(error.message).not.toContain("SIGNED-SECRET");
      expect(resolve).toHaveBeenCalledWith(host);
      expect(s.configs).toHaveLength(0);
    },
  );

  it("when the URL does not parse or is not http(s), then DownloadRejectedError(url) without a request", async () => {
    const s = stub(() => JPEG_ANSWER);
    expect((await rejection(download("not a url", spotifyPolicy, s))).reason).toBe("url");
    expect((await rejection(download("file:///etc/passwd", spotifyPolicy, s))).reason).toBe("url");
    expect(s.configs).toHaveLength(0);
  });

  it("when a Spotify CDN URL is given under Instagram's rules, then it is refused (host)", async () => {
    const s = stub(() => JPEG_ANSWER);
    expect((await rejection(download("https://i.scdn.co/a.jpg", instagramPolicy, s))).reason).toBe("host");
    expect(s.configs).toHaveLength(0);
  });

  it("when the name does not resolve, then a TransientError and nothing is sent", async () => {
    const s = stub(() => JPEG_ANSWER);
    const error = await download("https://gone.scdn.co/a.jpg", spotifyPolicy, s).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toContain("ENOTFOUND");
    expect(s.configs).toHaveLength(0);
  });

  it("when resolving hangs, then a TransientError after HTTP_TIMEOUT_MS and nothing is sent", async () => {
    const s = stub(() => JPEG_ANSWER);
    const hang = jest.fn((_hostname: string) => new Promise<ResolvedAddress[]>(() => undefined));
    const error = await download("https://i.scdn.co/a.jpg", spotifyPolicy, s, hang).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/did not resolve within 50 ms/);
    expect(s.configs).toHaveLength(0);
  });
});

describe("downloadFile redirects", () => {
  /** The first hop (i.scdn.co, public) answers 302 to `location`; anything after answers a JPEG. */
  const redirectingTo = (location: string) =>
    stub((req) =>
      req.url.hostname === "i.scdn.co" && req.url.pathname === "/a.jpg"
        ? { status: 302, headers: { location } }
        : JPEG_ANSWER,
    );

  it.each(REFUSED_URLS)(
    "when the CDN redirects to %s, then DownloadRejectedError(%s) and the refused hop is not requested",
    async (url, reason, host) => {
      const s = redirectingTo(`${url}?${SECRET_QUERY}`);
      const error = await rejection(download("https://i.scdn.co/a.jpg", spotifyPolicy, s));
      expect(error.reason).toBe(reason);
      expect(error.message).toContain(host);
      expect(error.message).toContain("redirect 1");
      expect(error.message).not.toContain("SIGNED-SECRET");
      expect(s.requests.map((r) => r.url.host)).toEqual(["i.scdn.co"]);
    },
  );

  it.each(REFUSED_RESOLUTIONS.map(([, addresses]) => [addresses]))(
    "when the CDN redirects to a CDN name resolving to %j, then DownloadRejectedError(address) and it is not requested",
    async (addresses) => {
      const s = redirectingTo("https://mosaic.scdn.co/b.jpg");
      const resolve = resolver({ "i.scdn.co": [PUBLIC_V4], "mosaic.scdn.co": addresses });
      const error = await rejection(download("https://i.scdn.co/a.jpg", spotifyPolicy, s, resolve));
      expect(error.reason).toBe("address");
      expect(error.message).toContain("mosaic.scdn.co");
      expect(resolve.mock.calls).toEqual([["i.scdn.co"], ["mosaic.scdn.co"]]);
      expect(s.requests).toHaveLength(1);
    },
  );

  it("when the CDN redirects to a relative Location, then it resolves against the current URL and is fetched", async () => {
    const s = redirectingTo("/b.jpg?x=1");
    await expect(download("https://i.scdn.co/a.jpg", spotifyPolicy, s)).resolves.toEqual({
      bytes: jpeg,
      contentType: "image/jpeg",
    });
    expect(s.requests.map((r) => r.url.href)).toEqual(["https://i.scdn.co/a.jpg", "https://i.scdn.co/b.jpg?x=1"]);
  });

  it("when the CDN redirects to another allowed CDN host, then that hop is checked and pinned to its own address", async () => {
    const s = redirectingTo("https://image-cdn-ak.spotifycdn.com/c.jpg");
    const resolve = resolver(PUBLIC_CDN);
    await download("https://i.scdn.co/a.jpg", spotifyPolicy, s, resolve);
    expect(resolve.mock.calls).toEqual([["i.scdn.co"], ["image-cdn-ak.spotifycdn.com"]]);
    expect(s.configs).toHaveLength(2);
    await expect(lookupThrough(s.configs[1]!.httpsAgent, "image-cdn-ak.spotifycdn.com")).resolves.toEqual({
      one: "2600:1408:ec00::b8",
      all: ["2600:1408:ec00::b8"],
    });
  });

  it("when redirects go on past MAX_DOWNLOAD_REDIRECTS, then DownloadRejectedError(redirect) after that many", async () => {
    let n = 0;
    const s = stub(() => ({ status: 302, headers: { location: `/hop-${++n}.jpg` } }));
    const error = await rejection(download("https://i.scdn.co/a.jpg", spotifyPolicy, s));
    expect(error.reason).toBe("redirect");
    expect(s.requests).toHaveLength(MAX_DOWNLOAD_REDIRECTS + 1);
  });

  it("when a redirect has no Location, then DownloadRejectedError(redirect)", async () => {
    const s = stub(() => ({ status: 301 }));
    expect((await rejection(download("https://i.scdn.co/a.jpg", spotifyPolicy, s))).reason).toBe("redirect");
    expect(s.requests).toHaveLength(1);
  });

  it("when downloads are sent, then axios follows no redirect and uses no proxy", async () => {
    const s = stub(() => JPEG_ANSWER);
    await download("https://i.scdn.co/a.jpg", spotifyPolicy, s);
    expect(s.configs[0]!.maxRedirects).toBe(0);
    expect(s.configs[0]!.proxy).toBe(false);
  });
});

describe("downloadFile allowed paths", () => {
  it("when an https CDN URL resolves to a public address, then it is fetched through an agent pinned to that address", async () => {
    const s = stub(() => JPEG_ANSWER);
    const resolve = resolver(PUBLIC_CDN);
    const url = `https://i.scdn.co/image/ab67616d?${SECRET_QUERY}`;
    await expect(download(url, spotifyPolicy, s, resolve)).resolves.toEqual({ bytes: jpeg, contentType: "image/jpeg" });
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(s.requests.map((r) => r.url.href)).toEqual([url]);
    const agent = s.configs[0]!.httpsAgent;
    expect(agent).toBeInstanceOf(HttpsAgent);
    await expect(lookupThrough(agent, "i.scdn.co")).resolves.toEqual({ one: PUBLIC_V4, all: [PUBLIC_V4] });
    await expect(lookupThrough(agent, "evil.example")).rejects.toThrow(/unchecked host name/);
  });

  it("when Instagram media is on cdninstagram.com or fbcdn.net, then it is fetched", async () => {
    const s = stub(() => JPEG_ANSWER);
    const resolve = resolver({ "scontent-lhr8-1.cdninstagram.com": [PUBLIC_V4], "scontent.xx.fbcdn.net": [PUBLIC_V4] });
    await download("https://scontent-lhr8-1.cdninstagram.com/v/t51/1.jpg", instagramPolicy, s, resolve);
    await download("https://scontent.xx.fbcdn.net/v/t51/2.jpg", instagramPolicy, s, resolve);
    expect(s.requests).toHaveLength(2);
  });

  it("when the local policy is given the fake's http://127.0.0.1:PORT/cdn URL, then it is fetched without a lookup", async () => {
    const s = stub(() => JPEG_ANSWER);
    const resolve = resolver({});
    const url = "http://127.0.0.1:9090/cdn/spotify/acc/pl/1.jpg";
    await expect(download(url, localSpotifyPolicy, s, resolve)).resolves.toEqual({
      bytes: jpeg,
      contentType: "image/jpeg",
    });
    expect(resolve).not.toHaveBeenCalled();
    expect(s.configs[0]!.httpAgent).toBeInstanceOf(HttpAgent);
    expect(s.configs[0]!.httpAgent).not.toBeInstanceOf(HttpsAgent);
  });

  it("when the local policy meets another port, a private address or the metadata range, then it still refuses", async () => {
    const s = stub(() => JPEG_ANSWER);
    expect((await rejection(download("http://127.0.0.1:9091/cdn/a.jpg", localSpotifyPolicy, s))).reason).toBe("host");
    expect((await rejection(download("http://10.0.0.1:9090/cdn/a.jpg", localSpotifyPolicy, s))).reason).toBe("host");
    const toPrivate = resolver({ "i.scdn.co": ["10.0.0.1"] });
    expect((await rejection(download("http://i.scdn.co/a.jpg", localSpotifyPolicy, s, toPrivate))).reason).toBe(
      "address",
    );
    const toMetadata = resolver({ "i.scdn.co": ["169.254.169.254"] });
    expect((await rejection(download("http://i.scdn.co/a.jpg", localSpotifyPolicy, s, toMetadata))).reason).toBe(
      "address",
    );
    expect(s.configs).toHaveLength(0);
  });

  it("when a CDN name resolves to loopback in a local run, then it is allowed", async () => {
    const s = stub(() => JPEG_ANSWER);
    await download("http://i.scdn.co/a.jpg", localSpotifyPolicy, s, resolver({ "i.scdn.co": ["127.0.0.1"] }));
    expect(s.requests).toHaveLength(1);
  });
});

describe("downloadFile answers", () => {
  const ok = () => resolver(PUBLIC_CDN);

  it("when the file is an allowed type within the cap, then its bytes and type without parameters come back", async () => {
    const s = stub(() => ({ body: jpeg, headers: { "content-type": "image/jpeg; charset=binary" } }));
    await expect(download("https://i.scdn.co/a.jpg?sig=1", spotifyPolicy, s, ok())).resolves.toEqual({
      bytes: jpeg,
      contentType: "image/jpeg",
    });
  });

  it("when the content type is not allowed, then DownloadRejectedError(content_type)", async () => {
    const s = stub(() => ({ body: "<html>", headers: { "content-type": "text/html" } }));
    expect((await rejection(download("https://i.scdn.co/a.jpg", spotifyPolicy, s, ok()))).reason).toBe("content_type");
  });

  it("when the file is larger than maxBytes, then DownloadRejectedError(too_large)", async () => {
    const s = stub(() => ({ body: Buffer.alloc(101), headers: { "content-type": "image/jpeg" } }));
    expect((await rejection(download("https://i.scdn.co/a.jpg", spotifyPolicy, s, ok()))).reason).toBe("too_large");
  });

  it("when the CDN answers 403 (expired signature), then DownloadRejectedError(status) after one request", async () => {
    const s = stub(() => ({ status: 403, body: "URL signature expired" }));
    expect((await rejection(download("https://i.scdn.co/a.jpg", spotifyPolicy, s, ok()))).reason).toBe("status");
    expect(s.requests).toHaveLength(1);
  });

  it("when the CDN answers 503, then it is retried on the same pinned hop and then a TransientError", async () => {
    const s = stub(() => ({ status: 503 }));
    const resolve = ok();
    await expect(download("https://i.scdn.co/a.jpg", spotifyPolicy, s, resolve)).rejects.toBeInstanceOf(TransientError);
    expect(s.requests).toHaveLength(1 + config.HTTP_MAX_RETRIES);
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(new Set(s.configs.map((c) => c.httpsAgent)).size).toBe(1);
  });
});

describe("the connection is pinned (real axios and Node http, socket connect intercepted)", () => {
  afterEach(() => jest.restoreAllMocks());

  it("when no stub adapter is used, then Node's socket receives the pinned lookup and the host name for TLS", async () => {
    const seen: { host?: string; servername?: string; lookup?: net.LookupFunction }[] = [];
    jest.spyOn(net.Socket.prototype, "connect").mockImplementation(function (this: net.Socket, ...args: unknown[]) {
      const first = args[0];
      seen.push((Array.isArray(first) ? first[0] : first) as (typeof seen)[number]);
      process.nextTick(() => this.destroy(Object.assign(new Error("connect intercepted"), { code: "ECONNREFUSED" })));
      return this;
    });
    const resolve = resolver(PUBLIC_CDN);
    const error = await downloadFile(config, "https://i.scdn.co/a.jpg", {
      maxBytes: 100,
      allowedContentTypes: ["image/jpeg"],
      policy: spotifyPolicy,
      resolve,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toContain("ECONNREFUSED");
    expect(seen).toHaveLength(1);
    expect(seen[0]!.host).toBe("i.scdn.co");
    expect(seen[0]!.servername).toBe("i.scdn.co");
    await expect(lookupThrough({ options: { lookup: seen[0]!.lookup } }, "i.scdn.co")).resolves.toEqual({
      one: PUBLIC_V4,
      all: [PUBLIC_V4],
    });
  });

  it("when no resolver is injected, then the system resolver is asked for every address, verbatim", async () => {
    const lookup = jest.spyOn(dns.promises, "lookup").mockResolvedValue([{ address: "10.0.0.1", family: 4 }] as never);
    const s = stub(() => JPEG_ANSWER);
    const error = await rejection(
      downloadFile(config, "https://i.scdn.co/a.jpg", {
        maxBytes: 100,
        allowedContentTypes: ["image/jpeg"],
        policy: spotifyPolicy,
        http: s.http,
      }),
    );
    expect(error.reason).toBe("address");
    expect(lookup).toHaveBeenCalledWith("i.scdn.co", { all: true, verbatim: true });
    expect(s.configs).toHaveLength(0);
  });

  it("when a test forgets to inject a resolver, then the unit guard refuses the lookup and nothing is sent", async () => {
    const s = stub(() => JPEG_ANSWER);
    const error = await downloadFile(config, "https://i.scdn.co/a.jpg", {
      maxBytes: 100,
      allowedContentTypes: ["image/jpeg"],
      policy: spotifyPolicy,
      http: s.http,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).not.toBeInstanceOf(DownloadRejectedError);
    expect(s.configs).toHaveLength(0);
    expect(() => dns.promises.lookup("i.scdn.co")).toThrow(/must not resolve host names/);
  });

  it("when a pinned agent is built for http, then it is a plain http Agent answering only its host", async () => {
    const agent = pinnedAgent(new URL("http://127.0.0.1:9090/cdn/a.jpg"), { address: "127.0.0.1", family: 4 });
    expect(agent).not.toBeInstanceOf(HttpsAgent);
    await expect(lookupThrough(agent, "127.0.0.1")).resolves.toEqual({ one: "127.0.0.1", all: ["127.0.0.1"] });
    agent.destroy();
  });
});
