/**
 * One-time OAuth states: `oauth_states/{id}`.
 *
 * The state sent to the provider is 32 random bytes, base64url (43 characters). Only its SHA-256
 * (hex) is stored, as the document id, so a leaked database export cannot be replayed against the
 * callback. A state is bound to the person (uid), the provider and the return URL, lives
 * STATE_TTL_MS (10 minutes), and is consumed inside a transaction: the first consumer marks it
 * used, so a replay — even a concurrent one — is rejected.
 *
 * No PKCE. Both flows are confidential (the code is redeemed with the client secret, which never
 * leaves the functions), the state is single-use and bound to uid + provider, and each provider
 * has its own redirect URI (see redirect.ts), which defeats mix-up attacks. PKCE on top would
 * add little for a confidential client and would change Spotify's behaviour: Spotify treats a
 * PKCE grant as a public client, whose refresh tokens are single-use (every refresh revokes the
 * previous one), which makes a lost response after a refresh fatal. Instagram Login does not
 * document PKCE at all. The provider contract (authorizeUrl/exchangeCode) therefore carries no
 * code verifier.
 */
import { createHash, randomBytes } from "node:crypto";
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { PROVIDERS, type Provider, firestorePaths } from "../paths";

/** How long a person has between "start" and the provider redirecting back. */
export const STATE_TTL_MS = 10 * 60 * 1000;
export const STATE_BYTES = 32;
/** base64url of 32 bytes, no padding. */
const STATE_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/** Why a callback's state was refused. Each is shown to the person as its own sentence. */
export type StateRejection = "missing" | "malformed" | "unknown" | "expired" | "used" | "wrong_provider";

export const StateRecord = z.object({
  uid: z.string().min(1),
  provider: z.enum(PROVIDERS),
  returnTo: z.string().url(),
  createdAt: z.instanceof(Timestamp),
  expiresAt: z.instanceof(Timestamp),
  consumedAt: z.instanceof(Timestamp).nullable(),
});
export type StateRecord = z.infer<typeof StateRecord>;

/** A fresh state and the id it is stored under. */
export function newState(random: (n: number) => Buffer = randomBytes): { state: string; id: string } {
  const state = random(STATE_BYTES).toString("base64url");
  return { state, id: stateId(state) };
}

/** The document id of a state: hex SHA-256 of the state string. */
export function stateId(state: string): string {
  return createHash("sha256").update(state, "utf8").digest("hex");
}

export function isWellFormedState(state: string): boolean {
  return STATE_FORMAT.test(state);
}

/** The record stored for a new state. */
export function stateRecord(args: { uid: string; provider: Provider; returnTo: string; now: Date }): StateRecord {
  return {
    uid: args.uid,
    provider: args.provider,
    returnTo: args.returnTo,
    createdAt: Timestamp.fromDate(args.now),
    expiresAt: Timestamp.fromMillis(args.now.getTime() + STATE_TTL_MS),
    consumedAt: null,
  };
}

export type StateCheck = { ok: true; record: StateRecord } | { ok: false; reason: StateRejection };

/**
 * Decides whether a stored state may be consumed by a callback for `provider` at `now`
 * (pure: the transaction in FirestoreStateStore calls it).
 */
export function checkState(data: unknown, provider: Provider, now: Date): StateCheck {
  if (data === undefined) return { ok: false, reason: "unknown" };
  const parsed = StateRecord.safeParse(data);
  if (!parsed.success) return { ok: false, reason: "unknown" };
  const record = parsed.data;
  if (record.consumedAt !== null) return { ok: false, reason: "used" };
  if (record.expiresAt.toMillis() <= now.getTime()) return { ok: false, reason: "expired" };
  if (record.provider !== provider) return { ok: false, reason: "wrong_provider" };
  return { ok: true, record };
}

/** Where states live. The callback and start code depend on this, not on Firestore. */
export interface StateStore {
  /** Creates a state for this person and provider; returns the value to send to the provider. */
  create(args: { uid: string; provider: Provider; returnTo: string; now: Date }): Promise<{ state: string }>;
  /**
   * Consumes a state atomically. Any state that exists is marked used by the first attempt,
   * whatever the outcome, so it can never be tried twice.
   */
  consume(state: string | undefined, provider: Provider, now: Date): Promise<StateCheck>;
}

export class FirestoreStateStore implements StateStore {
  constructor(
    private readonly db: Firestore,
    private readonly random: (n: number) => Buffer = randomBytes,
  ) {}

  async create(args: { uid: string; provider: Provider; returnTo: string; now: Date }): Promise<{ state: string }> {
    const { state, id } = newState(this.random);
    // create() fails if the id exists: 256 random bits make that a bug, never a collision.
    await this.db.doc(firestorePaths.oauthState(id)).create(stateRecord(args));
    return { state };
  }

  async consume(state: string | undefined, provider: Provider, now: Date): Promise<StateCheck> {
    if (state === undefined || state === "") return { ok: false, reason: "missing" };
    if (!isWellFormedState(state)) return { ok: false, reason: "malformed" };
    const ref = this.db.doc(firestorePaths.oauthState(stateId(state)));
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      const check = checkState(snap.exists ? snap.data() : undefined, provider, now);
      if (snap.exists && (check.ok || check.reason !== "used")) {
        tx.update(ref, { consumedAt: Timestamp.fromDate(now) });
      }
      return check;
    });
  }
}
