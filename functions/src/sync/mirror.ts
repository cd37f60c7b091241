/**
 * The image mirror: copies a provider's files (playlist covers, media) to its mirror folder,
 * `{uid}/{catalog mirror folder}/{itemId}.{ext}` (e.g. `{uid}/spotify/playlists/{id}.jpg`).
 *
 * - What was mirrored is kept in a manifest on the connection document (MirrorManifest: object
 *   name → digest of the item version), which the sync reads with its lease and writes with its
 *   outcome, so keeping it costs no Firestore operation. With a manifest, an item whose version
 *   equals the manifest's is unchanged and touches nothing: a sync where nothing changed makes no
 *   Cloud Storage call. New or changed items are downloaded and stored; objects of items that are
 *   gone are deleted by name.
 * - Reconciliation heals what the manifest cannot see (an object deleted by hand, a lost write):
 *   without a manifest, or when it is MIRROR_RECONCILE_HOURS old, the folder is listed as the
 *   truth — an object whose stored `version` metadata differs from the item's (or that is
 *   missing) is stored again, an object no current item names (an orphan) is deleted — and the
 *   manifest is rebuilt from what is there.
 * - A save that fails does not enter the manifest (an object replaced keeps its old entry), so the
 *   next sync tries again; a delete that fails keeps its entry, so the next sync deletes it again.
 * - A folder of more than MANIFEST_MAX_OBJECTS wanted objects keeps no manifest (null) and is
 *   listed on every sync, so the connection document stays far below Firestore's 1 MiB.
 * - Downloads are checked for content type (by extension) and size (MAX_IMAGE_BYTES) by the
 *   downloader; a file that fails is skipped and counted, never fatal to the sync.
 * - With `enabled: false` (a provider whose catalog mirror switch is off) nothing is
 *   downloaded and the covers mirrored earlier are removed (the manifest empties).
 * Called only after a complete fetch, so a failed sync never deletes anything.
 */
import { createHash } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import type { Config } from "../config";
import type { MirrorManifest } from "../connections/model";
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

/**
 * Most objects a manifest keeps. An entry is about 45 bytes in Firestore (a name like
 * `{22-char id}.jpg` and a 16-character digest), so 5,000 are about 225 KB of the connection
 * document's 1 MiB; a larger folder is listed on every sync instead.
 */
export const MANIFEST_MAX_OBJECTS = 5_000;

/** The manifest's digest of a MirrorItem version (96 bits of sha-256, base64url): short, fixed size. */
export function versionDigest(version: string): string {
  return createHash("sha256").update(version, "utf8").digest("base64url").slice(0, 16);
}

/**
 * Whether the mirror lists its folder this sync: without a manifest, or when it was last listed
 * MIRROR_RECONCILE_HOURS ago (or its time lies in the future: a bad stamp never postpones it).
 */
export function reconcileDue(
  manifest: MirrorManifest | null | undefined,
  now: Date,
  config: Pick<Config, "MIRROR_RECONCILE_HOURS">,
): boolean {
  if (!manifest) return true;
  const age = now.getTime() - manifest.reconciledAt.toMillis();
  return age < 0 || age >= config.MIRROR_RECONCILE_HOURS * 3_600_000;
}

export interface MirrorResult {
  counts: MirrorCounts;
  /** What the folder holds now, for the connection document (null: too many objects to keep). */
  manifest: MirrorManifest | null;
  /** Whether the folder was listed (reconciled) this sync. */
  listed: boolean;
  /** `stillHolds` said the run lost its lease: it stopped before its next Storage write. */
  superseded: boolean;
}

/**
 * Mirrors `items` (see the file comment). `manifest`: the connection's (absent, null: list);
 * `reconcile`: list the folder even with a manifest (reconcileDue). `stillHolds`, when given, is
 * asked before the first save and before the first delete; false stops the mirror there.
 */
