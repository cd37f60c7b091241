/**
 * One-time OAuth states: `oauth_states/{id}`.
 *
 * The state sent to the provider is 32 random bytes, base64url (43 characters). Only its SHA-256
 * (hex) is stored, as the document id, so a leaked database export cannot be replayed against the
 * callback. A state is bound to the person (uid), the provider, the return URL and the browser that
 * started the flow (the SHA-256 of its `__session` cookie nonce, see browser.ts), lives STATE_TTL_MS
 * (10 minutes), and is consumed inside a transaction: the first consumer marks it used, so a replay
 * — even a concurrent one — is rejected. A callback from another browser (the login-CSRF attack: an
 * attacker's connect link followed by a victim) is refused and consumes the state too.
 *
 * At most MAX_PENDING_STATES unexpired, unused states exist per person: a script that calls start
 * in a loop cannot fill the collection.
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
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { AppError } from "../errors";
import { PROVIDERS, type Provider, firestorePaths } from "../paths";

/** How long a person has between "start" and the provider redirecting back. */
export const STATE_TTL_MS = 10 * 60 * 1000;
export const STATE_BYTES = 32;
/** base64url of 32 bytes, no padding. */
const STATE_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/** Unexpired, unused states one person may hold at once (a start beyond it is refused). */
export const MAX_PENDING_STATES = 10;

/** Why a callback's state was refused. Each is shown to the person as its own sentence. */
export type StateRejection =
  "missing" | "malformed" | "unknown" | "expired" | "used" | "wrong_provider" | "wrong_browser";

export const StateRecord = z.object({
  uid: z.string().min(1),
  provider: z.enum(PROVIDERS),
  returnTo: z.string().url(),
  /**
   * Hex SHA-256 of the nonce in the starting browser's `__session` cookie. Optional only so that a
   * record written before the binding existed parses; such a record matches no browser.
   */
  browserHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** The person's own app the flow goes through (its client id); absent or null: the operator's app. */
  app: z
    .object({ clientId: z.string().min(1) })
    .nullable()
    .optional(),
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

/** What a new state is bound to. `browserHash`: hex SHA-256 of the browser's nonce (browser.ts). */
export interface NewStateArgs {
  uid: string;
  provider: Provider;
  returnTo: string;
  browserHash: string;
  now: Date;
  /** The person's own app the flow goes through; absent or null: the operator's app. */
  app?: { clientId: string } | null;
}

/** The record stored for a new state. */
export function stateRecord(args: NewStateArgs): StateRecord {
  return {
    uid: args.uid,
    provider: args.provider,
    returnTo: args.returnTo,
    browserHash: args.browserHash,
    app: args.app ?? null,
    createdAt: Timestamp.fromDate(args.now),
    expiresAt: Timestamp.fromMillis(args.now.getTime() + STATE_TTL_MS),
    consumedAt: null,
  };
}

export type StateCheck = { ok: true; record: StateRecord } | { ok: false; reason: StateRejection };

/** What the callback knows about the request: the provider of its path, the browser's nonce hash, the time. */
export interface CallbackContext {
  provider: Provider;
  /** Hex SHA-256 of the `__session` nonce the request carried; undefined when it carried none. */
  browserHash: string | undefined;
  now: Date;
}

/**
 * Decides whether a stored state may be consumed by a callback (pure: the transaction in
 * FirestoreStateStore calls it). The browser is checked last, after the state is known to be
 * live: a stranger's browser learns nothing but "not yours".
 */
export function checkState(data: unknown, ctx: CallbackContext): StateCheck {
  if (data === undefined) return { ok: false, reason: "unknown" };
  const parsed = StateRecord.safeParse(data);
  if (!parsed.success) return { ok: false, reason: "unknown" };
  const record = parsed.data;
  if (record.consumedAt !== null) return { ok: false, reason: "used" };
  if (record.expiresAt.toMillis() <= ctx.now.getTime()) return { ok: false, reason: "expired" };
  if (record.provider !== ctx.provider) return { ok: false, reason: "wrong_provider" };
  if (!record.browserHash || !ctx.browserHash || !sameHash(record.browserHash, ctx.browserHash)) {
    return { ok: false, reason: "wrong_browser" };
  }
  return { ok: true, record };
}

/** Constant-time comparison of two hex digests. */
function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A person holds MAX_PENDING_STATES unexpired, unused states already. */
export class TooManyPendingStatesError extends AppError {
  readonly code = "too_many_pending";
  readonly action = "retry_at";
  constructor(readonly retryAt: Date) {
    super(
      `You have ${MAX_PENDING_STATES} connect attempts in progress; finish one, or try again after ${retryAt.toISOString()}.`,
    );
  }
}

/** Where states live. The callback and start code depend on this, not on Firestore. */
export interface StateStore {
  /**
   * Creates a state for this person, provider and browser; returns the value to send to the
   * provider. Throws TooManyPendingStatesError when the person holds MAX_PENDING_STATES already.
   */
  create(args: NewStateArgs): Promise<{ state: string }>;
  /**
   * Consumes a state atomically. Any state that exists is marked used by the first attempt,
   * whatever the outcome, so it can never be tried twice.
   */
  consume(state: string | undefined, ctx: CallbackContext): Promise<StateCheck>;
}

export class FirestoreStateStore implements StateStore {
  constructor(
    private readonly db: Firestore,
    private readonly random: (n: number) => Buffer = randomBytes,
  ) {}

  async create(args: NewStateArgs): Promise<{ state: string }> {
    // Pending = unexpired and unused. Two starts at the same instant may both pass: the bound is
    // about a loop filling the collection, not about an exact count.
    const live = await this.db
      .collection(firestorePaths.oauthStates())
      .where("uid", "==", args.uid)
      .where("expiresAt", ">", Timestamp.fromDate(args.now))
      .orderBy("expiresAt")
      .select("consumedAt", "expiresAt")
      .limit(MAX_PENDING_STATES * 5)
      .get();
    const pending = live.docs.filter((d) => d.get("consumedAt") === null);
    if (pending.length >= MAX_PENDING_STATES) {
      throw new TooManyPendingStatesError((pending[0]!.get("expiresAt") as Timestamp).toDate());
    }
    const { state, id } = newState(this.random);
    // create() fails if the id exists: 256 random bits make that a bug, never a collision.
    await this.db.doc(firestorePaths.oauthState(id)).create(stateRecord(args));
    return { state };
  }

  async consume(state: string | undefined, ctx: CallbackContext): Promise<StateCheck> {
    if (state === undefined || state === "") return { ok: false, reason: "missing" };
    if (!isWellFormedState(state)) return { ok: false, reason: "malformed" };
    const ref = this.db.doc(firestorePaths.oauthState(stateId(state)));
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      const check = checkState(snap.exists ? snap.data() : undefined, ctx);
      if (snap.exists && (check.ok || check.reason !== "used")) {
        tx.update(ref, { consumedAt: Timestamp.fromDate(ctx.now) });
      }
      return check;
    });
  }
}
