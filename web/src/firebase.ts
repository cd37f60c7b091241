/**
 * The Firebase services of the web app.
 *
 * Served from 127.0.0.1 / localhost (npm start, the browser tests), the app talks to the local
 * emulators with a demo config (project `demo-…`: it cannot reach a real project). Served from
 * anywhere else (Firebase Hosting), it reads the project's config from Hosting's reserved
 * `/__/firebase/init.json` and talks to production.
 */
import { type FirebaseApp, type FirebaseOptions, initializeApp } from "firebase/app";
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
  // initializeAuth without a popup/redirect resolver keeps the bundle small (email + password only).
  const auth = initializeAuth(app, { persistence: [indexedDBLocalPersistence, browserLocalPersistence] });
  const db = getFirestore(app);
  const functions = getFunctions(app, LOCAL.region);
  if (local) {
    connectAuthEmulator(auth, `http://${LOCAL.auth.host}:${LOCAL.auth.port}`, { disableWarnings: true });
    connectFirestoreEmulator(db, LOCAL.firestore.host, LOCAL.firestore.port);
    connectFunctionsEmulator(functions, LOCAL.functions.host, LOCAL.functions.port);
  }
  return { app, auth, db, functions, local };
}
