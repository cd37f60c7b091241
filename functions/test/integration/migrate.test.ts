/**
 * `npm run migrate` end to end, inside the emulators: the script runs as a child process (as an
 * operator would run it) against a seeded single-tenant layout. Every test seeds its own legacy
 * collections and prefixes (random names through --collection / --storage-prefix) and its own uid.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DocumentReference, type Firestore, GeoPoint, Timestamp } from "firebase-admin/firestore";
import { bucket, db } from "../../src/admin";
import { loadConfig } from "../../src/config";
import { createTokenStore } from "../../src/crypto/tokenStore";
import { createVault } from "../../src/crypto/vault";
import { firestorePaths, migrationPaths } from "../../src/paths";
import { ROOT, localFunctionsEnv } from "../../../scripts/lib/local-env";
import { waitFor } from "../support/wait";

jest.setTimeout(300_000);

/**
 * `node --import tsx` (not the tsx CLI, which runs the script in a grandchild process): a SIGKILL
 * must hit the process that does the work.
 */
const NODE_TSX = [process.execPath, "--import", "tsx"] as const;
const SCRIPT = join(ROOT, "scripts", "migrate.ts");
const tmp = mkdtempSync(join(tmpdir(), "migrate-test-"));

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  report?: {
    changes: number;
    conflicts: number;
    ok: boolean;
    rows: { kind: string; items: number; counts: Record<string, number> }[];
  } & Record<string, unknown>;
}

/** Runs the script; `killWhen` sees stderr so far and SIGKILLs the child when it returns true. */
function migrate(args: string[], killWhen?: (stderr: string) => boolean): Promise<Result> {
  const reportFile = join(tmp, `${randomUUID()}.json`);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      NODE_TSX[0],
      [...NODE_TSX.slice(1), SCRIPT, ...args, "--report-json", reportFile],
      {
        cwd: ROOT,
        env: process.env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (killWhen && !killed && killWhen(stderr)) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      // firebase-admin must never probe the metadata server in emulator runs.
      if (stderr.includes("MetadataLookupWarning"))
        return reject(new Error(`migrate probed the metadata server:\n${stderr}`));
      let report: Result["report"];
      try {
        report = JSON.parse(readFileSync(reportFile, "utf8")) as Result["report"];
      } catch {
        report = undefined;
      }
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, report });
    });
  });
}

/** The highest "documents … n/total" progress count printed so far. */
function progressOf(stderr: string, label: string): number {
  const re = new RegExp(`^${label}\\s.*?\\s(\\d+)/(\\d+)\\s`, "gm");
  let last = 0;
  for (const m of stderr.matchAll(re)) last = Number(m[1]);
  return last;
}

// --- the legacy layout --------------------------------------------------------------------------

const ODD_IDS = [
  "café ☕",
  "with space",
  "emoji 🎧🎶",
  'quote"s',
  "percent%2Fid",
  "back\\slash",
  "#hash?q=1&x",
  "日本語のドキュメント",
  "a.b.c",
  "x".repeat(300),
  "-leading-dash",
  "00123",
  "ümlaut-Ä",
  "tab\tinside",
];

interface Layout {
  tag: string;
  collections: { spotify: string; instagram: string; ig: string };
  prefixes: { spotify: string; ig: string };
  docs: number;
  objects: number;
  bytes: number;
  args: string[];
}

