import { Timestamp } from "firebase-admin/firestore";
import { ConnectionDoc, type MirrorManifest } from "../../../src/connections/model";
import { MANIFEST_MAX_OBJECTS, mirrorImages, reconcileDue, versionDigest } from "../../../src/sync/mirror";
import type { BlobInfo, BlobStore } from "../../../src/sync/ports";
import type { MirrorItem } from "../../../src/providers/types";

/** An in-memory bucket that counts every call and can be told to fail a save or a delete. */
class MemoryBlobs implements BlobStore {
  objects = new Map<string, { bytes: Buffer; contentType: string; version: string }>();
  calls = { list: 0, save: 0, delete: 0 };
  failSave = new Set<string>();
  failDelete = new Set<string>();
  async list(prefix: string): Promise<BlobInfo[]> {
    this.calls.list++;
    return [...this.objects]
      .filter(([p]) => p.startsWith(prefix))
      .map(([path, o]) => ({ path, version: o.version, contentType: o.contentType, size: o.bytes.length }));
  }
  async save(path: string, bytes: Buffer, opts: { contentType: string; version: string }) {
    this.calls.save++;
    if (this.failSave.has(path)) throw new Error("503 from Storage");
    this.objects.set(path, { bytes, ...opts });
  }
  async delete(path: string) {
    this.calls.delete++;
    if (this.failDelete.has(path)) throw new Error("503 from Storage");
    this.objects.delete(path);
  }
  put(path: string, version: string) {
    this.objects.set(path, { bytes: Buffer.from("old"), contentType: "image/jpeg", version });
  }
  resetCalls() {
    this.calls = { list: 0, save: 0, delete: 0 };
  }
}

const config = { MAX_IMAGE_BYTES: 1000, MIRROR_CONCURRENCY: 3 };
const jpeg = async (url: string) => ({ bytes: Buffer.from(`jpeg:${url}`), contentType: "image/jpeg" });
const NOW = new Date("2026-12-01T12:00:00Z");
const HOUR = 3_600_000;
const cover = (id: string, version: string): MirrorItem => ({ id, url: `http://x/${id}`, ext: "jpg", version });
const spotify = (items: MirrorItem[], extra: Partial<Parameters<typeof mirrorImages>[1]> = {}) => ({
  uid: "u1",
  provider: "spotify" as const,
  enabled: true,
  items,
  now: NOW,
  ...extra,
});

describe("the image mirror", () => {
  it("when covers are new, then each is stored under the user's folder with its version", async () => {
    const blobs = new MemoryBlobs();
    const r = await mirrorImages({ blobs, download: jpeg, config }, spotify([cover("p1", "v1")]));
    expect(r.counts).toEqual({ saved: 1, unchanged: 0, deleted: 0, failed: 0 });
    expect(blobs.objects.get("u1/spotify/playlists/p1.jpg")?.version).toBe("v1");
  });

  it("when the version is unchanged, then nothing is downloaded; when a playlist disappears, its cover is deleted", async () => {
    const blobs = new MemoryBlobs();
    blobs.put("u1/spotify/playlists/p1.jpg", "v1");
    blobs.put("u1/spotify/playlists/gone.jpg", "v");
    blobs.put("u2/spotify/playlists/gone.jpg", "v");
    const download = jest.fn(jpeg);
    const r = await mirrorImages({ blobs, download, config }, spotify([cover("p1", "v1")]));
    expect(r.counts).toEqual({ saved: 0, unchanged: 1, deleted: 1, failed: 0 });
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
    const r = await mirrorImages(
      { blobs, download, config },
      {
        uid: "u1",
        provider: "instagram",
        enabled: true,
        now: NOW,
        items: [
          { id: "m1", url: "http://x/ok", ext: "mp4", version: "1" },
          { id: "m2", url: "http://x/bad", ext: "jpg", version: "1" },
          { id: "../u2/m3", url: "http://x/ok", ext: "jpg", version: "1" },
        ],
      },
    );
    expect(r.counts).toEqual({ saved: 1, unchanged: 0, deleted: 0, failed: 2 });
    expect([...blobs.objects.keys()]).toEqual(["u1/instagram/m1.mp4"]);
    expect(r.manifest?.objects).toEqual({ "m1.mp4": versionDigest("1") });
    expect(download).toHaveBeenCalledWith("http://x/ok", {
      provider: "instagram",
      maxBytes: 1000,
      allowedContentTypes: ["video/mp4"],
    });
  });

  it("when mirroring is disabled, then nothing is downloaded and earlier covers are removed", async () => {
    const blobs = new MemoryBlobs();
    blobs.put("u1/spotify/playlists/p1.jpg", "v1");
    const download = jest.fn(jpeg);
    const r = await mirrorImages({ blobs, download, config }, spotify([cover("p1", "v1")], { enabled: false }));
    expect(r.counts.deleted).toBe(1);
    expect(download).not.toHaveBeenCalled();
    expect(blobs.objects.size).toBe(0);
    expect(r.manifest?.objects).toEqual({});
  });
});

