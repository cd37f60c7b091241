/**
 * The image mirror: copies a provider's files (playlist covers, media) to its mirror folder,
 * `{uid}/{catalog mirror folder}/{itemId}.{ext}` (e.g. `{uid}/spotify/playlists/{id}.jpg`).
 *
 * - An object whose stored `version` metadata equals the item's version is not downloaded again.
 * - Downloads are checked for content type (by extension) and size (MAX_IMAGE_BYTES) by the
 *   downloader; a file that fails is skipped and counted, never fatal to the sync.
 * - Objects in the folder that no current item names (the playlist or post is gone) are deleted.
 * - With `enabled: false` (a provider whose catalog mirror switch is off) nothing is
 *   downloaded and the covers mirrored earlier are removed.
 * Called only after a complete fetch, so a failed sync never deletes anything.
 */
import type { Config } from "../config";
import { errorSummary } from "./policy";
import { logs } from "../logs";
import { type Provider, storagePaths } from "../paths";
import type { MirrorItem } from "../providers/types";
import { mapPool } from "./pool";
import type { BlobStore } from "./ports";

/** Fetches one file; `provider` selects whose download rules (CDN hosts) apply. */
export type Download = (
  url: string,
  opts: { provider: Provider; maxBytes: number; allowedContentTypes: string[] },
) => Promise<{ bytes: Buffer; contentType: string }>;

export interface MirrorDeps {
  blobs: BlobStore;
  download: Download;
  config: Pick<Config, "MAX_IMAGE_BYTES" | "MIRROR_CONCURRENCY">;
}

export interface MirrorCounts {
  saved: number;
  unchanged: number;
  deleted: number;
  failed: number;
}

/** Content types accepted for a stored extension. */
export const CONTENT_TYPES: Record<string, string[]> = {
  jpg: ["image/jpeg"],
  jpeg: ["image/jpeg"],
  png: ["image/png"],
  webp: ["image/webp"],
  gif: ["image/gif"],
  heic: ["image/heic"],
  mp4: ["video/mp4"],
  mov: ["video/quicktime"],
};

/** Where an item is stored: the provider's mirror folder (the catalog's rule), `{id}.{ext}`. */
function objectPath(uid: string, provider: Provider, item: MirrorItem): string {
  return storagePaths.mirrorObject(uid, provider, item.id, item.ext.toLowerCase());
}

export async function mirrorImages(
  deps: MirrorDeps,
  args: { uid: string; provider: Provider; items: MirrorItem[]; enabled: boolean },
): Promise<MirrorCounts> {
  const { uid, provider } = args;
  const counts: MirrorCounts = { saved: 0, unchanged: 0, deleted: 0, failed: 0 };
  const existing = new Map((await deps.blobs.list(storagePaths.mirrorPrefix(uid, provider))).map((b) => [b.path, b]));

  const wanted = new Map<string, MirrorItem>();
  if (args.enabled) {
    for (const item of args.items) {
      try {
        wanted.set(objectPath(uid, provider, item), item);
      } catch (e) {
        counts.failed++;
        logs.warn("sync.mirror.bad_item", { uid, provider, error: errorSummary(e) });
      }
    }
  }

  await mapPool([...wanted], deps.config.MIRROR_CONCURRENCY, async ([path, item]) => {
    if (existing.get(path)?.version === item.version) {
      counts.unchanged++;
      return;
    }
    const allowed = CONTENT_TYPES[item.ext.toLowerCase()];
    try {
      if (!allowed) throw new Error(`unsupported file extension "${item.ext}"`);
      const { bytes, contentType } = await deps.download(item.url, {
        provider,
        maxBytes: deps.config.MAX_IMAGE_BYTES,
        allowedContentTypes: allowed,
      });
      await deps.blobs.save(path, bytes, { contentType, version: item.version });
      counts.saved++;
    } catch (e) {
      counts.failed++;
      logs.warn("sync.mirror.failed", { uid, provider, itemId: item.id, error: errorSummary(e) });
    }
  });

  const stale = [...existing.keys()].filter((p) => !wanted.has(p));
  await mapPool(stale, deps.config.MIRROR_CONCURRENCY, async (path) => {
    try {
      await deps.blobs.delete(path);
      counts.deleted++;
    } catch (e) {
      counts.failed++;
      logs.warn("sync.mirror.delete_failed", { uid, provider, error: errorSummary(e) });
    }
  });
  return counts;
}
