/**
 * Downloads one file to mirror (a playlist cover, an Instagram image) through the shared HTTP
 * client: same deadline and retry policy as API calls, plus a content-type allow-list checked
 * before the body is read, and a byte cap enforced while reading (a larger file is never buffered
 * whole). Typed errors: DownloadRejectedError (too large, wrong type, refused or expired URL — the
 * next sync brings a fresh URL), TransientError (5xx, timeout, network), RateLimitedError.
 */
import type { Config } from "../config";
import { DownloadRejectedError } from "../errors";
import { type HttpDeps, HttpClient, httpLimits } from "./client";

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

export async function downloadFile(
  config: Config,
  url: string,
  opts: { maxBytes: number; allowedContentTypes: string[]; http?: HttpDeps },
): Promise<DownloadedFile> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DownloadRejectedError("The file URL does not parse.", "url");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new DownloadRejectedError(`The file URL has protocol ${parsed.protocol}; only http(s) is fetched.`, "url");
  }
  const client = new HttpClient({ service: parsed.host, limits: httpLimits(config), deps: opts.http });
  const res = await client.request({
    method: "GET",
    url,
    purpose: "download",
    maxBytes: opts.maxBytes,
    allowedContentTypes: opts.allowedContentTypes,
  });
  const contentType = (res.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  return { bytes: res.body, contentType };
}
