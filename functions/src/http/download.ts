/**
 * Downloads one file to mirror (a playlist cover, an Instagram image) through the shared HTTP
 * client: same deadline and retry policy as API calls, plus a content-type allow-list checked
 * before the body is read, and a byte cap enforced while reading (a larger file is never buffered
 * whole).
 *
 * A provider hands us URLs, so every hop (the first URL and each redirect, at most
 * MAX_DOWNLOAD_REDIRECTS) is checked before any connection is opened, by the provider's
 * DownloadPolicy: the scheme (https; http too in a local run), the host (one of the provider's
 * image CDN suffixes; in a local run also the fake server's host:port), then the addresses the
 * host resolves to (each must be public; loopback is allowed in a local run; metadata names never).
 * The connection then goes to exactly the checked address (an Agent whose lookup is pinned to it;
 * TLS still verifies the certificate against the host name), so DNS rebinding does not help.
 *
 * Typed errors: DownloadRejectedError (refused URL, host, address or redirect; too large, wrong
 * type, refused or expired URL — the next sync brings a fresh URL), TransientError (5xx, timeout,
 * network, DNS failure), RateLimitedError. Messages name the host, never the query (Instagram URLs
 * are signed).
 */
import dns from "node:dns";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import type { Config } from "../config";
import { DownloadRejectedError, TransientError } from "../errors";
import { METADATA_HOST_NAMES, isLoopbackAddress, nonPublicRange } from "./addresses";
import { type HttpDeps, HttpClient, MAX_DOWNLOAD_REDIRECTS, REDIRECT_STATUSES, httpLimits } from "./client";

/** Content types accepted for each extension the mirror stores. */
export const CONTENT_TYPES_BY_EXT: Record<string, readonly string[]> = {
  jpg: ["image/jpeg"],
  mp4: ["video/mp4"],
};

export interface DownloadedFile {
  bytes: Buffer;
  /** The answer's media type, without parameters (e.g. "image/jpeg"). */
  contentType: string;
}

