/**
 * `npm run fake-providers [-- --port 9090] [--seed-demo]`: runs the fake provider server
 * standalone on 127.0.0.1 until Ctrl-C, and prints its URLs and the settings that point the
 * product at it.
 */
import { PROVIDERS } from "../../functions/src/providers/catalog";
import { DEFAULT_PORT, FAKES, startFakeProviders } from "./index";
import { CONTROL_OPERATIONS } from "./control";

function parseArgs(argv: string[]): { port: number; seedDemo: boolean } {
  let port = DEFAULT_PORT;
  let seedDemo = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--seed-demo") seedDemo = true;
    else if (a === "--port" || a.startsWith("--port=")) {
      const v = a.includes("=") ? a.slice("--port=".length) : argv[++i];
      port = Number(v);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535 (got ${v}).`);
    } else if (a === "--help" || a === "-h") {
      console.log("usage: npm run fake-providers -- [--port 9090] [--seed-demo]");
      process.exit(0);
    } else throw new Error(`Unknown argument ${a} (try --help).`);
  }
  return { port, seedDemo };
}

async function main(): Promise<void> {
  const { port, seedDemo } = parseArgs(process.argv.slice(2));
  let fake;
  try {
    fake = await startFakeProviders({ port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
      console.error(`Port ${port} is already in use (another fake-providers or npm start?). Stop it, or pass --port.`);
      process.exit(1);
    }
    throw err;
  }
  const lines = [`fake providers listening on ${fake.url}`, "", "Settings that point the product at it:"];
  for (const [k, v] of Object.entries(fake.baseUrls)) lines.push(`  ${k}=${v}`);
  const urls = PROVIDERS.flatMap((p) => FAKES[p].urls(fake.url));
  const width = Math.max(...urls.map(([label]) => label.length), "control API".length);
  lines.push(
    "",
    "URLs:",
    ...urls.map(([label, u]) => `  ${label.padEnd(width)} ${u}`),
    `  ${"control API".padEnd(width)} POST ${fake.url}/_control/<operation>  (${Object.keys(CONTROL_OPERATIONS).join(", ")})`,
  );
  const withApps = PROVIDERS.filter((p) => FAKES[p].ownApps);
  if (withApps.length > 0) {
    lines.push("", `Own apps (${withApps.join(", ")}), besides the operator's: POST ${fake.url}/_control/<operation>`);
    for (const op of ["createApp", "app", "apps"]) lines.push(`  ${op.padEnd(9)} ${CONTROL_OPERATIONS[op]}`);
    lines.push(
      '  "rateLimit" and "fault" take a "clientId": that app\'s own budget, faults on requests made as that app.',
    );
  }
  if (seedDemo) {
    const idWidth = Math.max(...PROVIDERS.map((p) => p.length));
    lines.push("", "Demo accounts:");
    for (const p of PROVIDERS) for (const line of FAKES[p].demo(fake)) lines.push(`  ${p.padEnd(idWidth)} ${line}`);
  }
  lines.push("", "Ctrl-C stops it.");
  console.log(lines.join("\n"));
  const stop = () => {
    void fake.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