async function seedLayout(opts: { docs: "big" | "small" }): Promise<Layout> {
  const tag = `m${randomBytes(4).toString("hex")}`;
  const collections = { spotify: `${tag}-spotify`, instagram: `${tag}-instagram`, ig: `${tag}-ig` };
  const prefixes = { spotify: `${tag}/spotify/playlists/`, ig: `${tag}/ig/` };
  const f = db();
  const writes: [string, Record<string, unknown>][] = [];
  const add = (path: string, data: Record<string, unknown>) => writes.push([path, data]);
  const value = (i: number) => ({
    i,
    name: `item ${i} — ünïcödé ✓`,
    at: Timestamp.fromMillis(1_700_000_000_000 + i * 1000 + (i % 7)),
    where: new GeoPoint((i % 90) - 45, (i % 180) - 90),
    raw: Buffer.from([i % 256, 0, 255]),
    nested: { list: [i, `${i}`, null, true, { deep: [1.5, -0.25] }], empty: {}, none: null },
    ref: f.doc(`${collections.spotify}/last-response_playlists`),
  });
  const big = opts.docs === "big";
  // Spotify: the seed's two snapshots, one stored in parts, plus history documents.
  add(`${collections.spotify}/last-response_playlists`, {
    total: 3,
    items: [{ id: "p1" }, { id: "p2" }],
    fetchedAt: Timestamp.now(),
  });
  add(`${collections.spotify}/last-response_top-tracks`, {
    items: Array.from({ length: 50 }, (_, i) => ({ id: `t${i}`, rank: i })),
  });
  for (let p = 0; p < 10; p++)
    add(`${collections.spotify}/last-response_playlists/parts/${String(p).padStart(5, "0")}`, value(p));
  const history = big ? 500 : 20;
  for (let i = 0; i < history; i++) add(`${collections.spotify}/play-${i}`, value(i));
  // Nested three levels deep.
  const albums = big ? 40 : 3;
  for (let a = 0; a < albums; a++) {
    add(`${collections.spotify}/albums-${a}`, { a });
    for (let t = 0; t < 5; t++) {
      add(`${collections.spotify}/albums-${a}/tracks/${t}`, value(a * 10 + t));
      add(`${collections.spotify}/albums-${a}/tracks/${t}/credits/c${t}`, { who: `artist ${a}.${t}` });
    }
  }
  // Odd ids, at the top and in subcollections.
  for (const id of ODD_IDS) {
    add(`${collections.spotify}/${id}`, { id, v: value(id.length) });
    add(`${collections.instagram}/${id}/sub ☂/${id}`, { id });
  }
  // Instagram (both legacy collections): media docs; some parents exist only through subcollections.
  const media = big ? 350 : 10;
  for (let i = 0; i < media; i++)
    add(`${collections.ig}/media-${i}`, {
      caption: `caption ${i} 📸`,
      taken: Timestamp.fromMillis(1_600_000_000_000 + i),
      likes: i * 3,
    });
  for (let i = 0; i < (big ? 100 : 4); i++) {
    add(`${collections.instagram}/last-response_media/items/${i}`, value(i));
    add(`${collections.instagram}/phantom-${i}/children/${i}`, { orphanParent: true, i });
  }
  add(`${collections.instagram}/last-response_profile`, { username: "legacy.person", followers: 1234 });
  for (let i = 0; i < writes.length; i += 400) {
    const batch = f.batch();
    for (const [path, data] of writes.slice(i, i + 400)) batch.set(f.doc(path), data);
    await batch.commit();
  }
  // Storage: covers and media, some nested and with unicode names.
  const objects: [string, Buffer, string][] = [];
  const count = big ? 150 : 5;
  for (let i = 0; i < count; i++)
    objects.push([`${prefixes.spotify}pl${i}.jpg`, randomBytes(1024 + ((i * 37) % 4096)), "image/jpeg"]);
  for (let i = 0; i < count; i++) {
    const name =
      i % 10 === 0
        ? `2024/été ${i} ☀.jpg`
        : i % 13 === 0
          ? `vid_${i}.mp4`
          : `${i}_${randomBytes(3).toString("hex")}.jpg`;
    objects.push([
      `${prefixes.ig}${name}`,
      randomBytes(512 + ((i * 53) % 6000)),
      name.endsWith(".mp4") ? "video/mp4" : "image/jpeg",
    ]);
  }
  const b = bucket();
  for (let i = 0; i < objects.length; i += 16) {
    await Promise.all(
      objects.slice(i, i + 16).map(([name, bytes, contentType]) =>
        b.file(name).save(bytes, {
          contentType,
          resumable: false,
          metadata: { metadata: { legacy: "yes" }, cacheControl: "public, max-age=3600" },
        }),
      ),
    );
  }
  return {
    tag,
    collections,
    prefixes,
    docs: writes.length,
    objects: objects.length,
    bytes: objects.reduce((n, o) => n + o[1].length, 0),
    args: [
      "--collection",
      `${collections.spotify}=spotify`,
      "--collection",
      `${collections.instagram}=instagram`,
      "--collection",
      `${collections.ig}=instagram`,
      "--storage-prefix",
      `${prefixes.spotify}=spotify`,
      "--storage-prefix",
      `${prefixes.ig}=instagram`,
    ],
  };
}

