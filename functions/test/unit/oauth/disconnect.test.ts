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

  it("when the provider's terms ask for it (YouTube), then the grant is revoked first and the data always goes", async () => {
    const { deps, connections, erased, revoked } = setup();
    const res = await disconnect(deps, "u1", { provider: "youtube" });
    expect(res).toMatchObject({ revoked: true, deletedDocuments: 3, deletedObjects: 7 });
    expect(revoked).toEqual(["u1/youtube"]);
    expect(connections.disconnected).toEqual([{ uid: "u1", provider: "youtube", dataErased: true }]);
    expect(erased.map((e) => e.what)).toEqual(["docs", "objects"]);
  });

  it("when revoking at the provider fails, then the disconnect still happens and says it did not revoke", async () => {
    const { deps, connections, revoked, failRevoke } = setup();
    failRevoke(new Error("Google is down"));
    const res = await disconnect(deps, "u1", { provider: "youtube" });
    expect(res).toMatchObject({ revoked: false, hadConnection: true });
    expect(revoked).toHaveLength(1);
    expect(connections.disconnected).toEqual([{ uid: "u1", provider: "youtube", dataErased: true }]);
  });

  it("when asked with deleteData, then the provider's documents and objects are erased and counted", async () => {
    const { deps, connections, erased } = setup();
    const res = await disconnect(deps, "u1", { provider: "instagram", deleteData: true });
    expect(res).toMatchObject({ deletedDocuments: 3, deletedObjects: 7 });
    // Marked before erasing, so a sync still running erases what it writes after this point.
    expect(connections.disconnected).toEqual([{ uid: "u1", provider: "instagram", dataErased: true }]);
    expect(erased).toEqual([
      { what: "docs", uid: "u1", provider: "instagram" },
      { what: "objects", uid: "u1", provider: "instagram" },
    ]);
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
