/**
 * The BlobStore port over the admin Storage bucket. Each mirrored object carries the MirrorItem
 * version it was made from in its custom metadata (`version`), so listing a folder tells the
 * mirror which objects are current without downloading anything.
 */
import type { bucket as adminBucket } from "../admin";
import type { BlobInfo, BlobStore } from "./ports";

type Bucket = ReturnType<typeof adminBucket>;

export function bucketBlobStore(bucket: Bucket): BlobStore {
  return {
    async list(prefix: string): Promise<BlobInfo[]> {
      const out: BlobInfo[] = [];
      let pageToken: string | undefined;
      do {
        const [files, next] = await bucket.getFiles({ prefix, autoPaginate: false, maxResults: 1000, pageToken });
        for (const f of files) {
          const meta = f.metadata ?? {};
          const custom = (meta.metadata ?? {}) as Record<string, unknown>;
          out.push({
            path: f.name,
            version: typeof custom.version === "string" ? custom.version : null,
            contentType: typeof meta.contentType === "string" ? meta.contentType : null,
            size: Number(meta.size ?? 0),
          });
        }
        pageToken = (next as { pageToken?: string } | null)?.pageToken;
      } while (pageToken);
      return out;
    },
    async save(path, bytes, opts) {
      await bucket.file(path).save(bytes, {
        resumable: false,
        contentType: opts.contentType,
        metadata: { contentType: opts.contentType, metadata: { version: opts.version } },
      });
    },
    async delete(path) {
      await bucket.file(path).delete({ ignoreNotFound: true });
    },
  };
}
