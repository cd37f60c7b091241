import { InvalidInputError } from "../../functions/src/errors";
import { parseOptions } from "./options";

describe("migrate options", () => {
  it("when only a uid is given, then it is a dry run over the seed's default sources, with ig mapped to instagram", () => {
    const o = parseOptions(["--uid", "u1"]);
    expect(o.mode).toBe("dry-run");
    expect(o.collections).toEqual([
      { name: "spotify", provider: "spotify" },
      { name: "instagram", provider: "instagram" },
      { name: "ig", provider: "instagram" },
    ]);
    expect(o.prefixes).toEqual([
      { prefix: "spotify/playlists/", provider: "spotify" },
      { prefix: "ig/", provider: "instagram" },
    ]);
    expect(o.variables.SPOTIFY_REFRESH_TOKEN).toBe("SPOTIFY_REFRESH_TOKEN");
  });

  it("when sources and variable names are overridden, then the overrides replace the defaults", () => {
    const o = parseOptions([
      "--email",
      "a@b.test",
      "--apply",
      "--collection",
      "old=spotify",
      "--storage-prefix",
      "x/y/=instagram",
      "--var",
      "SPOTIFY_REFRESH_TOKEN=RT",
    ]);
    expect(o.mode).toBe("apply");
    expect(o.collections).toEqual([{ name: "old", provider: "spotify" }]);
    expect(o.prefixes).toEqual([{ prefix: "x/y/", provider: "instagram" }]);
    expect(o.variables.SPOTIFY_REFRESH_TOKEN).toBe("RT");
  });

  it.each([
    [["--apply"]],
    [["--uid", "u", "--apply", "--verify"]],
    [["--uid", "u", "--yes"]],
    [["--uid", "u", "--verify", "--overwrite"]],
    [["--uid", "u", "--collection", "unknown"]],
    [["--uid", "u", "--storage-prefix", "ig=instagram"]],
    [["--uid", "u", "--var", "NOPE=X"]],
    [["--uid", "u", "--batch-size", "5000"]],
    [["--uid", "u", "--project", "Not A Project"]],
    [["--uid", "u", "--bogus"]],
  ])("when the arguments are %j, then they are refused with a message", (argv) => {
    expect(() => parseOptions(argv)).toThrow(InvalidInputError);
  });
});
