/**
 * The deployed functions. This file exports triggers and nothing else; each trigger is a thin
 * wrapper in triggers/ over plain functions that take their dependencies as arguments.
 */
import * as dev from "./triggers/dev";

/** Auth user created → profile `users/{uid}`; Auth user deleted → everything the user owns is removed. */
export { userCreated, userDeleted } from "./triggers/auth";

/** A profile's settings.syncEnabled pauses / resumes its connections. */
export { profileUpdated } from "./triggers/profile";

/** GET /api/media/{uid}/… (Hosting rewrite): the signed-in person's own mirrored images and media. */
export { media } from "./triggers/media";

/** Sync engine: hourly fan-out, one task queue per provider, and manual "sync now" (callable). */
export { syncFanOut, syncInstagram, syncNow, syncSpotify } from "./triggers/sync";

/** OAuth connect: start and callback (Hosting rewrites under /api/oauth/), disconnect (callable). */
export { disconnect, oauthCallback, oauthStart } from "./triggers/oauth";

/** Emulator-only probe used by the harness tests; absent from `firebase deploy`. */
export const devProbe = process.env.FUNCTIONS_EMULATOR === "true" ? dev.devProbe : undefined;
