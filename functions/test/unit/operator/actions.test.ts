/** The operator callable's checks: the admin claim of the verified token, and its input. */
import { Timestamp } from "firebase-admin/firestore";
import { HttpsError } from "firebase-functions/v2/https";
import type { CallableRequestLike } from "../../../src/access/caller";
import { InvalidInputError } from "../../../src/errors";
import { NOT_AN_OPERATOR, SIGN_IN, operatorCaller, parseOperatorInput } from "../../../src/operator/actions";
import { isoOf, stateFields } from "../../../src/operator/overview";

const request = (uid: string | null): CallableRequestLike => ({
  ...(uid ? { auth: { uid } } : {}),
  rawRequest: { headers: uid ? { authorization: `Bearer token-${uid}` } : {} },
});

/** A fake verifyIdToken: tokens `token-<uid>`, claims per uid. */
const deps = (claims: Record<string, Record<string, unknown>>) => ({
  config: { APP_CHECK_ENFORCED: false },
  verifyIdToken: async (token: string) => {
    const uid = token.replace(/^token-/, "");
    return { uid, ...(claims[uid] ?? {}) };
  },
});

const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HttpsError);
  return { code: (e as HttpsError).code, message: (e as HttpsError).message };
};

describe("operatorCaller", () => {
  it("when the verified token has admin: true, then the caller's uid", async () => {
    expect(await operatorCaller(deps({ ops: { admin: true } }), request("ops"))).toBe("ops");
  });

  it("when the token has no admin claim, or one that is not exactly true, then permission-denied with the sentence", async () => {
    const d = deps({ plain: {}, stringy: { admin: "true" }, one: { admin: 1 } });
    for (const uid of ["plain", "stringy", "one"])
      expect(await refusal(operatorCaller(d, request(uid)))).toEqual({
        code: "permission-denied",
        message: NOT_AN_OPERATOR,
      });
  });

  it("when the claim is only on the request's decoded token but not on the verified one, then it is refused", async () => {
    const r = { ...request("sneaky"), auth: { uid: "sneaky", token: { admin: true } } } as CallableRequestLike;
    expect((await refusal(operatorCaller(deps({}), r))).code).toBe("permission-denied");
  });

  it("when nobody is signed in, then unauthenticated with the sign-in sentence", async () => {
    expect(await refusal(operatorCaller(deps({}), request(null)))).toEqual({
      code: "unauthenticated",
      message: SIGN_IN,
    });
  });
});

describe("parseOperatorInput", () => {
  it("when the input is one of the actions, then it is returned as is", () => {
    expect(parseOperatorInput({ action: "overview" })).toEqual({ action: "overview" });
    expect(parseOperatorInput({ action: "liftPause", provider: "spotify" })).toEqual({
      action: "liftPause",
      provider: "spotify",
    });
    expect(parseOperatorInput({ action: "liftPause", provider: "spotify", clientId: "abc123" })).toMatchObject({
      clientId: "abc123",
    });
  });

  it("when the input is anything else, then InvalidInputError with one sentence", () => {
    const said = (data: unknown) => {
      try {
        parseOperatorInput(data);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidInputError);
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    expect(said(undefined)).toBe('action must be "overview" or "liftPause".');
    expect(said({ action: "purge" })).toBe('action must be "overview" or "liftPause".');
    expect(said({ action: "liftPause", provider: "myspace" })).toMatch(/^provider must be one of spotify/);
    expect(said({ action: "liftPause", provider: "spotify", clientId: "" })).toBe(
      "clientId must be the client id of an own app.",
    );
    expect(said({ action: "liftPause", provider: "spotify", clientId: "a/b" })).toMatch(/Invalid client id/);
    expect(said({ action: "overview", extra: 1 })).toMatch(/Say what to do/);
  });
});

describe("overview helpers", () => {
  it("isoOf reads Timestamps, Dates, epoch ms and ISO strings, and nothing else", () => {
    const iso = "2026-12-02T18:00:00.000Z";
    expect(isoOf(Timestamp.fromDate(new Date(iso)))).toBe(iso);
    expect(isoOf(new Date(iso))).toBe(iso);
    expect(isoOf(Date.parse(iso))).toBe(iso);
    expect(isoOf(iso)).toBe(iso);
    expect([isoOf("soon"), isoOf(null), isoOf({}), isoOf(Number.NaN)]).toEqual([null, null, null, null]);
  });

  it("stateFields keeps the scalar fields beside the pause, one level of maps flattened", () => {
    expect(
      stateFields({
        pausedUntil: Timestamp.now(),
        reason: "r",
        since: Timestamp.now(),
        queueRate: { current: 12.5, lastCutAt: Timestamp.fromMillis(0), history: [1, 2] },
        adaptive: true,
        deep: { a: { b: 1 } },
      }),
    ).toEqual({ adaptive: true, "queueRate.current": 12.5, "queueRate.lastCutAt": "1970-01-01T00:00:00.000Z" });
    expect(stateFields(undefined)).toEqual({});
  });
});
