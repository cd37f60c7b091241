/**
 * A Firestore emulator of the test's own (a Java process on its own port, apart from the one
 * firebase-tools runs), so a chaos test can kill it and start it again from what it had
 * committed: `exportTo` is the emulator's export, `start({ seedFrom })` its seed_from_export.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Firestore } from "firebase-admin/firestore";
import { FIRESTORE_EMULATOR_MAIN, firestoreEmulatorJar } from "../../../scripts/lib/harness";

export interface FirestoreProcess {
  readonly host: string;
  readonly port: number;
  /** Starts the emulator (seeded from an export directory) and waits until it answers. */
  start(opts?: { seedFrom?: string }): Promise<{ readyMs: number }>;
  /** Writes everything it holds to `dir` (an export) and returns the directory to seed from. */
  exportTo(dir: string): Promise<string>;
  /** SIGKILL: nothing is flushed, in-flight requests fail. */
  kill(): Promise<void>;
  /** An Admin SDK client pointed at this emulator (its own app). */
  client(projectId: string): Firestore;
}

export function firestoreProcess(opts: { host?: string; port: number; projectId: string }): FirestoreProcess {
  const host = opts.host ?? "127.0.0.1";
  const base = `http://${host}:${opts.port}`;
  let child: ChildProcess | undefined;
  let output = "";

  const answers = async () => {
    try {
      return (await fetch(`${base}/`, { signal: AbortSignal.timeout(1_000) })).ok;
    } catch {
      return false;
    }
  };

  return {
    host,
    port: opts.port,
    async start({ seedFrom } = {}) {
      const jar = firestoreEmulatorJar();
      if (!jar)
        throw new Error("No Firestore emulator jar found (see scripts/lib/harness.ts: resolveFirestoreEmulator).");
      if (await answers()) throw new Error(`Something already answers on ${base}.`);
      const args = [
        "-Duser.language=en",
        "-cp",
        jar,
        FIRESTORE_EMULATOR_MAIN,
        `--host=${host}`,
        `--port=${opts.port}`,
        `--project_id=${opts.projectId}`,
        ...(seedFrom ? [`--seed_from_export=${metadataFile(seedFrom)}`] : []),
      ];
      const t0 = Date.now();
      output = "";
      const proc = spawn("java", args, { stdio: ["ignore", "pipe", "pipe"] });
      child = proc;
      proc.stdout?.on("data", (d: Buffer) => (output += d.toString()));
      proc.stderr?.on("data", (d: Buffer) => (output += d.toString()));
      while (!(await answers())) {
        if (proc.exitCode !== null) throw new Error(`The Firestore emulator exited: ${output.slice(-2_000)}`);
        if (Date.now() - t0 > 60_000)
          throw new Error(`The Firestore emulator did not answer in 60 s: ${output.slice(-2_000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return { readyMs: Date.now() - t0 };
    },
    async exportTo(dir) {
      mkdirSync(dir, { recursive: true });
      const r = await fetch(`${base}/emulator/v1/projects/${opts.projectId}:export`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          database: `projects/${opts.projectId}/databases/(default)`,
          export_directory: dir,
          export_name: "export",
        }),
      });
      if (!r.ok) throw new Error(`The Firestore emulator's export answered ${r.status}: ${await r.text()}`);
      return join(dir, "export");
    },
    async kill() {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      proc.kill("SIGKILL");
      await exited;
    },
    client(projectId) {
      // FIRESTORE_EMULATOR_HOST (firebase-tools' emulator) would take precedence over `host`.
      const saved = process.env.FIRESTORE_EMULATOR_HOST;
      delete process.env.FIRESTORE_EMULATOR_HOST;
      try {
        return new Firestore({ projectId, host: `${host}:${opts.port}`, ssl: false });
      } finally {
        if (saved !== undefined) process.env.FIRESTORE_EMULATOR_HOST = saved;
      }
    },
  };
}

/** The export's overall metadata file, which seed_from_export takes. */
function metadataFile(exportDir: string): string {
  const f = readdirSync(exportDir).find((n) => n.endsWith(".overall_export_metadata"));
  if (!f) throw new Error(`${exportDir} holds no .overall_export_metadata file.`);
  return join(exportDir, f);
}
