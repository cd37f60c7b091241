import { randomBytes } from "node:crypto";
import { keyRingFrom, parseArgs, resolveTarget } from "./rotate-keys";

const ring = `new:${randomBytes(32).toString("base64")},old:${randomBytes(32).toString("base64")}`;

describe("rotate-keys options", () => {
  it("when no options are given, then the documented defaults apply", () => {
    expect(parseArgs([])).toEqual({ pageSize: 200, concurrency: 16, dryRun: false });
  });

  it("when options are given, then they are parsed", () => {
    expect(
      parseArgs([
        "--project",
        "p1",
        "--page-size",
        "50",
        "--concurrency",
        "4",
        "--start-after",
        "users/a/oauth_tokens/spotify",
        "--dry-run",
      ]),
    ).toEqual({
      project: "p1",
      pageSize: 50,
      concurrency: 4,
      startAfter: "users/a/oauth_tokens/spotify",
      dryRun: true,
    });
  });

  it("when an option is unknown or a number is bad, then it is refused with a sentence", () => {
    expect(() => parseArgs(["--force"])).toThrow(/Unknown option --force/);
    expect(() => parseArgs(["--page-size", "0"])).toThrow(/--page-size needs a whole number from 1 to 1000/);
    expect(() => parseArgs(["--project"])).toThrow(/--project needs a value/);
  });

  it("when no emulator is set and no project is given, then it refuses to guess a real project", () => {
    expect(() => resolveTarget(parseArgs([]), { TOKEN_ENCRYPTION_KEYS: ring })).toThrow(/pass --project <id>/);
  });

  it("when a demo project is named without an emulator, then it is refused", () => {
    expect(() => resolveTarget(parseArgs(["--project", "demo-x"]), { TOKEN_ENCRYPTION_KEYS: ring })).toThrow(
      /demo project/,
    );
  });

  it("when a real project is named without keys in the environment, then it says where to get them", () => {
    expect(() => resolveTarget(parseArgs(["--project", "prod-1"]), {})).toThrow(/export it from Secret Manager/);
  });

  it("when the emulator is set, then the keys from the environment win over .secret.local", () => {
    const t = resolveTarget(parseArgs(["--project", "demo-y"]), {
      FIRESTORE_EMULATOR_HOST: "127.0.0.1:8085",
      TOKEN_ENCRYPTION_KEYS: ring,
    });
    expect(t).toEqual({ project: "demo-y", emulated: true, keys: ring });
  });

  it("when the key ring is parsed, then config.ts's checks apply and the first key is first", () => {
    expect(keyRingFrom(ring).map((k) => k.id)).toEqual(["new", "old"]);
    expect(() => keyRingFrom(`k:${randomBytes(16).toString("base64")}`)).toThrow(/16 bytes/);
    expect(() => keyRingFrom(undefined)).toThrow(/Missing setting TOKEN_ENCRYPTION_KEYS/);
  });
});