export async function mirrorImages(
  deps: MirrorDeps,
  args: {
    uid: string;
    provider: Provider;
    items: MirrorItem[];
    enabled: boolean;
    manifest?: MirrorManifest | null;
    reconcile?: boolean;
    now: Date;
    stillHolds?: () => Promise<boolean>;
  },
): Promise<MirrorResult> {
  const { uid, provider } = args;
  const counts: MirrorCounts = { saved: 0, unchanged: 0, deleted: 0, failed: 0 };
  const prefix = storagePaths.mirrorPrefix(uid, provider);

  // Wanted objects by their name inside the folder (`{id}.{ext}`).
  const wanted = new Map<string, MirrorItem>();
  if (args.enabled) {
    for (const item of args.items) {
      try {
        wanted.set(objectPath(uid, provider, item).slice(prefix.length), item);
      } catch (e) {
        counts.failed++;
        logs.warn("sync.mirror.bad_item", { uid, provider, error: errorSummary(e) });
      }
    }
  }

  const manifest = args.manifest ?? null;
  const listed =
    !manifest ||
    args.reconcile === true ||
    wanted.size > MANIFEST_MAX_OBJECTS ||
    Object.keys(manifest.objects).length > MANIFEST_MAX_OBJECTS;
  // `held`: what the folder holds (name → version digest), from the listing or the manifest;
  // `current(name, item)`: whether the stored object already is this version of the item.
  const held = new Map<string, string>();
  let current: (name: string, item: MirrorItem) => boolean;
  if (listed) {
    const versions = new Map<string, string | null>();
    for (const b of await deps.blobs.list(prefix)) {
      if (!b.path.startsWith(prefix)) continue;
      const name = b.path.slice(prefix.length);
      versions.set(name, b.version);
      held.set(name, versionDigest(b.version ?? ""));
    }
    current = (name, item) => versions.get(name) === item.version;
  } else {
    for (const [name, digest] of Object.entries(manifest.objects)) held.set(name, digest);
    current = (name, item) => held.get(name) === versionDigest(item.version);
  }

  let superseded = false;
  const stillHolds = async (): Promise<boolean> => {
    if (!superseded && args.stillHolds && !(await args.stillHolds())) superseded = true;
    return !superseded;
  };

  const toSave: [string, MirrorItem][] = [];
  for (const [name, item] of wanted) {
    if (current(name, item)) counts.unchanged++;
    else toSave.push([name, item]);
  }
  // What the manifest claimed was current but the listing showed missing or different.
  const restored =
    listed && manifest ? toSave.filter(([n, i]) => manifest.objects[n] === versionDigest(i.version)) : [];

  if (toSave.length > 0 && (await stillHolds())) {
    await mapPool(toSave, deps.config.MIRROR_CONCURRENCY, async ([name, item]) => {
      const allowed = CONTENT_TYPES[item.ext.toLowerCase()];
      try {
        if (!allowed) throw new Error(`unsupported file extension "${item.ext}"`);
        const { bytes, contentType } = await deps.download(item.url, {
          provider,
          maxBytes: deps.config.MAX_IMAGE_BYTES,
          allowedContentTypes: allowed,
        });
        await deps.blobs.save(prefix + name, bytes, { contentType, version: item.version });
        held.set(name, versionDigest(item.version));
        counts.saved++;
      } catch (e) {
        // Not recorded as stored (an object it would replace keeps its old entry): tried again next sync.
        counts.failed++;
        logs.warn("sync.mirror.failed", { uid, provider, itemId: item.id, error: errorSummary(e) });
      }
    });
  }

  const stale = [...held.keys()].filter((name) => !wanted.has(name));
  const orphans = listed && manifest ? stale.filter((name) => !(name in manifest.objects)).length : 0;
  if (stale.length > 0 && (await stillHolds())) {
    await mapPool(stale, deps.config.MIRROR_CONCURRENCY, async (name) => {
      try {
        await deps.blobs.delete(prefix + name);
        held.delete(name);
        counts.deleted++;
      } catch (e) {
        // Kept in the manifest: the next sync deletes it again.
        counts.failed++;
        logs.warn("sync.mirror.delete_failed", { uid, provider, error: errorSummary(e) });
      }
    });
  }
  if (restored.length > 0 || orphans > 0)
    logs.warn("sync.mirror.reconciled", { uid, provider, restored: restored.length, orphans });

  const next: MirrorManifest | null =
    held.size > MANIFEST_MAX_OBJECTS || wanted.size > MANIFEST_MAX_OBJECTS
      ? null
      : {
          objects: Object.fromEntries([...held].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
          reconciledAt: listed || !manifest ? Timestamp.fromDate(args.now) : manifest.reconciledAt,
        };
  return { counts, manifest: next, listed, superseded };
}

/** Where an item is stored: the provider's mirror folder (the catalog's rule), `{id}.{ext}`. */
function objectPath(uid: string, provider: Provider, item: MirrorItem): string {
  return storagePaths.mirrorObject(uid, provider, item.id, item.ext.toLowerCase());
}
