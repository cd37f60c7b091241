/** Injected by scripts/build-web.ts (esbuild `define`) from firebase.json and .firebaserc. */
declare const __LOCAL_FIREBASE__: {
  projectId: string;
  region: string;
  auth: { host: string; port: number };
  firestore: { host: string; port: number };
  functions: { host: string; port: number };
};
