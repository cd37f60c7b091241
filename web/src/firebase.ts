/**
 * The Firebase services of the web app.
 *
 * Served from 127.0.0.1 / localhost (npm start, the browser tests), the app talks to the local
 * emulators with a demo config (project `demo-…`: it cannot reach a real project). Served from
 * anywhere else (Firebase Hosting), it reads the project's config from Hosting's reserved
 * `/__/firebase/init.json` and talks to production.
 *
 * App Check: when the app was built with a reCAPTCHA site key (APP_CHECK_SITE_KEY, see
 * scripts/build-web.ts) and is served in production, it initializes App Check; the Functions and
 * Firestore SDKs then send its token by themselves, and `appCheckToken` gives it to the plain
 * fetches (media, OAuth start). Locally, or without a key, nothing changes.
 */
import { type FirebaseApp, type FirebaseOptions, initializeApp } from "firebase/app";
import type { AppCheck } from "firebase/app-check";
import {
  type Auth,
  browserLocalPersistence,
  connectAuthEmulator,
  indexedDBLocalPersistence,
  initializeAuth,
} from "firebase/auth";
import { type Firestore, connectFirestoreEmulator, getFirestore } from "firebase/firestore";
import { type Functions, connectFunctionsEmulator, getFunctions } from "firebase/functions";

export interface Services {
  app: FirebaseApp;
  auth: Auth;
  db: Firestore;
  functions: Functions;
  /** Null unless built with a site key and served in production. */
  appCheck: AppCheck | null;
  /** True when talking to the local emulators. */
  local: boolean;
}

export function isLocalHost(hostname: string): boolean {
  return hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]";
}

const LOCAL = __LOCAL_FIREBASE__;

function localOptions(): FirebaseOptions {
  return {
    apiKey: "demo-api-key",
    authDomain: `${LOCAL.projectId}.firebaseapp.com`,
    projectId: LOCAL.projectId,
    storageBucket: `${LOCAL.projectId}.appspot.com`,
    appId: "demo-app",
  };
}

async function productionOptions(): Promise<FirebaseOptions> {
  const res = await fetch("/__/firebase/init.json", { cache: "no-cache" });
  if (!res.ok) throw new Error(`/__/firebase/init.json answered ${res.status}`);
  return (await res.json()) as FirebaseOptions;
}

export async function initFirebase(): Promise<Services> {
  const local = isLocalHost(location.hostname);
  const app = initializeApp(local ? localOptions() : await productionOptions());
  // Before the other services, so their first requests already carry a token. Without a site key
  // __APP_CHECK__ is the constant null: esbuild drops the branch and firebase/app-check with it
  // (test __APP_CHECK__ itself, not a copy: esbuild folds only the define).
  let appCheck: AppCheck | null = null;
  if (__APP_CHECK__ && !local) {
    const { initializeAppCheck, ReCaptchaEnterpriseProvider, ReCaptchaV3Provider } = await import("firebase/app-check");
    const provider =
      __APP_CHECK__.provider === "recaptcha-v3"
        ? new ReCaptchaV3Provider(__APP_CHECK__.siteKey)
        : new ReCaptchaEnterpriseProvider(__APP_CHECK__.siteKey);
    appCheck = initializeAppCheck(app, { provider, isTokenAutoRefreshEnabled: true });
  }
  // initializeAuth without a popup/redirect resolver keeps the bundle small (email + password only).
  const auth = initializeAuth(app, { persistence: [indexedDBLocalPersistence, browserLocalPersistence] });
  const db = getFirestore(app);
  const functions = getFunctions(app, LOCAL.region);
  if (local) {
    connectAuthEmulator(auth, `http://${LOCAL.auth.host}:${LOCAL.auth.port}`, { disableWarnings: true });
    connectFirestoreEmulator(db, LOCAL.firestore.host, LOCAL.firestore.port);
    connectFunctionsEmulator(functions, LOCAL.functions.host, LOCAL.functions.port);
  }
  return { app, auth, db, functions, appCheck, local };
}

/** The current App Check token for a plain fetch (`X-Firebase-AppCheck`), or null without App Check. */
export async function appCheckToken(s: Pick<Services, "appCheck">): Promise<string | null> {
  if (__APP_CHECK__ && s.appCheck) {
    const { getToken } = await import("firebase/app-check");
    try {
      return (await getToken(s.appCheck)).token;
    } catch {
      return null; // the server then refuses the request with a sentence, if it enforces App Check
    }
  }
  return null;
}
