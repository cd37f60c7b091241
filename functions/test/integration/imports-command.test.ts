/**
 * `npm run import-history` as an operator runs it (a `tsx scripts/import-history.ts` child process
 * against the emulators): one JSON document on stdout, a refusal's sentence on stderr with exit 1,
 * and an import SIGKILLed after its first chunks that, resumed with --job, ends with exactly the
 * plays and counts of a clean run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { db } from "../../src/admin";
import { ImportJob } from "../../src/imports/job";
import { rebuildStats } from "../../src/history/rebuild";
import { firestorePaths } from "../../src/paths";
import { ROOT } from "../../../scripts/lib/local-env";
import { EXPECTED_EXTENDED, EXTENDED, copyAs, generatedExportZip, tempDir } from "../fixtures/spotify-export";
import { forgetPeople } from "../support/cleanup";

// Three imports of 3,000 plays each in child processes; a loaded 2-core machine needs the margin.
jest.setTimeout(480_000);

const dir = tempDir("imports-cmd-");
/** One process (not the tsx CLI, which runs the script in a child a SIGKILL would not reach). */
const NODE_TSX = [process.execPath, "--import", "tsx"] as const;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the command; `killWhen` sees stderr so far and SIGKILLs the child when it returns true. */
function command(args: string[], killWhen?: (stderr: string) => boolean): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(NODE_TSX[0], [...NODE_TSX.slice(1), "scripts/import-history.ts", ...args], {
      cwd: ROOT,
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
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
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

async function person(): Promise<string> {
  const uid = `impcmd-${randomUUID()}`;
  await db()
    .doc(firestorePaths.user(uid))
    .set({ uid, settings: { timeZone: "Europe/Berlin", syncEnabled: true } });
  return uid;
}

async function playIds(uid: string): Promise<string[]> {
  return (await db().collection(firestorePaths.plays(uid)).select().get()).docs.map((d) => d.id).sort();
}

afterAll(async () => {
  await forgetPeople(["impcmd-"]);
});

describe("npm run import-history", () => {
  it("prints one JSON document with the counts; a second run adds nothing", async () => {
    const uid = await person();
    const r = await command(["--uid", uid, "--file", EXTENDED]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(["importId", "read", "imported", "duplicates", "skipped", "files"]);
    expect(out).toMatchObject({
      importId: expect.stringMatching(/^command-\d+$/),
      read: EXPECTED_EXTENDED.entries,
      imported: EXPECTED_EXTENDED.imported,
      duplicates: EXPECTED_EXTENDED.duplicates,
      skipped: EXPECTED_EXTENDED.skipped,
    });
    // Counts only in the logs: no names of tracks or artists.
    for (const name of ["Hoppípolla", "Sigur Rós", "坂本龍一", "Waves"]) expect(r.stderr).not.toContain(name);
    const again = await command(["--uid", uid, "--file", EXTENDED]);
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 0, duplicates: 6 });
    expect(await playIds(uid)).toHaveLength(5);
  });

  it("refuses bad input with its sentence on stderr and exit 1, and bad arguments with exit 2", async () => {
    const uid = await person();
    const bad = copyAs(dir, "not-json.txt", "Streaming_History_Audio_2023_0.json");
    const r = await command(["--uid", uid, "--file", bad]);
    expect(r).toMatchObject({ code: 1, stdout: "" });
    expect(r.stderr.trim().split("\n").pop()).toBe(
      "Streaming_History_Audio_2023_0.json is not a streaming history: it is not a JSON array.",
    );
    expect(await playIds(uid)).toEqual([]);
    const usage = await command(["--uid", uid, "--file", join(dir, "nope.zip")]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/no such file/);
    expect((await command(["--uid", uid, "--file", EXTENDED, "--min-seconds", "abc"])).code).toBe(2);
  });

  it("when killed after its first chunks and resumed with --job, then it ends with exactly a clean run's plays and counts", async () => {
    const zip = await generatedExportZip(join(dir, "big.zip"), 3_000, { perFile: 1_000, stepMs: 20 * 60_000 });
    const clean = await person();
    const resumed = await person();
    // 30 chunks a run: enough to be killed mid-way, few enough that three runs stay well inside the timeout on a busy machine.
    const chunk = ["--chunk-plays", "100"];

    const a = await command(["--uid", clean, "--file", zip, ...chunk]);
    expect(a.code).toBe(0);
    const cleanOut = JSON.parse(a.stdout) as { importId: string; imported: number };
    expect(cleanOut).toMatchObject({ read: 3_000, imported: 3_000, duplicates: 0 });

    // Killed as soon as a chunk past the first file's end has committed (each chunk logs its counts).
    const killed = await command(["--uid", resumed, "--file", zip, ...chunk], (stderr) =>
      [...stderr.matchAll(/"event":"import\.chunk".*?"entriesDone":(\d+)/g)].some((m) => Number(m[1]) >= 1_200),
    );
    const importId = /"importId":"(command-\d+)"/.exec(killed.stderr)?.[1] ?? "";
    expect(killed.signal).toBe("SIGKILL");
    expect(killed.stdout).toBe("");
    const stopped = ImportJob.parse((await db().doc(firestorePaths.importJob(resumed, importId)).get()).data());
    expect(stopped.status).toBe("running");
    expect(stopped.progress.entriesDone).toBeGreaterThanOrEqual(1_200);
    expect(stopped.progress.entriesDone).toBeLessThan(3_000);

    const b = await command(["--uid", resumed, "--file", zip, "--job", importId, ...chunk]);
    expect(b.code).toBe(0);
    const resumedOut = JSON.parse(b.stdout) as Record<string, unknown>;
    expect({ ...resumedOut, importId: null }).toEqual({ ...cleanOut, importId: null });
    expect(resumedOut.importId).toBe(importId);
    const ids = await playIds(resumed);
    expect(ids).toHaveLength(3_000);
    expect(ids).toEqual(await playIds(clean));
    expect(await rebuildStats(db(), resumed, { check: true })).toMatchObject({ plays: 3_000, changed: [] });

    // Re-running the finished job prints its result and changes nothing.
    const c = await command(["--uid", resumed, "--file", zip, "--job", importId]);
    expect(JSON.parse(c.stdout)).toEqual(resumedOut);
    expect(await playIds(resumed)).toHaveLength(3_000);
  });
});