/** Where one provider's files may be downloaded from (built by providers/descriptor.ts downloadPolicy). */
export interface DownloadPolicy {
  /** Whose files these are ("Spotify"), for messages. */
  service: string;
  /**
   * A local run: the provider's base URLs are loopback (the fake provider server). Allows http,
   * loopback addresses and `localHosts`.
   */
  local: boolean;
  /** Image CDN host suffixes: a host matches when it equals one or ends with "." + one. */
  hostSuffixes: readonly string[];
  /** `host:port` allowed besides the suffixes in a local run (the loopback base URLs' hosts). */
  localHosts: readonly string[];
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Host name → every address it resolves to. Tests inject one; production asks the system resolver. */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export interface DownloadOptions {
  maxBytes: number;
  allowedContentTypes: string[];
  policy: DownloadPolicy;
  http?: HttpDeps;
  resolve?: Resolver;
}

export async function downloadFile(config: Config, url: string, opts: DownloadOptions): Promise<DownloadedFile> {
  const resolve = opts.resolve ?? systemResolver;
  let current = parseUrl(url, undefined);
  for (let hop = 0; ; hop++) {
    const pinned = await checkHop(opts.policy, current, resolve, config.HTTP_TIMEOUT_MS, hop);
    const agent = pinnedAgent(current, pinned);
    const client = new HttpClient({ service: current.host, limits: httpLimits(config), deps: opts.http });
    let res;
    try {
      res = await client.request({
        method: "GET",
        url: current.href,
        purpose: "download",
        maxBytes: opts.maxBytes,
        allowedContentTypes: opts.allowedContentTypes,
        redirects: "return",
        agent,
      });
    } finally {
      agent.destroy();
    }
    if (!REDIRECT_STATUSES.includes(res.status)) {
      const contentType = (res.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      return { bytes: res.body, contentType };
    }
    if (hop >= MAX_DOWNLOAD_REDIRECTS) {
      throw new DownloadRejectedError(
        `${current.host} redirected once more after ${MAX_DOWNLOAD_REDIRECTS} redirects; not followed.`,
        "redirect",
      );
    }
    const location = res.headers["location"];
    if (!location) {
      throw new DownloadRejectedError(`${current.host} answered ${res.status} without a Location.`, "redirect");
    }
    current = parseUrl(location, current);
  }
}

/** The URL of a hop; a relative Location resolves against the current URL. */
function parseUrl(text: string, base: URL | undefined): URL {
  try {
    return new URL(text, base);
  } catch {
    throw new DownloadRejectedError(
      base ? `${base.host} redirected to a Location that does not parse.` : "The file URL does not parse.",
      "url",
    );
  }
}

/** Where a hop came from, for messages: "" for the first URL, " (redirect 2)" after. */
const hopLabel = (hop: number) => (hop === 0 ? "" : ` (redirect ${hop})`);

/** True when `hostname` is one of the suffixes or under one (at a label boundary). */
export function matchesSuffix(hostname: string, suffixes: readonly string[]): boolean {
  const h = hostname.toLowerCase();
  return suffixes.some((s) => h === s || h.endsWith(`.${s}`));
}

/** Scheme and host rules of the policy; throws DownloadRejectedError("url" | "host"). */
export function checkUrl(policy: DownloadPolicy, url: URL, hop = 0): void {
  const allowed = policy.local ? ["https:", "http:"] : ["https:"];
  if (!allowed.includes(url.protocol)) {
    throw new DownloadRejectedError(
      `${policy.service} file URL${hopLabel(hop)} for ${url.host || "(no host)"} has protocol ${url.protocol}; ` +
        `only ${allowed.join(", ").replaceAll(":", "")} is fetched.`,
      "url",
    );
  }
  const local = policy.local && policy.localHosts.includes(url.host);
  // CDN hosts are reached on the scheme's default port only.
  const cdn = url.port === "" && matchesSuffix(url.hostname, policy.hostSuffixes);
  if (!local && !cdn) {
    throw new DownloadRejectedError(
      `${policy.service} file URL${hopLabel(hop)} names host ${url.host}, not an image CDN host of ${policy.service} ` +
        `(${policy.hostSuffixes.join(", ")}).`,
      "host",
    );
  }
}

/** Why `address` may not be connected to under `policy`, or undefined when it may. */
export function addressRefusal(policy: DownloadPolicy, address: string): string | undefined {
  if (policy.local && isLoopbackAddress(address)) return undefined;
  return nonPublicRange(address);
}

/**
 * Checks one hop and resolves its host: the address to connect to, every resolved address being
 * allowed. Throws DownloadRejectedError("url" | "host" | "address") before any connection.
 */
async function checkHop(
  policy: DownloadPolicy,
  url: URL,
  resolve: Resolver,
  timeoutMs: number,
  hop: number,
): Promise<ResolvedAddress> {
  checkUrl(policy, url, hop);
  const hostname = bareHostname(url);
  const refuse = (why: string) =>
    new DownloadRejectedError(
      `${policy.service} file URL${hopLabel(hop)}: host ${url.host} ${why}; refused.`,
      "address",
    );
  if (METADATA_HOST_NAMES.includes(hostname.toLowerCase().replace(/\.$/, ""))) {
    throw refuse("is a metadata service name");
  }
  const family = isIP(hostname);
  const addresses = family
    ? [{ address: hostname, family }]
    : await resolveWithin(resolve, url.host, hostname, timeoutMs);
  if (addresses.length === 0) throw new TransientError(`${url.host} resolved to no address.`);
  for (const { address } of addresses) {
    const range = addressRefusal(policy, address);
    if (range) throw refuse(family ? `is a ${range} address` : `resolves to ${address}, a ${range} address`);
  }
  return addresses[0]!;
}

/** The URL's host name as a resolver or a socket takes it (IPv6 without brackets). */
function bareHostname(url: URL): string {
  const h = url.hostname;
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}

async function resolveWithin(
  resolve: Resolver,
  host: string,
  hostname: string,
  timeoutMs: number,
): Promise<readonly ResolvedAddress[]> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransientError(`${host} did not resolve within ${timeoutMs} ms.`)), timeoutMs);
  });
  try {
    return await Promise.race([resolve(hostname), deadline]);
  } catch (e) {
    if (e instanceof TransientError) throw e;
    const code = (e as { code?: unknown })?.code;
    throw new TransientError(`${host} did not resolve: ${typeof code === "string" ? code : "lookup failed"}.`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * An Agent for the hop's protocol whose lookup answers only the checked host name, with only the
 * checked address: the socket connects where the check looked, whatever DNS says by then.
 */
export function pinnedAgent(url: URL, pinned: ResolvedAddress): HttpAgent {
  const expected = bareHostname(url).toLowerCase();
  const lookup: LookupFunction = (hostname, options, callback) => {
    if (hostname.toLowerCase() !== expected) {
      const error: NodeJS.ErrnoException = new Error(`Lookup of an unchecked host name refused.`);
      error.code = "ENOTFOUND";
      callback(error, "", 0);
      return;
    }
    if (options.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  };
  const agentOptions = { keepAlive: false, lookup };
  return url.protocol === "https:" ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
}
