import { Readable } from "node:stream";
import { SessionEndedError } from "../../src/access/caller";
import { type MediaDeps, type MediaObject, objectPathOf, serveMedia } from "../../src/media/serve";

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);

function deps(
  objects: Record<string, Partial<MediaObject>> = {},
  appCheck: MediaDeps["appCheck"] = async () => true,
): MediaDeps & { opened: string[] } {
  const opened: string[] = [];
  return {
    opened,
    maxAgeSeconds: 3600,
    appCheck,
    verifyIdToken: async (t) => {
      if (t === "token-alice") return { uid: "alice" };
      if (t === "token-bob") return { uid: "bob" };
      if (t === "token-revoked") throw new SessionEndedError("The session of this ID token was revoked.");
      throw new Error("bad token");
    },
    open: async (path) => {
      opened.push(path);
      const o = objects[path];
      if (!o) return null;
      return {
        contentType: "image/jpeg",
        size: JPEG.length,
        etag: "gen1",
        stream: () => Readable.from([JPEG]),
        ...o,
      };
    },
  };
}

const get = (path: string, token?: string, extra: Record<string, string> = {}) => ({
  method: "GET",
  path,
  headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
});

async function body(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

describe("serveMedia", () => {
  const cover = "alice/spotify/playlists/p1.jpg";

  it("when the owner asks for their cover, then the bytes are streamed with private caching headers", async () => {
    const d = deps({ [cover]: {} });
    const out = await serveMedia(d, get(`/api/media/${cover}`, "token-alice"));
    expect(out.status).toBe(200);
    expect(out.headers["Content-Type"]).toBe("image/jpeg");
    expect(out.headers["Cache-Control"]).toBe("private, max-age=3600");
    expect(out.headers.Vary).toBe("Authorization");
    expect(out.headers.ETag).toBe('"gen1"');
    expect(out.headers["Content-Length"]).toBe(String(JPEG.length));
    expect(await body(out.stream!())).toEqual(JPEG);
  });

  it("when someone else asks for the owner's cover, then 403 and Storage is never read", async () => {
    const d = deps({ [cover]: {} });
    const out = await serveMedia(d, get(`/api/media/${cover}`, "token-bob"));
    expect(out.status).toBe(403);
    expect(out.stream).toBeUndefined();
    expect(d.opened).toEqual([]);
  });

  it("when there is no token or an invalid one, then 401", async () => {
    const d = deps({ [cover]: {} });
    expect((await serveMedia(d, get(`/api/media/${cover}`))).status).toBe(401);
    expect((await serveMedia(d, get(`/api/media/${cover}`, "forged"))).status).toBe(401);
    expect(d.opened).toEqual([]);
  });

  it.each([
    "/api/media/alice/..%2Fbob/spotify/playlists/p1.jpg",
    "/api/media/alice%2F..%2Fbob/x.jpg",
    "/api/media/alice",
    "/api/media/alice/%E0%A4%A",
  ])("when the path %s tries to escape or is malformed, then 400 or 403 and nothing is read", async (path) => {
    const d = deps({ [cover]: {} });
    const out = await serveMedia(d, get(path, "token-alice"));
    expect([400, 403]).toContain(out.status);
    expect(d.opened).toEqual([]);
  });

  it("when the session behind the token was revoked, then 401 saying the session ended, and nothing is read", async () => {
    const d = deps({ [cover]: {} });
    const out = await serveMedia(d, get(`/api/media/${cover}`, "token-revoked"));
    expect(out.status).toBe(401);
    expect(out.body).toMatch(/session has ended/);
    expect(d.opened).toEqual([]);
  });

  it("when App Check refuses the request, then 401 before the token is looked at, and nothing is read", async () => {
    const seen: (string | undefined)[] = [];
    const d = deps({ [cover]: {} }, async (token) => {
      seen.push(token);
      return token === "app-check-ok";
    });
    const refused = await serveMedia(d, get(`/api/media/${cover}`, "token-alice"));
    expect(refused.status).toBe(401);
    expect(refused.body).toMatch(/App Check is required/);
    expect(d.opened).toEqual([]);
    const allowed = await serveMedia(
      d,
      get(`/api/media/${cover}`, "token-alice", { "x-firebase-appcheck": "app-check-ok" }),
    );
    expect(allowed.status).toBe(200);
    expect(seen).toEqual([undefined, "app-check-ok"]);
  });

  it("when the object does not exist, then 404", async () => {
    const out = await serveMedia(deps(), get(`/api/media/${cover}`, "token-alice"));
    expect(out.status).toBe(404);
  });

  it("when the browser already has this version, then 304 without a body", async () => {
    const out = await serveMedia(
      deps({ [cover]: {} }),
      get(`/api/media/${cover}`, "token-alice", { "if-none-match": '"gen1"' }),
    );
    expect(out.status).toBe(304);
    expect(out.stream).toBeUndefined();
  });

  it("when the stored type is not an image or video, then it is sent as a download, never rendered", async () => {
    const path = "alice/instagram/m1.jpg";
    const out = await serveMedia(
      deps({ [path]: { contentType: "text/html" } }),
      get(`/api/media/${path}`, "token-alice"),
    );
    expect(out.headers["Content-Type"]).toBe("application/octet-stream");
    expect(out.headers["Content-Disposition"]).toBe("attachment");
  });

  it("when the owner downloads an export, then it is an attachment the browser must not keep", async () => {
    const zip = "alice/exports/e1.zip";
    const d = deps({ [zip]: { contentType: "application/zip" } });
    const out = await serveMedia(d, get(`/api/media/${zip}`, "token-alice"));
    expect(out.status).toBe(200);
    expect(out.headers["Content-Disposition"]).toBe("attachment");
    expect(out.headers["Cache-Control"]).toBe("private, no-store");
    const other = await serveMedia(d, get(`/api/media/${zip}`, "token-bob"));
    expect(other.status).toBe(403);
  });

  it("when the method is not GET or HEAD, then 405", async () => {
    const out = await serveMedia(deps(), { ...get(`/api/media/${cover}`, "token-alice"), method: "POST" });
    expect(out.status).toBe(405);
  });

  it("when called without the Hosting prefix, then the path is read the same way", () => {
    expect(objectPathOf("/alice/instagram/m%201.jpg")).toBe("alice/instagram/m 1.jpg");
    expect(objectPathOf("/api/media/alice/instagram/m1.jpg")).toBe("alice/instagram/m1.jpg");
  });
});
