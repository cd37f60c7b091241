/**
 * The `operator` callable's logic: who may call it, and what it does. Plain functions over
 * injected dependencies (triggers/operator.ts wraps them), so they are tested without a trigger.
 *
 *   { action: "overview" }                         → OperatorOverview (operator/overview.ts)
 *   { action: "liftPause", provider, clientId? }   → { provider, clientId?, existed }
 *
 * Only people whose ID token carries the custom claim `admin: true` may call it (granted and
 * revoked by `npm run admin -- --grant EMAIL | --revoke EMAIL`). The claim is read from the token
 * that callableCaller verified with a revocation check, so a revoke (which also revokes the
 * person's refresh tokens) takes effect on the next call, not when the old ID token expires.
 * Firestore rules never let a client read these collections; this callable is the only way in.
 */
import { HttpsError } from "firebase-functions/v2/https";
import { z } from "zod";
import { type CallableCallerDeps, type CallableRequestLike, callableCaller } from "../access/caller";
import { InvalidInputError } from "../errors";
import { logs } from "../logs";
import { PROVIDERS, type Provider, segment } from "../paths";
import { liftProviderPause } from "../sync/providerPause";
import { type OperatorOverview, type OverviewDeps, operatorOverview } from "./overview";

export const SIGN_IN = "Sign in as an operator to open the operator view.";
export const NOT_AN_OPERATOR =
  "Only operators (accounts given the admin claim with `npm run admin -- --grant EMAIL`) may use the operator view.";

export interface OperatorCallerDeps {
  config: CallableCallerDeps["config"];
  /** firebase-admin's `auth().verifyIdToken(token, true)`: the decoded token, claims included. */
  verifyIdToken(idToken: string, checkRevoked: true): Promise<{ uid: string; [claim: string]: unknown }>;
}

/**
 * The uid of an operator calling: callableCaller's checks (signed in, App Check when enforced, the
 * session not revoked), then the `admin` claim of that verified token. Throws an HttpsError with a
 * sentence: unauthenticated, or permission-denied for a signed-in person who is not an operator.
 */
export async function operatorCaller(deps: OperatorCallerDeps, request: CallableRequestLike): Promise<string> {
  let claims: Record<string, unknown> = {};
  const uid = await callableCaller(
    {
      config: deps.config,
      verifyIdToken: async (token, checkRevoked) => {
        const decoded = await deps.verifyIdToken(token, checkRevoked);
        claims = decoded;
        return decoded;
      },
    },
    request,
    SIGN_IN,
  );
  if (claims.admin !== true) {
    logs.warn("operator.refused", { uid });
    throw new HttpsError("permission-denied", NOT_AN_OPERATOR);
  }
  return uid;
}

const OperatorInput = z.discriminatedUnion("action", [
  z.object({ action: z.literal("overview") }).strict(),
  z
    .object({
      action: z.literal("liftPause"),
      provider: z.enum(PROVIDERS),
      clientId: z.string().min(1).max(256).optional(),
    })
    .strict(),
]);
export type OperatorInput = z.infer<typeof OperatorInput>;

export type OperatorResult = OperatorOverview | { provider: Provider; clientId?: string; existed: boolean };

/** Checks the callable's input; InvalidInputError with one sentence when it is not one of the actions. */
export function parseOperatorInput(data: unknown): OperatorInput {
  const parsed = OperatorInput.safeParse(data ?? {});
  if (parsed.success) {
    if (parsed.data.action === "liftPause" && parsed.data.clientId !== undefined)
      segment("client id", parsed.data.clientId);
    return parsed.data;
  }
  const issue = parsed.error.issues[0];
  const field = issue?.path[0];
  if (field === "provider") throw new InvalidInputError(`provider must be one of ${PROVIDERS.join(", ")}.`);
  if (field === "clientId") throw new InvalidInputError("clientId must be the client id of an own app.");
  if (issue?.code !== "unrecognized_keys") throw new InvalidInputError('action must be "overview" or "liftPause".');
  throw new InvalidInputError(
    'Say what to do with action ("overview"), or action "liftPause" with provider and optionally clientId.',
  );
}

/** Runs one operator action for `uid` (already checked to be an operator). */
export async function runOperatorAction(deps: OverviewDeps, uid: string, data: unknown): Promise<OperatorResult> {
  const input = parseOperatorInput(data);
  if (input.action === "overview") return operatorOverview(deps);
  const existed = await liftProviderPause(deps.db, input.provider, input.clientId);
  logs.warn("operator.pause_lifted", { uid, provider: input.provider, ownApp: input.clientId !== undefined, existed });
  return { provider: input.provider, ...(input.clientId !== undefined ? { clientId: input.clientId } : {}), existed };
}
