/**
 * The operator commands as an operator runs them: `npx tsx scripts/<command>.ts …` child
 * processes against the emulators and the fake provider server (started here on 127.0.0.1:9090,
 * where functions/.env.local points the product's clients). Their stdout must be exactly one JSON
 * document (what `npm run -s sync … | jq .outcome` relies on), their log lines on stderr; status
 * shows the app-wide provider pause and `--lift-pause` removes it.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { db } from "../../src/admin";
import { PROVIDERS, firestorePaths } from "../../src/paths";
import { type FakeProviders, startFakeProviders } from "../../../scripts/fake-providers";
import { FAKE_PROVIDERS, PROJECT_ID, ROOT } from "../../../scripts/lib/local-env";

jest.setTimeout(180_000);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `npx tsx scripts/<script> …args` from the project root, as an operator would. */
function command(script: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      "npx",
      ["tsx", `scripts/${script}`, ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") return reject(error);
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** The whole of stdout as one JSON document (fails the test when anything else is on stdout). */
function json<T = Record<string, unknown>>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${run.stdout.slice(0, 2000)}\n--- stderr:\n${run.stderr}`);
  }
}

interface PauseView {
  pausedUntil: string;
  reason: string;
  since: string;
  active: boolean;
}
interface Status {
  project: string;
  connections: number;
  dueNow: number;
  byStatus: Record<string, Record<string, number>>;
  providerPauses: Record<string, PauseView | null>;
  lastErrors: unknown[];
  liftedPause?: { provider: string; existed: boolean };
}

const pauseRef = () => db().doc(firestorePaths.providerState("spotify"));
let fake: FakeProviders;

beforeAll(async () => {
  fake = await startFakeProviders({ host: FAKE_PROVIDERS.host, port: FAKE_PROVIDERS.port });
  // No provider pause from an earlier run: the sync below must reach the provider.
  await Promise.all(PROVIDERS.map((p) => db().doc(firestorePaths.providerState(p)).delete()));
});

afterAll(async () => {
  await pauseRef().delete();
  await fake?.stop();
});

describe("operator commands", () => {
  const uid = `ops-${randomUUID()}`;
  let accountId = "";
  let refreshToken = "";

  beforeAll(() => {
    accountId = fake.addAccount("spotify", { playlists: 3 }).id;
    refreshToken = fake.issueTokens("spotify", accountId).refreshToken!;
  });

  it("when connect stores a Spotify grant, then stdout is its JSON result alone and holds no token", async () => {
    const run = await command("connect.ts", ["--uid", uid, "--provider", "spotify", "--refresh-token", refreshToken]);
    expect(run.code).toBe(0);
    const result = json(run);
    expect(result).toMatchObject({
      project: PROJECT_ID,
      uid,
      provider: "spotify",
      account: { id: accountId },
      connection: "connected, due now",
    });
    expect(run.stdout).not.toContain(refreshToken);
    expect(run.stderr).not.toContain(refreshToken);
    const conn = await db().doc(firestorePaths.connection(uid, "spotify")).get();
    expect(conn.get("status")).toBe("connected");
  });

  it("when sync runs a connection, then stdout is the sync result alone and the log lines are on stderr", async () => {
    const run = await command("sync.ts", ["--uid", uid, "--provider", "spotify"]);
    expect(run.code).toBe(0);
    const result = json(run);
    expect(result).toMatchObject({ outcome: "success", retry: false, uid, provider: "spotify" });
    expect((result.counts as Record<string, number>).playlists).toBe(3);
    expect(run.stderr).toMatch(/"sync\.completed"/);
    expect(run.stdout).not.toMatch(/sync\.completed|severity/);
  });

  it("when status runs with --json, then stdout is one JSON document with the connection counted and no pause", async () => {
    const run = await command("status.ts", ["--json"]);
    expect(run.code).toBe(0);
    const status = json<Status>(run);
    expect(status.project).toBe(PROJECT_ID);
    expect(status.connections).toBeGreaterThanOrEqual(1);
    expect(status.byStatus.spotify?.connected).toBeGreaterThanOrEqual(1);
    expect(typeof status.dueNow).toBe("number");
    expect(Array.isArray(status.lastErrors)).toBe(true);
    expect(status.providerPauses).toEqual(Object.fromEntries(PROVIDERS.map((p) => [p, null])));
    expect(status.liftedPause).toBeUndefined();
  });

  it("when Spotify is paused, then status shows the pause, in JSON and in the summary", async () => {
    const until = new Date(Date.now() + 2 * 3600_000);
    await pauseRef().set({
      pausedUntil: Timestamp.fromDate(until),
      reason: "Spotify asked this app to wait 7200 s",
      since: Timestamp.now(),
    });

    const status = json<Status>(await command("status.ts", ["--json"]));
    expect(status.providerPauses.spotify).toMatchObject({
      pausedUntil: until.toISOString(),
      reason: "Spotify asked this app to wait 7200 s",
      active: true,
    });
    expect(status.providerPauses.instagram).toBeNull();

    const text = await command("status.ts", []);
    expect(text.code).toBe(0);
    expect(() => JSON.parse(text.stdout) as unknown).toThrow();
    expect(text.stdout).toContain(`Project ${PROJECT_ID}:`);
    expect(text.stdout).toMatch(/spotify\s+PAUSED until .*Spotify asked this app to wait 7200 s/);
    expect(text.stdout).toContain("npm run status -- --lift-pause spotify");
    expect(text.stdout).toMatch(/instagram\s+not paused/);
  });

  it("when status runs with --lift-pause spotify, then the pause is removed and the result says so", async () => {
    const run = await command("status.ts", ["--json", "--lift-pause", "spotify"]);
    expect(run.code).toBe(0);
    const status = json<Status>(run);
    expect(status.liftedPause).toEqual({ provider: "spotify", existed: true });
    expect(status.providerPauses.spotify).toBeNull();
    expect((await pauseRef().get()).exists).toBe(false);
    expect(run.stderr).toMatch(/"sync\.provider_pause_lifted"/);

    const again = json<Status>(await command("status.ts", ["--json", "--lift-pause", "spotify"]));
    expect(again.liftedPause).toEqual({ provider: "spotify", existed: false });

    const text = await command("status.ts", ["--lift-pause", "spotify"]);
    expect(text.stdout).toMatch(/^spotify had no pause to lift\./);
  });

  it("when one person's own Spotify app is paused, then status lists it by client id and --app lifts only it", async () => {
    const clientId = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    const ref = db().doc(firestorePaths.appState("spotify", clientId));
    await ref.set({
      pausedUntil: Timestamp.fromMillis(Date.now() + 3600_000),
      reason: "Spotify rate-limited your own Spotify app",
      since: Timestamp.now(),
    });
    const status = json<Status & { ownAppPauses: Record<string, { clientId: string; active: boolean }[]> }>(
      await command("status.ts", ["--json"]),
    );
    expect(status.ownAppPauses.spotify).toEqual([expect.objectContaining({ clientId, active: true })]);
    expect(status.providerPauses.spotify).toBeNull();
    const text = await command("status.ts", []);
    expect(text.stdout).toContain(`app ${clientId} PAUSED until`);
    expect(text.stdout).toContain(`npm run status -- --lift-pause spotify --app ${clientId}`);
    const lifted = json<Status>(await command("status.ts", ["--json", "--lift-pause", "spotify", "--app", clientId]));
    expect(lifted.liftedPause).toEqual({ provider: "spotify", clientId, existed: true });
    expect((await ref.get()).exists).toBe(false);
  });

  it("when the adaptive queue rate recorded Spotify's rate, then status shows it, and the configured rate of the others", async () => {
    await pauseRef().set({
      queueRate: {
        perSecond: 7.5,
        adjustedAt: Timestamp.fromMillis(Date.parse("2026-04-01T10:00:00Z")),
        reason: "increase",
      },
    });
    const adaptive = { QUEUE_RATE_ADAPTIVE: "true" };
    const status = json<Status & { queueRates: Record<string, unknown>; waitingInQueue: number }>(
      await command("status.ts", ["--json"], adaptive),
    );
    expect(status.queueRates.spotify).toEqual({
      perSecond: 7.5,
      source: "adaptive",
      adjustedAt: "2026-04-01T10:00:00.000Z",
      reason: "increase",
    });
    expect(status.queueRates.instagram).toEqual({ perSecond: 20, source: "configured" });
    expect(typeof status.waitingInQueue).toBe("number");
    const text = await command("status.ts", [], adaptive);
    expect(text.stdout).toMatch(/spotify\s+7\.5\/s \(27000\/h\), adaptive, increase at 2026-04-01T10:00:00\.000Z/);
    // With the adaptive rate off, the recorded rate is not in effect.
    const off = json<Status & { queueRates: Record<string, unknown> }>(await command("status.ts", ["--json"]));
    expect(off.queueRates.spotify).toEqual({ perSecond: 5, source: "configured" });
    await pauseRef().delete();
  });

  it("when --lift-pause names no provider, then status refuses with usage on stderr and nothing on stdout", async () => {
    const run = await command("status.ts", ["--lift-pause", "myspace"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/usage: npm run status -- .*--lift-pause spotify\|instagram/);
  });
});