// --- full dumps, to prove "writes nothing" --------------------------------------------------------

async function dumpFirestore(f: Firestore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (cols: { listDocuments(): Promise<DocumentReference[]> }[]) => {
    for (const col of cols) {
      const refs = await col.listDocuments();
      for (let i = 0; i < refs.length; i += 300) {
        const snaps = await f.getAll(...refs.slice(i, i + 300));
        for (const s of snaps)
          if (s.exists) out.set(s.ref.path, `${s.updateTime!.toMillis()}:${JSON.stringify(s.data())}`);
      }
      // Every document may hold subcollections; ask for them 50 at a time (one request each).
      for (let i = 0; i < refs.length; i += 50) {
        const subs = await Promise.all(refs.slice(i, i + 50).map((ref) => ref.listCollections()));
        for (const cols of subs) await walk(cols);
      }
    }
  };
  await walk(await f.listCollections());
  return out;
}

async function dumpStorage(): Promise<Map<string, string>> {
  const [files] = await bucket().getFiles();
  return new Map(
    files.map((file) => [
      file.name,
      `${file.metadata.generation}:${file.metadata.metageneration}:${file.metadata.md5Hash}`,
    ]),
  );
}

async function countTargets(uid: string): Promise<{ docs: number; objects: number }> {
  const f = db();
  let docs = 0;
  for (const p of ["spotify", "instagram"] as const) {
    const walk = async (path: string): Promise<void> => {
      const refs = await f.collection(path).listDocuments();
      const snaps = refs.length ? await f.getAll(...refs) : [];
      docs += snaps.filter((s) => s.exists).length;
      for (const r of refs) for (const c of await r.listCollections()) await walk(c.path);
    };
    await walk(firestorePaths.snapshots(uid, p));
  }
  const [files] = await bucket().getFiles({ prefix: `${uid}/` });
  return { docs, objects: files.length };
}

// --- tests ----------------------------------------------------------------------------------------

