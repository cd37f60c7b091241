import { disconnect, type ProviderDataEraser } from "../../../src/oauth/disconnect";
import type { Provider } from "../../../src/paths";
import { MemoryConnectionStore } from "./fakes";

function setup() {
  const connections = new MemoryConnectionStore();
  const erased: Array<{ what: string; uid: string; provider: Provider }> = [];
  const eraser: ProviderDataEraser = {
    eraseDocuments: async (uid, provider) => {
      erased.push({ what: "docs", uid, provider });
      return 3;
    },
    eraseObjects: async (uid, provider) => {
      erased.push({ what: "objects", uid, provider });
      return 7;
    },
  };
  const revoked: string[] = [];
  let revokeError: Error | undefined;
  const revoke = async (uid: string, provider: string) => {
    revoked.push(`${uid}/${provider}`);
    if (revokeError) throw revokeError;
    return true;
  };
  const failRevoke = (e: Error) => {
    revokeError = e;
  };
  return { deps: { now: () => new Date(), connections, eraser, revoke }, connections, erased, revoked, failRevoke };
}

describe("disconnect", () => {
  it("when asked without deleteData, then the connection is marked disconnected and no data is erased", async () => {
    const { deps, connections, erased } = setup();
    const res = await disconnect(deps, "u1", { provider: "spotify" });
    expect(res).toEqual({
      provider: "spotify",
      hadConnection: true,
      deletedDocuments: 0,
      deletedObjects: 0,
      revoked: false,
    });
    expect(connections.disconnected).toEqual([{ uid: "u1", provider: "spotify", dataErased: false }]);
    expect(erased).toEqual([]);
  });

  it.each([[{}], [{ provider: "myspace" }], [{ provider: "spotify", deleteData: "yes" }], [null]])(
    "when the input is %p, then it is refused before anything changes",
    async (input) => {
      const { deps, connections, revoked } = setup();
      await expect(disconnect(deps, "u1", input)).rejects.toThrow(/provider must be one of/);
      expect(connections.disconnected).toEqual([]);
      expect(revoked).toEqual([]);
    },
  );
});
