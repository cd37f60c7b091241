/** Injected by scripts/build-web.ts (esbuild `define`) from firebase.json and .firebaserc. */
declare const __LOCAL_FIREBASE__: {
  projectId: string;
  region: string;
  auth: { host: string; port: number };
  firestore: { host: string; port: number };
  functions: { host: string; port: number };
};

/**
 * Injected by scripts/build-web.ts from APP_CHECK_SITE_KEY (and APP_CHECK_PROVIDER): the reCAPTCHA
 * site key App Check uses in production, or null when the app is built without App Check.
 */
declare const __APP_CHECK__: { siteKey: string; provider: "recaptcha-enterprise" | "recaptcha-v3" } | null;
