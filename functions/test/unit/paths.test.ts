import { InvalidInputError } from "../../src/errors";
import {
  firestorePaths,
  isOwnedObject,
  legacyPaths,
  migrationPaths,
  parseConnectionPath,
  partId,
  storagePaths,
} from "../../src/paths";

describe("firestorePaths", () => {
  it("when given a uid and provider, then every user-owned path starts with users/{uid}", () => {
    const uid = "u1";
    const paths = [
      firestorePaths.user(uid),
      firestorePaths.oauthToken(uid, "spotify"),
      firestorePaths.connection(uid, "instagram"),
      firestorePaths.snapshot(uid, "spotify", "playlists"),
      firestorePaths.snapshotPart(uid, "spotify", "playlists", 3),
      firestorePaths.syncRun(uid, "r1"),
    ];
    for (const p of paths) expect(p.startsWith("users/u1")).toBe(true);
  });

  it("when naming the seed's snapshots, then the seed's names are kept", () => {
    expect(firestorePaths.snapshot("abc", "spotify", "playlists")).toBe("users/abc/spotify/last-response_playlists");
    expect(firestorePaths.snapshot("abc", "spotify", "top-tracks")).toBe("users/abc/spotify/last-response_top-tracks");
    expect(firestorePaths.oauthToken("abc", "spotify")).toBe("users/abc/oauth_tokens/spotify");
    expect(firestorePaths.connection("abc", "instagram")).toBe("users/abc/connections/instagram");
    expect(firestorePaths.oauthState("s")).toBe("oauth_states/s");
  });

  it("when a snapshot is split, then part ids sort in numeric order", () => {
    const ids = [0, 2, 10, 100].map(partId);
    expect([...ids].sort()).toEqual(ids);
    expect(firestorePaths.snapshotPart("u", "spotify", "playlists", 2)).toBe(
      "users/u/spotify/last-response_playlists/parts/00002",
    );
    expect(() => partId(-1)).toThrow(InvalidInputError);
  });

  it("when a snapshot part belongs to a generation, then its id is generation-index and the generation is checked", () => {
    expect(firestorePaths.snapshotGenerationPart("u", "spotify", "playlists", "ab12", 3)).toBe(
      "users/u/spotify/last-response_playlists/parts/ab12-00003",
    );
    expect(() => firestorePaths.snapshotGenerationPart("u", "spotify", "playlists", "a/b", 0)).toThrow(
      InvalidInputError,
    );
  });

  it.each(["", "a/b", ".", "..", "__id__", "x".repeat(1501)])("when the uid is %j, then no path is built", (bad) => {
    expect(() => firestorePaths.user(bad)).toThrow(InvalidInputError);
    expect(() => storagePaths.userPrefix(bad)).toThrow(InvalidInputError);
  });

  it("when the provider is unknown, then no path is built", () => {
    expect(() => firestorePaths.connection("u", "tiktok" as never)).toThrow(/Unknown provider/);
  });

  it("when given a connection path, then uid and provider are parsed back; other paths are not", () => {
    expect(parseConnectionPath(firestorePaths.connection("u9", "spotify"))).toEqual({ uid: "u9", provider: "spotify" });
    expect(parseConnectionPath("users/u9/oauth_tokens/spotify")).toBeUndefined();
    expect(parseConnectionPath("users/u9/connections/tiktok")).toBeUndefined();
  });
});