describe("the mirror's manifest", () => {
  /** A first sync (no manifest: it lists), then the manifest it returned, as the connection keeps it. */
  async function firstSync(items: MirrorItem[]) {
    const blobs = new MemoryBlobs();
    const download = jest.fn(jpeg);
    const r = await mirrorImages({ blobs, download, config }, spotify(items));
    expect(r.listed).toBe(true);
    blobs.resetCalls();
    download.mockClear();
    return { blobs, download, manifest: r.manifest! };
  }
  const three = () => [cover("p1", "v1"), cover("p2", "v1"), cover("p3", "v1")];

  it("when a sync has no manifest, then it lists the folder and returns what is stored, stamped now", async () => {
    const blobs = new MemoryBlobs();
    const r = await mirrorImages({ blobs, download: jpeg, config }, spotify(three()));
    expect(r.listed).toBe(true);
    expect(blobs.calls).toEqual({ list: 1, save: 3, delete: 0 });
    expect(r.manifest).toEqual({
      objects: { "p1.jpg": versionDigest("v1"), "p2.jpg": versionDigest("v1"), "p3.jpg": versionDigest("v1") },
      reconciledAt: Timestamp.fromDate(NOW),
    });
  });

  it("when nothing changed and no reconciliation is due, then the sync makes no Storage call and downloads nothing", async () => {
    const { blobs, download, manifest } = await firstSync(three());
    const r = await mirrorImages(
      { blobs, download, config },
      spotify(three(), { manifest, reconcile: false, now: new Date(NOW.getTime() + HOUR) }),
    );
    expect(blobs.calls).toEqual({ list: 0, save: 0, delete: 0 });
    expect(download).not.toHaveBeenCalled();
    expect(r).toMatchObject({ listed: false, counts: { saved: 0, unchanged: 3, deleted: 0, failed: 0 } });
    // The same manifest, reconciledAt not moved (the next listing stays due on time).
    expect(r.manifest).toEqual(manifest);
  });

  it("when one cover changed, one playlist is new and one gone, then exactly those are saved and deleted, without a listing", async () => {
    const { blobs, download, manifest } = await firstSync(three());
    const items = [cover("p1", "v1"), cover("p2", "v2"), cover("p4", "v1")];
    const r = await mirrorImages({ blobs, download, config }, spotify(items, { manifest, reconcile: false }));
    expect(blobs.calls).toEqual({ list: 0, save: 2, delete: 1 });
    expect(download.mock.calls.map((c) => c[0]).sort()).toEqual(["http://x/p2", "http://x/p4"]);
    expect(r.counts).toEqual({ saved: 2, unchanged: 1, deleted: 1, failed: 0 });
    expect([...blobs.objects.keys()].sort()).toEqual(["p1", "p2", "p4"].map((id) => `u1/spotify/playlists/${id}.jpg`));
    expect(r.manifest?.objects).toEqual({
      "p1.jpg": versionDigest("v1"),
      "p2.jpg": versionDigest("v2"),
      "p4.jpg": versionDigest("v1"),
    });
  });

  it("when reconciliation is due, then a missing object is restored, an orphan deleted, a stale version replaced, and reconciledAt stamped", async () => {
    const { blobs, download, manifest } = await firstSync(three());
    blobs.objects.delete("u1/spotify/playlists/p1.jpg"); // lost behind the manifest's back
    blobs.put("u1/spotify/playlists/orphan.jpg", "v9"); // left by someone else
    blobs.put("u1/spotify/playlists/p2.jpg", "v0"); // an old copy written back
    blobs.put("u2/spotify/playlists/p1.jpg", "v1"); // another person's: untouched
    const later = new Date(NOW.getTime() + 25 * HOUR);
    const r = await mirrorImages(
      { blobs, download, config },
      spotify(three(), {
        manifest,
        reconcile: reconcileDue(manifest, later, { MIRROR_RECONCILE_HOURS: 24 }),
        now: later,
      }),
    );
    expect(r.listed).toBe(true);
    expect(blobs.calls).toEqual({ list: 1, save: 2, delete: 1 });
    expect(download.mock.calls.map((c) => c[0]).sort()).toEqual(["http://x/p1", "http://x/p2"]);
    expect(r.counts).toEqual({ saved: 2, unchanged: 1, deleted: 1, failed: 0 });
    expect([...blobs.objects.keys()].filter((p) => p.startsWith("u1/")).sort()).toEqual(
      ["p1", "p2", "p3"].map((id) => `u1/spotify/playlists/${id}.jpg`),
    );
    expect(blobs.objects.get("u1/spotify/playlists/p2.jpg")?.version).toBe("v1");
    expect(blobs.objects.has("u2/spotify/playlists/p1.jpg")).toBe(true);
    expect(r.manifest).toEqual({ objects: manifest.objects, reconciledAt: Timestamp.fromDate(later) });
  });

  it("when a save fails, then the item stays out of the manifest and the next sync stores it", async () => {
    const { blobs, download, manifest } = await firstSync([cover("p1", "v1")]);
    blobs.failSave.add("u1/spotify/playlists/p2.jpg");
    blobs.failSave.add("u1/spotify/playlists/p1.jpg");
    const items = [cover("p1", "v2"), cover("p2", "v1")];
    const failed = await mirrorImages({ blobs, download, config }, spotify(items, { manifest, reconcile: false }));
    expect(failed.counts).toEqual({ saved: 0, unchanged: 0, deleted: 0, failed: 2 });
    // p1 keeps the entry of the object still stored (v1), p2 has none: both differ from the items.
    expect(failed.manifest?.objects).toEqual({ "p1.jpg": versionDigest("v1") });

    blobs.failSave.clear();
    blobs.resetCalls();
    const retried = await mirrorImages(
      { blobs, download, config },
      spotify(items, { manifest: failed.manifest, reconcile: false }),
    );
    expect(retried.counts).toEqual({ saved: 2, unchanged: 0, deleted: 0, failed: 0 });
    expect(blobs.calls).toEqual({ list: 0, save: 2, delete: 0 });
    expect(retried.manifest?.objects).toEqual({ "p1.jpg": versionDigest("v2"), "p2.jpg": versionDigest("v1") });
  });

  it("when a delete fails, then the object stays in the manifest and the next sync deletes it", async () => {
    const { blobs, download, manifest } = await firstSync(three());
    blobs.failDelete.add("u1/spotify/playlists/p3.jpg");
    const items = [cover("p1", "v1"), cover("p2", "v1")];
    const failed = await mirrorImages({ blobs, download, config }, spotify(items, { manifest, reconcile: false }));
    expect(failed.counts).toMatchObject({ deleted: 0, failed: 1 });
    expect(Object.keys(failed.manifest!.objects).sort()).toEqual(["p1.jpg", "p2.jpg", "p3.jpg"]);

    blobs.failDelete.clear();
    blobs.resetCalls();
    const retried = await mirrorImages(
      { blobs, download, config },
      spotify(items, { manifest: failed.manifest, reconcile: false }),
    );
    expect(blobs.calls).toEqual({ list: 0, save: 0, delete: 1 });
    expect(blobs.objects.has("u1/spotify/playlists/p3.jpg")).toBe(false);
    expect(Object.keys(retried.manifest!.objects).sort()).toEqual(["p1.jpg", "p2.jpg"]);
  });

  it("when mirroring is switched off, then the manifest's objects are deleted by name without a listing and it empties", async () => {
    const { blobs, download, manifest } = await firstSync(three());
    const r = await mirrorImages(
      { blobs, download, config },
      spotify(three(), { manifest, reconcile: false, enabled: false }),
    );
    expect(blobs.calls).toEqual({ list: 0, save: 0, delete: 3 });
    expect(download).not.toHaveBeenCalled();
    expect(blobs.objects.size).toBe(0);
    expect(r.manifest?.objects).toEqual({});
  });

  it("when the folder holds more than MANIFEST_MAX_OBJECTS, then no manifest is kept and every sync lists", async () => {
    const items = Array.from({ length: MANIFEST_MAX_OBJECTS + 1 }, (_, i) => cover(`p${i}`, "v1"));
    const { blobs, download, manifest } = await firstSync(items);
    expect(manifest).toBeNull();
    const r = await mirrorImages({ blobs, download, config }, spotify(items, { manifest, reconcile: false }));
    expect(r).toMatchObject({ listed: true, manifest: null, counts: { unchanged: items.length, saved: 0 } });
    expect(blobs.calls).toEqual({ list: 1, save: 0, delete: 0 });
  });

  it("when the run lost its lease before writing, then it stores and deletes nothing", async () => {
    const { blobs, download, manifest } = await firstSync(three());
    const stillHolds = jest.fn(async () => false);
    const items = [cover("p1", "v2")];
    const r = await mirrorImages(
      { blobs, download, config },
      spotify(items, { manifest, reconcile: false, stillHolds }),
    );
    expect(r.superseded).toBe(true);
    expect(blobs.calls).toEqual({ list: 0, save: 0, delete: 0 });
    expect(download).not.toHaveBeenCalled();
    expect(stillHolds).toHaveBeenCalledTimes(1);
    expect(r.manifest?.objects).toEqual(manifest.objects);
  });
});

