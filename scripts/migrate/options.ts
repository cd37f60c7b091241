/**
 * Command-line options of `npm run migrate`, parsed with node:util and checked with zod.
 */
import { parseArgs } from "node:util";
import { z } from "./deps";
import { InvalidInputError } from "../../functions/src/errors";
import { PROVIDERS, type Provider, legacyPaths } from "../../functions/src/paths";
import { TOKEN_VARIABLES, type TokenVariable } from "./legacy-tokens";

export const MODES = ["dry-run", "apply", "verify", "delete-source"] as const;
export type Mode = (typeof MODES)[number];

export interface SourceCollection {
  name: string;
  provider: Provider;
}
export interface SourcePrefix {
  prefix: string;
  provider: Provider;
}

export interface Options {
  mode: Mode;
  uid?: string;
  email?: string;
  createUser: boolean;
  yes: boolean;
  overwrite: boolean;
  collections: SourceCollection[];
  prefixes: SourcePrefix[];
  envFile?: string;
  /** Canonical token variable → the name it has in the env file. */
  variables: Record<TokenVariable, string>;
  project?: string;
  bucket?: string;
  batchSize: number;
  concurrency: number;
  paceMs: number;
  reportJson?: string;
  help: boolean;
}

export const USAGE = `usage: npm run migrate -- (--uid U | --email E [--create-user]) [mode] [options]

Moves the single-tenant layout (/spotify, /instagram, /ig; Storage spotify/playlists/, ig/;
tokens from an env file) under one user: users/{uid}/… and {uid}/… (README: "Migrating from the
single-tenant layout").

modes (one; default --dry-run):
  --dry-run              print the plan (documents, objects, bytes, what exists, conflicts); write nothing
  --apply                copy documents and objects, import tokens, create connections (resumable)
  --verify               compare every target with its source; record the result in the checkpoint
  --delete-source        remove the legacy data after a passing --verify; deletes only with --yes

target:
  --uid U                the user's uid
  --email E              find the user by email (with --create-user: create the Auth account)
  --create-user          create the Auth account when it does not exist (--apply only)
  --project P            Google Cloud project (required unless emulated or GCLOUD_PROJECT is a demo- project)
  --bucket B             Storage bucket (default: STORAGE_BUCKET, else <project>.appspot.com)

sources (repeatable; replace the defaults):
  --collection NAME[=PROVIDER]    default: spotify, instagram, ig=instagram
  --storage-prefix PREFIX=PROVIDER default: spotify/playlists/=spotify, ig/=instagram
  --env-file PATH        legacy env file with the token variables (none: no tokens imported)
  --var NAME=ENV_NAME    read token variable NAME from ENV_NAME (names: ${TOKEN_VARIABLES.join(", ")})

behaviour:
  --overwrite            replace targets that exist with different content (default: report a conflict)
  --yes                  confirm --delete-source
  --batch-size N         documents per write batch (default 200, max 400)
  --concurrency N        Storage copies in flight (default 8)
  --pace-ms N            pause between write batches, to spare a live database (default 0)
  --report-json PATH     also write the final report as JSON
`;

const positive = (max: number) => z.coerce.number().int().positive().max(max);

const raw = z.object({
  uid: z.string().min(1).max(128).optional(),
  email: z.string().email().optional(),
  "create-user": z.boolean().default(false),
  "dry-run": z.boolean().default(false),
  apply: z.boolean().default(false),
  verify: z.boolean().default(false),
  "delete-source": z.boolean().default(false),
  yes: z.boolean().default(false),
  overwrite: z.boolean().default(false),
  collection: z.array(z.string().min(1)).optional(),
  "storage-prefix": z.array(z.string().min(1)).optional(),
  "env-file": z.string().min(1).optional(),
  var: z.array(z.string()).default([]),
  project: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,61}[a-z0-9]$/, "is not a Google Cloud project id")
    .optional(),
  bucket: z.string().min(3).max(222).optional(),
  "batch-size": positive(400).default(200),
  concurrency: positive(64).default(8),
  "pace-ms": z.coerce.number().int().nonnegative().max(60_000).default(0),
  "report-json": z.string().min(1).optional(),
  help: z.boolean().default(false),
});

