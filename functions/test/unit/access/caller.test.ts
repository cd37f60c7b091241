/** Who may call: App Check, revoked sessions for callables, and media's revocation cache. */
import { HttpsError } from "firebase-functions/v2/https";
import {
  APP_CHECK_REQUIRED,
  type CallableRequestLike,
  SESSION_ENDED,
  SessionEndedError,
  type UserSessionState,
  appCheckAllowed,
  bearerToken,
  cachedIdTokenVerifier,
  callableCaller,
} from "../../../src/access/caller";

const on = { APP_CHECK_ENFORCED: true };
const off = { APP_CHECK_ENFORCED: false };

describe("appCheckAllowed", () => {
  const verify = async (token: string) => {
    if (token !== "good-app-check") throw new Error("invalid App Check token");
    return { appId: "app" };
  };

  it("when the setting is off, then every request is allowed and nothing is verified", async () => {
    const calls: string[] = [];
    const spy = async (t: string) => calls.push(t);
    expect(await appCheckAllowed(off, undefined, spy)).toBe(true);
    expect(await appCheckAllowed(off, "garbage", spy)).toBe(true);
    expect(calls).toEqual([]);
  });

  it("when the setting is on, then a missing or invalid token is refused and a valid one allowed", async () => {
    expect(await appCheckAllowed(on, undefined, verify)).toBe(false);
    expect(await appCheckAllowed(on, "", verify)).toBe(false);
    expect(await appCheckAllowed(on, "forged", verify)).toBe(false);
    expect(await appCheckAllowed(on, "good-app-check", verify)).toBe(true);
    expect(await appCheckAllowed(on, ["good-app-check"], verify)).toBe(true);
  });
});