describe("reconcileDue", () => {
  const manifest = (at: Date): MirrorManifest => ({ objects: {}, reconciledAt: Timestamp.fromDate(at) });
  const hours = { MIRROR_RECONCILE_HOURS: 24 };

  it("when there is no manifest, then the folder is listed", () => {
    expect(reconcileDue(undefined, NOW, hours)).toBe(true);
    expect(reconcileDue(null, NOW, hours)).toBe(true);
  });

  it("when the last listing is younger than MIRROR_RECONCILE_HOURS, then not; at or past it, or stamped in the future, then yes", () => {
    expect(reconcileDue(manifest(new Date(NOW.getTime() - 23 * HOUR)), NOW, hours)).toBe(false);
    expect(reconcileDue(manifest(new Date(NOW.getTime() - 24 * HOUR)), NOW, hours)).toBe(true);
    expect(reconcileDue(manifest(new Date(NOW.getTime() + HOUR)), NOW, hours)).toBe(true);
    expect(reconcileDue(manifest(NOW), NOW, { MIRROR_RECONCILE_HOURS: 0 })).toBe(true);
  });

  it("when the connection's manifest is malformed, then it reads as absent (a listing), never as an invalid connection", () => {
    const mirror = ConnectionDoc.shape.mirror;
    expect(mirror.parse({ objects: { "p1.jpg": 7 }, reconciledAt: "yesterday" })).toBeUndefined();
    expect(mirror.parse(null)).toBeNull();
    const ok = manifest(NOW);
    expect(mirror.parse(ok)).toEqual(ok);
  });
});
