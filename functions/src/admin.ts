/**
 * The one firebase-admin app of the process, and the services built on it.
 *
 * In emulator runs (functions emulator, tests, scripts with *_EMULATOR_HOST set) the app is
 * given a project id and a service account id, so firebase-admin never probes the metadata
 * server. In production `initializeApp()` reads FIREBASE_CONFIG.
 */
import { type App, getApp, getApps, initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { getFirestore } from "firebase-admin/firestore";
import { getFunctions } from "firebase-admin/functions";
import { getStorage } from "firebase-admin/storage";

export function projectId(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.GCLOUD_PROJECT) return env.GCLOUD_PROJECT;
  if (env.GOOGLE_CLOUD_PROJECT) return env.GOOGLE_CLOUD_PROJECT;
  if (env.FIREBASE_CONFIG) {
    try {
      return (JSON.parse(env.FIREBASE_CONFIG) as { projectId?: string }).projectId;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function isEmulated(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(
    env.FUNCTIONS_EMULATOR === "true" ||
    env.FIRESTORE_EMULATOR_HOST ||
    env.FIREBASE_AUTH_EMULATOR_HOST ||
    env.CLOUD_TASKS_EMULATOR_HOST,
  );
}

/** Default bucket: FIREBASE_CONFIG's in production, `<project>.appspot.com` in emulator runs. */
export function defaultBucketName(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.STORAGE_BUCKET) return env.STORAGE_BUCKET;
  if (env.FIREBASE_CONFIG) {
    try {
      const bucket = (JSON.parse(env.FIREBASE_CONFIG) as { storageBucket?: string }).storageBucket;
      if (bucket) return bucket;
    } catch {
      // fall through
    }
  }
  const id = projectId(env);
  return id ? `${id}.appspot.com` : undefined;
}

export function adminApp(): App {
  // Look for the default app by name: other code (the emulator's runtime, firebase-functions'
  // v2 Firestore event decoding) may have created named apps, and getApp() wants the default one.
  if (getApps().some((a) => a.name === "[DEFAULT]")) return getApp();
  const id = projectId();
  if (isEmulated()) {
    return initializeApp({
      projectId: id ?? "demo-metrics",
      serviceAccountId: `${id ?? "demo-metrics"}@appspot.gserviceaccount.com`,
      storageBucket: defaultBucketName(),
    });
  }
  return initializeApp({ storageBucket: defaultBucketName() });
}

export const db = () => getFirestore(adminApp());
export const auth = () => getAuth(adminApp());
export const bucket = () => getStorage(adminApp()).bucket();
export const taskQueueService = () => getFunctions(adminApp());
