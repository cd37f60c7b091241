import { mirrorImages } from "../../../src/sync/mirror";
import type { BlobInfo, BlobStore } from "../../../src/sync/ports";

class MemoryBlobs implements BlobStore {
  objects = new Map<string, { bytes: Buffer; contentType: string; version: string }>();
  saves = 0;
  async list(prefix: string): Promise<BlobInfo[]> {
    return [...this.objects]
      .filter(([p]) => p.startsWith(prefix))
      .map(([path, o]) => ({ path, version: o.version, contentType: o.contentType, size: o.bytes.length }));
  }
  async save(path: string, bytes: Buffer, opts: { contentType: string; version: string }) {
    this.saves++;
    this.objects.set(path, { bytes, ...opts });
  }
  async delete(path: string) {
    this.objects.delete(path);
  }
}

const config = { MAX_IMAGE_BYTES: 1000, MIRROR_CONCURRENCY: 3 };
const jpeg = async () => ({ bytes: Buffer.from("jpeg"), contentType: "image/jpeg" });

describe("the image mirror", () => {
  it("when covers are new, then each is stored under the user's folder with its version", async () => {
    const blobs = new MemoryBlobs();
    const c = await mirrorImages(
      { blobs, download: jpeg, config },
      {
        uid: "u1",
        provider: "spotify",
        enabled: true,
        items: [{ id: "p1", url: "http://x/1", ext: "jpg", version: "v1" }],
      },
    );
    expect(c).toEqual({ saved: 1, unchanged: 0, deleted: 0, failed: 0 });
    expect(blobs.objects.get("u1/spotify/playlists/p1.jpg")?.version).toBe("v1");
  });

  it("when the version is unchanged, then nothing is downloaded; when a playlist disappears, its cover is deleted", async () => {
    const blobs = new MemoryBlobs();
    blobs.objects.set("u1/spotify/playlists/p1.jpg", {
      bytes: Buffer.from("a"),
      contentType: "image/jpeg",
      version: "v1",
    });
    blobs.objects.set("u1/spotify/playlists/gone.jpg", {
      bytes: Buffer.from("b"),
      contentType: "image/jpeg",
      version: "v",
    });
    blobs.objects.set("u2/spotify/playlists/gone.jpg", {
      bytes: Buffer.from("c"),
      contentType: "image/jpeg",
      version: "v",
    });
    const download = jest.fn(jpeg);
    const c = await mirrorImages(
      { blobs, download, config },
      {
        uid: "u1",
        provider: "spotify",
        enabled: true,
        items: [{ id: "p1", url: "http://x/1", ext: "jpg", version: "v1" }],
      },
    );
    expect(c).toEqual({ saved: 0, unchanged: 1, deleted: 1, failed: 0 });
    expect(download).not.toHaveBeenCalled();
    expect(blobs.objects.has("u1/spotify/playlists/gone.jpg")).toBe(false);
    expect(blobs.objects.has("u2/spotify/playlists/gone.jpg")).toBe(true);
  });

  it("when a download fails or the id is hostile, then that item is counted as failed and the rest are stored", async () => {
    const blobs = new MemoryBlobs();
    const download = jest.fn(async (url: string) => {
      if (url.endsWith("bad")) throw new Error("too large");
      return { bytes: Buffer.from("mp4"), contentType: "video/mp4" };
    });
    const c = await mirrorImages(
      { blobs, download, config },
      {
        uid: "u1",
        provider: "instagram",
        enabled: true,
        items: [
          { id: "m1", url: "http://x/ok", ext: "mp4", version: "1" },
          { id: "m2", url: "http://x/bad", ext: "jpg", version: "1" },
          { id: "../u2/m3", url: "http://x/ok", ext: "jpg", version: "1" },
        ],
      },
    );
    expect(c).toEqual({ saved: 1, unchanged: 0, deleted: 0, failed: 2 });
    expect([...blobs.objects.keys()]).toEqual(["u1/instagram/m1.mp4"]);
    expect(download).toHaveBeenCalledWith("http://x/ok", {
      provider: "instagram",
      maxBytes: 1000,
      allowedContentTypes: ["video/mp4"],
    });
  });

  it("when mirroring is disabled, then nothing is downloaded and earlier covers are removed", async () => {
    const blobs = new MemoryBlobs();
    blobs.objects.set("u1/spotify/playlists/p1.jpg", {
      bytes: Buffer.from("a"),
      contentType: "image/jpeg",
      version: "v1",
    });
    const download = jest.fn(jpeg);
    const c = await mirrorImages(
      { blobs, download, config },
      {
        uid: "u1",
        provider: "spotify",
        enabled: false,
        items: [{ id: "p1", url: "http://x/1", ext: "jpg", version: "v1" }],
      },
    );
    expect(c.deleted).toBe(1);
    expect(download).not.toHaveBeenCalled();
    expect(blobs.objects.size).toBe(0);
  });
});