export function parseOptions(argv: string[]): Options {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        uid: { type: "string" },
        email: { type: "string" },
        "create-user": { type: "boolean" },
        "dry-run": { type: "boolean" },
        apply: { type: "boolean" },
        verify: { type: "boolean" },
        "delete-source": { type: "boolean" },
        yes: { type: "boolean" },
        overwrite: { type: "boolean" },
        collection: { type: "string", multiple: true },
        "storage-prefix": { type: "string", multiple: true },
        "env-file": { type: "string" },
        var: { type: "string", multiple: true },
        project: { type: "string" },
        bucket: { type: "string" },
        "batch-size": { type: "string" },
        concurrency: { type: "string" },
        "pace-ms": { type: "string" },
        "report-json": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    throw new InvalidInputError((e as Error).message);
  }
  const parsed = raw.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidInputError(`--${String(issue.path[0])} ${issue.message.toLowerCase()}.`);
  }
  const o = parsed.data;
  const help = o.help;
  const modes = MODES.filter((m) => o[m]);
  if (modes.length > 1)
    throw new InvalidInputError(`Choose one mode, not ${modes.map((m) => `--${m}`).join(" and ")}.`);
  const mode: Mode = modes[0] ?? "dry-run";
  if (!help && !o.uid && !o.email) throw new InvalidInputError("Name the target user with --uid U or --email E.");
  if (o.yes && mode !== "delete-source") throw new InvalidInputError("--yes only confirms --delete-source.");
  if (o.overwrite && mode !== "apply" && mode !== "dry-run") {
    throw new InvalidInputError("--overwrite goes with --apply (or --dry-run, to preview it).");
  }
  return {
    mode,
    uid: o.uid,
    email: o.email,
    createUser: o["create-user"],
    yes: o.yes,
    overwrite: o.overwrite,
    collections: (o.collection ?? [...legacyPaths.defaultCollections]).map(parseCollection),
    prefixes: (
      o["storage-prefix"] ?? Object.entries(legacyPaths.defaultStoragePrefixes).map(([p, to]) => `${p}=${to}`)
    ).map(parsePrefix),
    envFile: o["env-file"],
    variables: parseVariables(o.var),
    project: o.project,
    bucket: o.bucket,
    batchSize: o["batch-size"],
    concurrency: o.concurrency,
    paceMs: o["pace-ms"],
    reportJson: o["report-json"],
    help,
  };
}

function providerNamed(name: string, flag: string): Provider {
  if (!(PROVIDERS as readonly string[]).includes(name)) {
    throw new InvalidInputError(`${flag}: unknown provider ${JSON.stringify(name)} (known: ${PROVIDERS.join(", ")}).`);
  }
  return name as Provider;
}

function parseCollection(spec: string): SourceCollection {
  const [name = "", to] = spec.split("=", 2);
  const collection = legacyPaths.collection(name);
  if (to !== undefined) return { name: collection, provider: providerNamed(to, "--collection") };
  const provider = legacyPaths.providerOfCollection(collection);
  if (!provider)
    throw new InvalidInputError(`--collection ${name}: say which provider it belongs to (${name}=spotify).`);
  return { name: collection, provider };
}

function parsePrefix(spec: string): SourcePrefix {
  const at = spec.lastIndexOf("=");
  if (at <= 0) throw new InvalidInputError(`--storage-prefix ${spec}: expected PREFIX=PROVIDER (ig/=instagram).`);
  return {
    prefix: legacyPaths.storagePrefix(spec.slice(0, at)),
    provider: providerNamed(spec.slice(at + 1), "--storage-prefix"),
  };
}

function parseVariables(specs: string[]): Record<TokenVariable, string> {
  const out = Object.fromEntries(TOKEN_VARIABLES.map((v) => [v, v])) as Record<TokenVariable, string>;
  for (const spec of specs) {
    const m = /^([A-Z_]+)=([A-Za-z_][A-Za-z0-9_]*)$/.exec(spec);
    if (!m || !(TOKEN_VARIABLES as readonly string[]).includes(m[1]!)) {
      throw new InvalidInputError(
        `--var ${spec}: expected NAME=ENV_NAME with NAME one of ${TOKEN_VARIABLES.join(", ")}.`,
      );
    }
    out[m[1] as TokenVariable] = m[2]!;
  }
  return out;
}
