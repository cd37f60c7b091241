/**
 * The deployed functions. This file exports triggers and nothing else; each trigger is a thin
 * wrapper in triggers/ over plain functions that take their dependencies as arguments.
 */
import * as dev from "./triggers/dev";
import { syncQueues } from "./triggers/sync";

/** Auth user created → profile `users/{uid}`; Auth user deleted → everything the user owns is removed. */
export { userCreated, userDeleted } from "./triggers/auth";

/** A profile's settings.syncEnabled pauses / resumes its connections. */
export { profileUpdated } from "./triggers/profile";

/** GET /api/media/{uid}/… (Hosting rewrite): the signed-in person's own mirrored images and media. */
export { media } from "./triggers/media";

/** Sync engine: hourly fan-out and manual "sync now" (callable)… */
export { syncFanOut, syncNow } from "./triggers/sync";

/**
 * …and one task queue per provider of the catalog, exported under its function name
 * (`syncSpotify`, `syncInstagram`, …: providers/catalog.ts queueFunctionName).
 */
Object.assign(exports, syncQueues);

/** OAuth connect: start and callback (Hosting rewrites under /api/oauth/), disconnect (callable). */
export { disconnect, oauthCallback, oauthStart } from "./triggers/oauth";

/**
 * Importing Spotify's streaming history from the web app: the upload in parts (`/api/imports/**`,
 * Hosting rewrite) and the task queue that imports it with a checkpoint.
 */
export { importHistory, imports } from "./triggers/imports";

/** People's own OAuth apps (Spotify's five-person limit): describe, save, remove. */
export { ownApp } from "./triggers/apps";

/** "Download my data": request an export (callable); the task queue that builds and later deletes it. */
export { exportData, requestExport } from "./triggers/exports";

/** Listening history: delete the plays of a date range or an artist (callable); the aggregates follow. */
export { eraseHistory } from "./triggers/history";

/** The operator view (people with the `admin` claim): the overview of every connection, lifting a provider pause. */
export { operator } from "./triggers/operator";

/** Emulator-only probe used by the harness tests; absent from `firebase deploy`. */
export const devProbe = process.env.FUNCTIONS_EMULATOR === "true" ? dev.devProbe : undefined;