describe("npm run migrate (big layout)", () => {
  let layout: Layout;
  const uid = `mig-${randomUUID()}`;

  beforeAll(async () => {
    layout = await seedLayout({ docs: "big" });
    expect(layout.docs).toBeGreaterThanOrEqual(1500);
    expect(layout.objects).toBe(300);
  });

  it("when --dry-run runs, then it prints the plan per source and nothing in Firestore or Storage changes", async () => {
    const beforeDb = await dumpFirestore(db());
    const beforeStorage = await dumpStorage();
    const r = await migrate(["--uid", uid, "--create-user", ...layout.args]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Migration plan (dry run: nothing is written)");
    expect(r.stdout).toContain("project     demo-metrics (emulators)");
    expect(r.stdout).toContain(`documents /${layout.collections.ig} → users/{uid}/instagram`);
    expect(r.report!.changes).toBe(layout.docs + layout.objects);
    expect(r.report!.conflicts).toBe(0);
    expect(await dumpFirestore(db())).toEqual(beforeDb);
    expect(await dumpStorage()).toEqual(beforeStorage);
  });

  it("when --delete-source runs before any verify, then it refuses and deletes nothing", async () => {
    const r = await migrate(["--uid", uid, "--delete-source", "--yes", ...layout.args]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Refused|No Auth account/);
    expect((await db().collection(layout.collections.ig).listDocuments()).length).toBe(350);
  });

  it("when --apply runs, then everything lands under the uid, verify passes, and a second apply changes nothing", async () => {
    const r = await migrate(["--uid", uid, "--create-user", "--apply", ...layout.args]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.report!.changes).toBe(layout.docs + layout.objects);
    // Reported for the README: the migration time of the big layout (wall clock, child process).
    console.log(
      `migrate --apply of ${layout.docs} documents + ${layout.objects} objects (${layout.bytes} bytes): ${r.ms} ms`,
    );
    expect(r.stdout).toMatch(/Summary \(apply\)/);
    expect(await countTargets(uid)).toEqual({ docs: layout.docs, objects: layout.objects });
    // One nested, odd-id document read back field by field.
    const odd = await db().doc(`users/${uid}/instagram/café ☕/sub ☂/café ☕`).get();
    expect(odd.data()).toEqual({ id: "café ☕" });
    const deep = await db().doc(`users/${uid}/spotify/albums-3/tracks/2/credits/c2`).get();
    expect(deep.get("who")).toBe("artist 3.2");
    const typed = await db().doc(`users/${uid}/spotify/play-7`).get();
    expect(typed.get("at")).toBeInstanceOf(Timestamp);
    expect(typed.get("where")).toBeInstanceOf(GeoPoint);
    expect(Buffer.from(typed.get("raw") as Buffer)).toEqual(Buffer.from([7, 0, 255]));
    // Parents that existed only through their subcollections stay absent.
    expect((await db().doc(`users/${uid}/instagram/phantom-1`).get()).exists).toBe(false);
    const [meta] = await bucket().file(`${uid}/spotify/playlists/pl3.jpg`).getMetadata();
    const [srcMeta] = await bucket().file(`${layout.prefixes.spotify}pl3.jpg`).getMetadata();
    expect(meta.md5Hash).toBe(srcMeta.md5Hash);
    expect(meta.contentType).toBe("image/jpeg");
    expect(meta.metadata?.legacy).toBe("yes");

    const v = await migrate(["--uid", uid, "--verify", ...layout.args]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain("verify PASSED");

    const again = await migrate(["--uid", uid, "--apply", ...layout.args]);
    expect(again.code).toBe(0);
    expect(again.report!.changes).toBe(0);
    expect(again.stdout).toMatch(/Result: 0 changes written, 0 conflicts/);
  });

  it("when a verify passed, then --delete-source lists without --yes, refuses a changed source, and deletes with --yes", async () => {
    const dry = await migrate(["--uid", uid, "--delete-source", ...layout.args]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would delete ${layout.docs} documents and ${layout.objects} objects`);
    expect((await db().collection(layout.collections.ig).listDocuments()).length).toBe(350);

    // A legacy function still writing: the source no longer matches what verify saw.
    await db().doc(`${layout.collections.ig}/media-3`).update({ likes: 999_999 });
    const refused = await migrate(["--uid", uid, "--delete-source", "--yes", ...layout.args]);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toContain(`document ${layout.collections.ig}/media-3: changed or added since the verify`);
    expect((await db().doc(`${layout.collections.ig}/media-3`).get()).exists).toBe(true);

    expect((await migrate(["--uid", uid, "--apply", ...layout.args])).report!.changes).toBe(1);
    expect((await migrate(["--uid", uid, "--verify", ...layout.args])).code).toBe(0);
    const del = await migrate(["--uid", uid, "--delete-source", "--yes", ...layout.args]);
    expect(del.code).toBe(0);
    for (const c of Object.values(layout.collections)) {
      const left = await db().collection(c).listDocuments();
      expect(left.length).toBe(0);
    }
    const [leftObjects] = await bucket().getFiles({ prefix: `${layout.tag}/` });
    expect(leftObjects.length).toBe(0);
    expect(await countTargets(uid)).toEqual({ docs: layout.docs, objects: layout.objects });
    expect((await db().doc(`users/${uid}/instagram/media-3`).get()).get("likes")).toBe(999_999);
  });
});

describe("npm run migrate (interrupted)", () => {
  it("when --apply is killed with SIGKILL mid-documents and mid-objects, then a rerun completes, verify passes, and another apply changes nothing", async () => {
    const layout = await seedLayout({ docs: "big" });
    const email = `mig-${randomUUID()}@example.test`;
    const base = [
      "--email",
      email,
      "--create-user",
      "--apply",
      "--batch-size",
      "20",
      "--concurrency",
      "1",
      "--pace-ms",
      "150",
      ...layout.args,
    ];
    const first = await migrate(base, (err) => progressOf(err, "documents") >= 300);
    expect(first.signal).toBe("SIGKILL");
    const second = await migrate(base, (err) => progressOf(err, "objects") >= 20);
    expect(second.signal).toBe("SIGKILL");
    const uid = (await import("../../src/admin"))
      .auth()
      .getUserByEmail(email)
      .then((u) => u.uid);
    const partial = await countTargets(await uid);
    expect(partial.docs).toBe(layout.docs);
    expect(partial.objects).toBeGreaterThan(0);
    expect(partial.objects).toBeLessThan(layout.objects);

    const third = await migrate(base);
    expect(third.code).toBe(0);
    expect(third.report!.changes).toBe(layout.objects - partial.objects);
    const v = await migrate(["--email", email, "--verify", ...layout.args]);
    expect(v.code).toBe(0);
    const again = await migrate(["--email", email, "--apply", ...layout.args]);
    expect(again.code).toBe(0);
    expect(again.report!.changes).toBe(0);
    expect(again.report!.conflicts).toBe(0);
    const cp = await db()
      .doc(migrationPaths.checkpoint(await uid))
      .get();
    expect(cp.get("apply.phase")).toBe("done");
    expect(cp.get("verify.passed")).toBe(true);
  });
});

describe("npm run migrate (conflicts, tokens)", () => {
  it("when a target exists with different content, then it is a conflict left alone, replaced only with --overwrite", async () => {
    const layout = await seedLayout({ docs: "small" });
    const uid = `mig-${randomUUID()}`;
    await db()
      .doc(`users/${uid}/spotify/last-response_top-tracks`)
      .set({ items: ["someone else's"] });
    const r = await migrate(["--uid", uid, "--create-user", "--apply", ...layout.args]);
    expect(r.code).toBe(4);
    expect(r.report!.conflicts).toBe(1);
    expect(r.stdout).toContain(`users/${uid}/spotify/last-response_top-tracks: target exists with different content`);
    expect((await db().doc(`users/${uid}/spotify/last-response_top-tracks`).get()).get("items")).toEqual([
      "someone else's",
    ]);
    const v = await migrate(["--uid", uid, "--verify", ...layout.args]);
    expect(v.code).toBe(3);
    const del = await migrate(["--uid", uid, "--delete-source", "--yes", ...layout.args]);
    expect(del.code).toBe(3);
    expect(del.stderr).toContain("last --verify");

    const o = await migrate(["--uid", uid, "--apply", "--overwrite", ...layout.args]);
    expect(o.code).toBe(0);
    expect(o.report!.changes).toBe(1);
    expect((await migrate(["--uid", uid, "--verify", ...layout.args])).code).toBe(0);
  });

  it("when an env file holds the legacy tokens, then they are imported encrypted, decrypt through the vault, and connections are due", async () => {
    const layout = await seedLayout({ docs: "small" });
    const uid = `mig-${randomUUID()}`;
    const envFile = join(tmp, `${uid}.env`);
    writeFileSync(
      envFile,
      [
        "# the old deployment's functions/.env",
        "SPOTIFY_REFRESH_TOKEN=legacy-refresh-SECRET",
        "SPOTIFY_USER_ID=legacy-spotify-user",
        "OLD_IG_TOKEN=legacy-ig-long-lived-SECRET",
        "INSTAGRAM_USER_ID=1789",
        "INSTAGRAM_TOKEN_EXPIRES_AT=2030-01-01T00:00:00Z",
      ].join("\n"),
    );
    const args = [
      "--uid",
      uid,
      "--create-user",
      "--env-file",
      envFile,
      "--var",
      "INSTAGRAM_ACCESS_TOKEN=OLD_IG_TOKEN",
      ...layout.args,
    ];
    const dry = await migrate(args);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("tokens      spotify (account legacy-spotify-user)");
    expect(dry.stdout + dry.stderr).not.toContain("SECRET");
    const r = await migrate([...args, "--apply"]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain("SECRET");

    const raw = await db().doc(firestorePaths.oauthToken(uid, "instagram")).get();
    expect(JSON.stringify(raw.data())).not.toContain("SECRET");
    const store = createTokenStore(db(), createVault(loadConfig(localFunctionsEnv()).TOKEN_ENCRYPTION_KEYS));
    const ig = await store.load(uid, "instagram");
    expect(ig!.accessToken).toBe("legacy-ig-long-lived-SECRET");
    expect(ig!.expiresAt.toISOString()).toBe("2030-01-01T00:00:00.000Z");
    const sp = await store.load(uid, "spotify");
    expect(sp!.refreshToken).toBe("legacy-refresh-SECRET");
    expect(sp!.expiresAt.getTime()).toBeLessThan(Date.now());
    for (const p of ["spotify", "instagram"] as const) {
      const conn = await db().doc(firestorePaths.connection(uid, p)).get();
      expect(conn.get("status")).toBe("connected");
      expect((conn.get("nextSyncAt") as Timestamp).toMillis()).toBeLessThanOrEqual(Date.now());
    }
    expect((await db().doc(firestorePaths.connection(uid, "instagram")).get()).get("providerAccountId")).toBe("1789");

    const again = await migrate([...args, "--apply"]);
    expect(again.report!.changes).toBe(0);
    const v = await migrate([
      "--uid",
      uid,
      "--verify",
      "--env-file",
      envFile,
      "--var",
      "INSTAGRAM_ACCESS_TOKEN=OLD_IG_TOKEN",
      ...layout.args,
    ]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain("instagram: tokens decrypt and match the env file");
  });
});

describe("npm run migrate, then the sync engine", () => {
  it("when the migrated user is fanned out once, then its imported tokens sync it against the fake provider", async () => {
    const { startFakeProviders } = await import("../../../scripts/fake-providers/index");
    const fake = await startFakeProviders({ port: 9090 }); // functions/.env.local points the functions here
    try {
      const layout = await seedLayout({ docs: "small" });
      const uid = `mig-${randomUUID()}`;
      const sp = fake.addAccount("spotify", { playlists: 3 });
      const ig = fake.addAccount("instagram", { media: 4 });
      const spTokens = fake.issueTokens("spotify", sp.id);
      const igTokens = fake.issueTokens("instagram", ig.id);
      const envFile = join(tmp, `${uid}.env`);
      // The legacy deployment knew only Spotify's refresh token: the first sync must refresh first.
      writeFileSync(
        envFile,
        [
          `SPOTIFY_REFRESH_TOKEN=${spTokens.refreshToken}`,
          `SPOTIFY_USER_ID=${sp.id}`,
          `INSTAGRAM_ACCESS_TOKEN=${igTokens.accessToken}`,
          `INSTAGRAM_TOKEN_EXPIRES_AT=${Math.floor(Date.now() / 1000) + igTokens.expiresIn}`,
          `INSTAGRAM_USER_ID=${ig.id}`,
        ].join("\n"),
      );
      const applied = await migrate(["--uid", uid, "--create-user", "--apply", "--env-file", envFile, ...layout.args]);
      expect(applied.code).toBe(0);
      const legacyPlaylists = (await db().doc(`users/${uid}/spotify/last-response_playlists`).get()).data();

      const fanout = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn(NODE_TSX[0], [...NODE_TSX.slice(1), join(ROOT, "scripts", "fanout.ts")], {
          cwd: ROOT,
          env: process.env,
        });
        let stdout = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout }));
      });
      expect(fanout.code).toBe(0);
      // The summary is printed as JSON; log lines may follow it.
      expect(Number(/"enqueued": (\d+)/.exec(fanout.stdout)?.[1])).toBeGreaterThanOrEqual(2);

      for (const p of ["spotify", "instagram"] as const) {
        const ref = db().doc(firestorePaths.connection(uid, p));
        const synced = await waitFor(
          async () => {
            const c = await ref.get();
            return c.get("lastSuccessAt") ? c : c.get("lastError") ? c : undefined;
          },
          { timeoutMs: 90_000, what: `the first ${p} sync of the migrated user` },
        );
        expect(synced.get("lastError")).toBeNull();
        expect(synced.get("status")).toBe("connected");
      }
      const after = (await db().doc(`users/${uid}/spotify/last-response_playlists`).get()).data();
      expect(after).not.toEqual(legacyPlaylists);
      const tokens = await createTokenStore(
        db(),
        createVault(loadConfig(localFunctionsEnv()).TOKEN_ENCRYPTION_KEYS),
      ).load(uid, "spotify");
      expect(tokens!.accessToken).not.toBe("migrated:refresh-before-use");
      expect(tokens!.expiresAt.getTime()).toBeGreaterThan(Date.now());
    } finally {
      await fake.stop();
    }
  });
});