describe("storagePaths", () => {
  it("when mirroring, then objects land under {uid}/ as the architecture note says", () => {
    expect(storagePaths.mirrorObject("u1", "spotify", "pl1", "jpg")).toBe("u1/spotify/playlists/pl1.jpg");
    expect(storagePaths.mirrorObject("u1", "instagram", "m1", "mp4")).toBe("u1/instagram/m1.mp4");
    expect(storagePaths.mirrorPrefix("u1", "spotify")).toBe("u1/spotify/playlists/");
    expect(storagePaths.mirrorPrefix("u1", "instagram")).toBe("u1/instagram/");
    expect(storagePaths.providerPrefix("u1", "spotify")).toBe("u1/spotify/");
    expect(storagePaths.userPrefix("u1")).toBe("u1/");
  });

  it("when an id tries to climb out of the user's folder, then it is refused", () => {
    expect(() => storagePaths.mirrorObject("u1", "spotify", "../u2/x", "jpg")).toThrow(InvalidInputError);
    expect(() => storagePaths.mirrorObject("u1", "instagram", "m", "../jpg")).toThrow(InvalidInputError);
  });

  it("when reading the legacy layout, then the seed's single-tenant paths are used", () => {
    expect(legacyPaths.defaultStoragePrefixes).toEqual({ "spotify/playlists/": "spotify", "ig/": "instagram" });
    expect(legacyPaths.defaultCollections).toEqual(["spotify", "instagram", "ig"]);
  });
});

describe("isOwnedObject", () => {
  it("when the object lies under the caller's own folder, then it is owned; another's is not", () => {
    expect(isOwnedObject("u1", "u1/spotify/playlists/p.jpg")).toBe(true);
    expect(isOwnedObject("u1", "u2/spotify/playlists/p.jpg")).toBe(false);
    expect(isOwnedObject("u1", "u10/instagram/m.jpg")).toBe(false);
  });

  it.each(["u1", "u1/", "u1/../u2/x.jpg", "u1//x.jpg", "/u1/x.jpg", "u1/./x", "u1/__x__/y", "u1/a/b/c/d/e/f/g/h/i/j"])(
    "when the object path is %j, then it is refused as malformed",
    (bad) => {
      expect(() => isOwnedObject("u1", bad)).toThrow(InvalidInputError);
    },
  );
});

describe("migrationPaths", () => {
  it("when a legacy document (with a subcollection) moves, then it lands under users/{uid}/{provider}", () => {
    expect(migrationPaths.targetDoc("u1", "spotify", ["last-response_playlists"])).toBe(
      "users/u1/spotify/last-response_playlists",
    );
    expect(migrationPaths.targetDoc("u1", "instagram", ["café ☕", "parts", "00001"])).toBe(
      "users/u1/instagram/café ☕/parts/00001",
    );
  });

  it.each([[[]], [["a", "b"]], [["a", "..", "c"]], [["__x__"]]])(
    "when the relative document path is %j, then it is refused",
    (rel) => {
      expect(() => migrationPaths.targetDoc("u1", "spotify", rel)).toThrow(InvalidInputError);
    },
  );

  it("when a legacy object moves, then it lands in the provider's mirror folder of the user", () => {
    expect(migrationPaths.targetObject("u1", "spotify", "p1.jpg")).toBe("u1/spotify/playlists/p1.jpg");
    expect(migrationPaths.targetObject("u1", "instagram", "2024/a b.jpg")).toBe("u1/instagram/2024/a b.jpg");
    expect(() => migrationPaths.targetObject("u1", "instagram", "../u2/x.jpg")).toThrow(InvalidInputError);
    expect(() => migrationPaths.targetObject("u1", "instagram", "a//b")).toThrow(InvalidInputError);
  });

  it("when naming legacy collections and prefixes, then ig is Instagram's and prefixes end in '/'", () => {
    expect(legacyPaths.providerOfCollection("ig")).toBe("instagram");
    expect(legacyPaths.providerOfCollection("spotify")).toBe("spotify");
    expect(legacyPaths.providerOfCollection("other")).toBeUndefined();
    expect(legacyPaths.storagePrefix("spotify/playlists/")).toBe("spotify/playlists/");
    expect(() => legacyPaths.storagePrefix("ig")).toThrow(InvalidInputError);
    expect(() => legacyPaths.storagePrefix("/")).toThrow(InvalidInputError);
  });

  it("when naming the checkpoint, then it is an ops document with ledger pages below it", () => {
    expect(migrationPaths.checkpoint("u1")).toBe("ops/migrate-u1");
    expect(migrationPaths.ledgerPage("u1", "written", "r1-0001")).toBe("ops/migrate-u1/written/r1-0001");
  });
});