describe("bearerToken", () => {
  it("when the header is a Bearer token, then the token; otherwise undefined", () => {
    expect(bearerToken("Bearer abc.def-ghi_1")).toBe("abc.def-ghi_1");
    expect(bearerToken(["Bearer x.y"])).toBe("x.y");
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken("Bearer a b")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe("callableCaller", () => {
  const request = (fields: Partial<CallableRequestLike> = {}): CallableRequestLike => ({
    auth: { uid: "alice" },
    rawRequest: { headers: { authorization: "Bearer token-alice" } },
    ...fields,
  });
  /** A fake firebase-admin verifyIdToken(token, true) and the tokens it was asked about. */
  const verifier = () => {
    const asked: string[] = [];
    return {
      asked,
      verifyIdToken: async (token: string, checkRevoked: true) => {
        asked.push(`${token}:${checkRevoked}`);
        if (token === "token-alice") return { uid: "alice" };
        if (token === "token-revoked") throw Object.assign(new Error("revoked"), { code: "auth/id-token-revoked" });
        if (token === "token-disabled") throw Object.assign(new Error("disabled"), { code: "auth/user-disabled" });
        if (token === "token-down") throw Object.assign(new Error("socket hang up"), { code: "app/network-error" });
        throw Object.assign(new Error("bad"), { code: "auth/argument-error" });
      },
    };
  };
  const refusal = async (p: Promise<unknown>): Promise<HttpsError> => {
    try {
      await p;
    } catch (e) {
      expect(e).toBeInstanceOf(HttpsError);
      return e as HttpsError;
    }
    throw new Error("expected a refusal");
  };

  it("when the signed-in caller's token is valid and not revoked, then their uid, checked with checkRevoked", async () => {
    const v = verifier();
    expect(await callableCaller({ config: off, ...v }, request(), "Sign in.")).toBe("alice");
    expect(v.asked).toEqual(["token-alice:true"]);
  });

  it("when the session was revoked or the account disabled, then unauthenticated with a sentence saying so", async () => {
    for (const token of ["token-revoked", "token-disabled"]) {
      const e = await refusal(
        callableCaller(
          { config: off, ...verifier() },
          request({ rawRequest: { headers: { authorization: `Bearer ${token}` } } }),
          "Sign in.",
        ),
      );
      expect(e.code).toBe("unauthenticated");
      expect(e.message).toBe(SESSION_ENDED);
    }
  });

  it("when there is no auth or no bearer token, then unauthenticated with the sign-in sentence", async () => {
    const v = verifier();
    const noAuth = await refusal(callableCaller({ config: off, ...v }, request({ auth: undefined }), "Sign in first."));
    expect([noAuth.code, noAuth.message]).toEqual(["unauthenticated", "Sign in first."]);
    const noHeader = await refusal(
      callableCaller({ config: off, ...v }, request({ rawRequest: { headers: {} } }), "Sign in first."),
    );
    expect(noHeader.message).toBe("Sign in first.");
    expect(v.asked).toEqual([]);
  });

  it("when Auth cannot be reached, then unavailable (try again), not a sign-out", async () => {
    const e = await refusal(
      callableCaller(
        { config: off, ...verifier() },
        request({ rawRequest: { headers: { authorization: "Bearer token-down" } } }),
        "Sign in.",
      ),
    );
    expect(e.code).toBe("unavailable");
  });

  it("when App Check is enforced, then a request without a verified App Check token is refused; with one it passes", async () => {
    const v = verifier();
    const e = await refusal(callableCaller({ config: on, ...v }, request(), "Sign in."));
    expect(e.code).toBe("unauthenticated");
    expect(e.message).toBe(APP_CHECK_REQUIRED);
    expect(v.asked).toEqual([]);
    expect(await callableCaller({ config: on, ...v }, request({ app: { appId: "web" } }), "Sign in.")).toBe("alice");
  });

  it("when App Check is off, then a request without App Check passes", async () => {
    expect(await callableCaller({ config: off, ...verifier() }, request({ app: undefined }), "Sign in.")).toBe("alice");
  });
});

describe("cachedIdTokenVerifier (media)", () => {
  const SIGNED_IN_AT = 1_700_000_000; // auth_time, seconds
  function setup(users: Record<string, UserSessionState | null>) {
    let now = SIGNED_IN_AT * 1000 + 5_000;
    const reads: string[] = [];
    const verify = cachedIdTokenVerifier({
      verifySignature: async (token) => {
        if (token === "revoked-by-admin") throw Object.assign(new Error("revoked"), { code: "auth/id-token-revoked" });
        if (!token.startsWith("token-")) throw new Error("bad signature");
        return { uid: token.slice("token-".length), auth_time: SIGNED_IN_AT };
      },
      readUser: async (uid) => {
        reads.push(uid);
        return users[uid] === undefined ? null : users[uid];
      },
      now: () => now,
      ttlMs: 60_000,
    });
    return { verify, reads, advance: (ms: number) => (now += ms) };
  }
  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => "allowed",
      (e: unknown) => (e instanceof SessionEndedError ? "ended" : "invalid"),
    );

  it("when a valid token is used for many images, then the user record is read once per minute, not once per image", async () => {
    const s = setup({ alice: { disabled: false, validAfterMs: null } });
    await Promise.all(Array.from({ length: 30 }, () => s.verify("token-alice")));
    expect(s.reads).toEqual(["alice"]);
    s.advance(59_000);
    await s.verify("token-alice");
    expect(s.reads).toEqual(["alice"]);
  });

  it("when the session was revoked after the sign-in, then it is refused (SessionEndedError, a 401 in media)", async () => {
    const s = setup({ alice: { disabled: false, validAfterMs: (SIGNED_IN_AT + 1) * 1000 } });
    expect(await outcome(s.verify("token-alice"))).toBe("ended");
  });

  it("when the account is disabled or deleted, then it is refused; a bad signature is refused without a read", async () => {
    const s = setup({ bob: { disabled: true, validAfterMs: null } });
    expect(await outcome(s.verify("token-bob"))).toBe("ended");
    expect(await outcome(s.verify("token-carol"))).toBe("ended");
    expect(await outcome(s.verify("forged"))).toBe("invalid");
    // firebase-admin checks revocation itself against the Auth emulator: the same refusal.
    expect(await outcome(s.verify("revoked-by-admin"))).toBe("ended");
    expect(s.reads).toEqual(["bob", "carol"]);
  });

  it("when the cached state expires, then it is read again and a revocation made meanwhile takes effect", async () => {
    const users: Record<string, UserSessionState> = { alice: { disabled: false, validAfterMs: null } };
    const s = setup(users);
    expect(await outcome(s.verify("token-alice"))).toBe("allowed");
    users.alice = { disabled: false, validAfterMs: (SIGNED_IN_AT + 10) * 1000 }; // revoked now
    s.advance(30_000);
    expect(await outcome(s.verify("token-alice"))).toBe("allowed"); // still cached: up to a minute
    s.advance(30_001);
    expect(await outcome(s.verify("token-alice"))).toBe("ended");
    expect(s.reads).toEqual(["alice", "alice"]);
  });

  it("when reading the user fails, then the failure is not cached: the next request reads again", async () => {
    let fail = true;
    const reads: string[] = [];
    const verify = cachedIdTokenVerifier({
      verifySignature: async () => ({ uid: "alice", auth_time: SIGNED_IN_AT }),
      readUser: async (uid) => {
        reads.push(uid);
        if (fail) throw new Error("Auth API unavailable");
        return { disabled: false, validAfterMs: null };
      },
      now: () => 0,
    });
    await expect(verify("token-alice")).rejects.toThrow("Auth API unavailable");
    fail = false;
    await expect(verify("token-alice")).resolves.toEqual({ uid: "alice" });
    expect(reads).toEqual(["alice", "alice"]);
  });

  it("when more users than the cache holds call, then the oldest is forgotten first", async () => {
    const reads: string[] = [];
    const verify = cachedIdTokenVerifier({
      verifySignature: async (token) => ({ uid: token, auth_time: SIGNED_IN_AT }),
      readUser: async (uid) => {
        reads.push(uid);
        return { disabled: false, validAfterMs: null };
      },
      now: () => 0,
      maxUsers: 2,
    });
    for (const uid of ["a", "b", "c", "b", "a"]) await verify(uid);
    expect(reads).toEqual(["a", "b", "c", "a"]);
  });
});
