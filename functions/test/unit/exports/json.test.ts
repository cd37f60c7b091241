/**
 * What goes into an export's JSON files: Firestore values as plain JSON, and the whitelists that
 * keep server-only fields (the lease, own-app client ids, import checkpoints) out.
 */
import { Timestamp } from "firebase-admin/firestore";
import { newConnection } from "../../../src/connections/model";
import { newExportId } from "../../../src/exports/job";
import { connectionJson, importJson, profileJson, toJson } from "../../../src/exports/json";

describe("export JSON", () => {
  it("when values are Firestore types, then they become ISO strings, base64 and plain objects", () => {
    const at = Timestamp.fromMillis(Date.UTC(2026, 11, 2, 13, 5));
    expect(toJson({ at, bytes: Buffer.from("hi"), list: [at, null, 1], nested: { b: true } })).toEqual({
      at: "2026-12-02T13:05:00.000Z",
      bytes: "aGk=",
      list: ["2026-12-02T13:05:00.000Z", null, 1],
      nested: { b: true },
    });
  });

  it("when a connection holds a lease, an own app and unknown fields, then only the whitelisted fields are exported", () => {
    const c = {
      ...newConnection({
        uid: "u1",
        provider: "spotify",
        providerAccountId: "acct",
        providerAccountName: "Acct",
        scopes: ["user-read-recently-played"],
        now: new Date(Date.UTC(2026, 0, 1)),
        app: { clientId: "own-client-id" },
      }),
      lease: { holder: "run-123", expiresAt: Timestamp.now() },
      lastError: { code: "transient", message: "Spotify answered 503.", at: Timestamp.now(), extra: "x" },
      somethingNew: "secret-ish",
    };
    const out = connectionJson("spotify", c);
    expect(out).not.toHaveProperty("lease");
    expect(out).not.toHaveProperty("app");
    expect(out).not.toHaveProperty("somethingNew");
    expect(out).not.toHaveProperty("uid");
    expect(JSON.stringify(out)).not.toContain("own-client-id");
    expect(out).toMatchObject({
      provider: "spotify",
      status: "connected",
      providerAccountId: "acct",
      connectedAt: "2026-01-01T00:00:00.000Z",
      throughOwnApp: true,
    });
    expect(Object.keys(out.lastError as object).sort()).toEqual(["at", "code", "message"]);
  });

  it("when an import job has a checkpoint, then it is left out; a profile keeps only its known fields", () => {
    expect(importJson("i1", { status: "done", checkpoint: { file: 0, entry: 5 } })).toEqual({
      id: "i1",
      status: "done",
    });
    expect(profileJson({ uid: "u", email: "a@b.c", settings: { timeZone: "Etc/UTC" }, internal: 1 })).toEqual({
      uid: "u",
      email: "a@b.c",
      settings: { timeZone: "Etc/UTC" },
    });
    expect(profileJson(undefined)).toBeNull();
  });

  it("when export ids are made a moment apart, then they sort by time", () => {
    const a = newExportId(new Date(Date.UTC(2026, 11, 2, 13, 5, 1)), () => "ffff");
    const b = newExportId(new Date(Date.UTC(2026, 11, 2, 13, 5, 2)), () => "0000");
    expect(a).toBe("20261202130501000-ffff");
    expect(a < b).toBe(true);
  });
});
