/**
 * `npm run fake-providers [-- --port 9090] [--seed-demo]`: runs the fake provider server
 * standalone on 127.0.0.1 until Ctrl-C, and prints its URLs and the settings that point the
 * product at it.
 */
import { DEFAULT_PORT, startFakeProviders } from "./index";
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
  lines.push(
    "",
    "URLs:",
    `  Spotify authorize   ${fake.baseUrls.SPOTIFY_ACCOUNTS_BASE_URL}/authorize`,
    `  Spotify token       ${fake.baseUrls.SPOTIFY_ACCOUNTS_BASE_URL}/api/token`,
    `  Spotify Web API     ${fake.baseUrls.SPOTIFY_API_BASE_URL}/v1/me`,
    `  Instagram authorize ${fake.baseUrls.INSTAGRAM_AUTHORIZE_BASE_URL}/oauth/authorize`,
    `  Instagram token     ${fake.baseUrls.INSTAGRAM_OAUTH_BASE_URL}/oauth/access_token`,
    `  Instagram Graph     ${fake.baseUrls.INSTAGRAM_GRAPH_BASE_URL}/me`,
    `  control API         POST ${fake.url}/_control/<operation>  (${Object.keys(CONTROL_OPERATIONS).join(", ")})`,
  );
  if (seedDemo) {
    const s1 = fake.addAccount("spotify", { displayName: "Demo Listener", playlists: 60 });
    const s2 = fake.addAccount("spotify", { displayName: "", playlists: 0 });
    const i1 = fake.addAccount("instagram", { displayName: "demo.creator", media: 40 });
    const t = fake.issueTokens("spotify", s1.id);
    const ti = fake.issueTokens("instagram", i1.id);
    lines.push(
      "",
      "Demo accounts:",
      `  spotify   ${s1.id} (60 playlists)  access token: ${t.accessToken}`,
      `  spotify   ${s2.id} (no name, no playlists)`,
      `  instagram ${i1.id} (40 media)  long-lived token: ${ti.accessToken}`,
      `  try: curl -H "Authorization: Bearer ${t.accessToken}" ${fake.baseUrls.SPOTIFY_API_BASE_URL}/v1/me`,
    );
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
