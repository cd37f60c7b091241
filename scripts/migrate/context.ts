/**
 * Where the migration runs: the emulators (FIRESTORE_EMULATOR_HOST set; the other emulator
 * settings come from scripts/lib/local-env.ts) or a real project through application default
 * credentials (`--project` required). Also resolves the target user.
 */
import type { Auth } from "./deps";
import type { Firestore } from "./deps";
import { getStorage } from "./deps";
import { adminApp, auth as adminAuth, db as adminDb } from "../../functions/src/admin";
import { loadConfig, localSecrets } from "../../functions/src/config";
import { createVault, type Vault } from "../../functions/src/crypto/vault";
import { InvalidInputError } from "../../functions/src/errors";
import { emulatorEnv, localFunctionsEnv } from "../lib/local-env";
import type { Options } from "./options";

type Bucket = ReturnType<ReturnType<typeof getStorage>["bucket"]>;

export interface Target {
  project: string;
  emulated: boolean;
  bucketName: string;
  db: Firestore;
  auth: Auth;
  bucket: Bucket;
  /** The token vault (TOKEN_ENCRYPTION_KEYS); built on first use. */
  vault: () => Vault;
}

export function resolveTarget(opts: Options, env: NodeJS.ProcessEnv = process.env): Target {
  const emulated = Boolean(env.FIRESTORE_EMULATOR_HOST);
  let project: string;
  if (emulated) {
    for (const [k, v] of Object.entries(emulatorEnv())) if (!env[k]) env[k] = v;
    // Emulator runs talk to loopback only: google-auth-library must not probe the GCE metadata
    // server (it did, intermittently, from one of the Google clients; seen as MetadataLookupWarning).
    env.METADATA_SERVER_DETECTION = "none";
    project = opts.project ?? env.GCLOUD_PROJECT!;
    if (!project.startsWith("demo-") && !opts.project) {
      throw new InvalidInputError(`Project ${project} is not a demo- project: name it with --project to confirm.`);
    }
  } else {
    if (!opts.project) {
      throw new InvalidInputError(
        "--project is required against a real project (no FIRESTORE_EMULATOR_HOST is set, so this would use application default credentials).",
      );
    }
    if (opts.project.startsWith("demo-")) {
      throw new InvalidInputError(
        `${opts.project} is a demo project: it exists only in the emulators (set FIRESTORE_EMULATOR_HOST).`,
      );
    }
    project = opts.project;
  }
  env.GCLOUD_PROJECT = project;
  env.GOOGLE_CLOUD_PROJECT = project;
  const bucketName = opts.bucket ?? env.STORAGE_BUCKET ?? `${project}.appspot.com`;
  const app = adminApp();
  let vault: Vault | undefined;
  return {
    project,
    emulated,
    bucketName,
    db: adminDb(),
    auth: adminAuth(),
    bucket: getStorage(app).bucket(bucketName),
    vault: () => (vault ??= createVault(tokenKeys(emulated))),
  };
}

/**
 * The key ring only. Emulated: the development ring the emulated functions use
 * (functions/.secret.local). Real: TOKEN_ENCRYPTION_KEYS from the environment (e.g.
 * `export TOKEN_ENCRYPTION_KEYS="$(firebase functions:secrets:access TOKEN_ENCRYPTION_KEYS)"`).
 * The migration needs no client secrets, so stand-ins satisfy the config check for those.
 */
function tokenKeys(emulated: boolean) {
  const env = emulated ? localFunctionsEnv() : { ...process.env };
  // The migration reads only the key ring; every other secret may be absent.
  for (const [name, value] of Object.entries(localSecrets(() => ""))) {
    if (name !== "TOKEN_ENCRYPTION_KEYS") env[name] ||= value;
  }
  return loadConfig(env).TOKEN_ENCRYPTION_KEYS;
}

export interface TargetUser {
  /** Undefined while the account is still to be created (dry-run with --create-user). */
  uid?: string;
  email?: string;
  exists: boolean;
  /** What --apply will do about the Auth account. */
  note: string;
}

function notFound(e: unknown): boolean {
  return (e as { code?: string }).code === "auth/user-not-found";
}

/** Finds the user; never creates (see ensureUser). */
export async function findUser(auth: Auth, opts: Options): Promise<TargetUser> {
  if (opts.uid) {
    try {
      const user = await auth.getUser(opts.uid);
      if (opts.email && user.email && user.email.toLowerCase() !== opts.email.toLowerCase()) {
        throw new InvalidInputError(`User ${opts.uid} has email ${user.email}, not ${opts.email}.`);
      }
      return { uid: user.uid, email: user.email, exists: true, note: "Auth account exists" };
    } catch (e) {
      if (!notFound(e)) throw e;
      return {
        uid: opts.uid,
        email: opts.email,
        exists: false,
        note: opts.createUser ? "Auth account will be created" : "no Auth account (add --create-user)",
      };
    }
  }
  try {
    const user = await auth.getUserByEmail(opts.email!);
    return { uid: user.uid, email: user.email, exists: true, note: "Auth account exists" };
  } catch (e) {
    if (!notFound(e)) throw e;
    return {
      email: opts.email,
      exists: false,
      note: opts.createUser ? "Auth account will be created" : "no Auth account (add --create-user)",
    };
  }
}

/** For --apply: the user's uid, creating the Auth account when allowed. */
export async function ensureUser(auth: Auth, opts: Options, user: TargetUser): Promise<string> {
  if (user.exists && user.uid) return user.uid;
  if (!opts.createUser) {
    throw new InvalidInputError(
      `No Auth account for ${opts.uid ?? opts.email}: add --create-user to create it, or create the account first.`,
    );
  }
  try {
    const created = await auth.createUser({
      ...(opts.uid ? { uid: opts.uid } : {}),
      ...(opts.email ? { email: opts.email } : {}),
    });
    return created.uid;
  } catch (e) {
    // A concurrent or killed earlier run may have created it already.
    const code = (e as { code?: string }).code;
    if (code === "auth/uid-already-exists" && opts.uid) return opts.uid;
    if (code === "auth/email-already-exists" && opts.email) return (await auth.getUserByEmail(opts.email)).uid;
    throw e;
  }
}
