/**
 * The profile document `users/{uid}` (the seed's `/users/{userId}/profile`), created when a
 * Firebase Auth user is created.
 *
 *   { uid, displayName: string | null, email: string | null, createdAt: Timestamp,
 *     settings: { timeZone: string, syncEnabled: boolean } }
 *
 * Settings (the only fields a client may change, and only with these types — firestore.rules):
 * - `timeZone` (default "Etc/UTC"): IANA time zone the app shows times in; 1–64 characters.
 * - `syncEnabled` (default true): pauses / resumes the sync of all the person's connections
 *   (account/syncSetting.ts, run by the profileUpdated trigger).
 */
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { firestorePaths } from "../paths";

export const SETTINGS_LIMITS = { timeZoneMaxLength: 64 } as const;

export const UserSettings = z.object({
  timeZone: z.string().min(1).max(SETTINGS_LIMITS.timeZoneMaxLength),
  syncEnabled: z.boolean(),
});
export type UserSettings = z.infer<typeof UserSettings>;

export const DEFAULT_SETTINGS: UserSettings = { timeZone: "Etc/UTC", syncEnabled: true };

export const UserProfile = z.object({
  uid: z.string().min(1),
  displayName: z.string().nullable(),
  email: z.string().nullable(),
  createdAt: z.instanceof(Timestamp),
  settings: UserSettings,
});
export type UserProfile = z.infer<typeof UserProfile>;

/** What the Auth trigger knows about a new user. */
export interface NewUser {
  uid: string;
  displayName?: string | null;
  email?: string | null;
}

export function newProfile(user: NewUser, now: Date): UserProfile {
  return {
    uid: user.uid,
    displayName: user.displayName ?? null,
    email: user.email ?? null,
    createdAt: Timestamp.fromDate(now),
    settings: { ...DEFAULT_SETTINGS },
  };
}

/**
 * Creates `users/{uid}` unless it exists (create-if-absent in a transaction), so running it twice
 * — a retried trigger, or a profile the migration already wrote — changes nothing.
 */
export async function ensureProfile(db: Firestore, user: NewUser, now: Date): Promise<"created" | "existed"> {
  const ref = db.doc(firestorePaths.user(user.uid));
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (snap.exists) return "existed" as const;
    tx.create(ref, newProfile(user, now));
    return "created" as const;
  });
}

/** Reads and validates a profile; undefined when absent or malformed (callers fall back to defaults). */
export function parseProfile(data: unknown): UserProfile | undefined {
  const parsed = UserProfile.safeParse(data);
  return parsed.success ? parsed.data : undefined;
}
