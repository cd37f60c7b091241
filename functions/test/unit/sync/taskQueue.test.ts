import type { Functions } from "firebase-admin/functions";
import { firebaseTaskQueue } from "../../../src/sync/taskQueue";

function fakeFunctions(behaviour: (id: string) => void) {
  const calls: { name: string; id?: string; data: unknown }[] = [];
  const functions = {
    taskQueue: (name: string) => ({
      enqueue: async (data: unknown, opts?: { id?: string }) => {
        calls.push({ name, id: opts?.id, data });
        behaviour(opts?.id ?? "");
      },
    }),
  } as unknown as Functions;
  return { functions, calls };
}

describe("the firebase-admin task queue adapter", () => {
  const payload = { uid: "u1", provider: "spotify" as const, reason: "scheduled" as const, requestedAt: 0 };

  it("when enqueueing, then the provider's function queue is used with the task id", async () => {
    const { functions, calls } = fakeFunctions(() => undefined);
    await expect(
      firebaseTaskQueue(functions).enqueue("instagram", { ...payload, provider: "instagram" }, { id: "t1" }),
    ).resolves.toBe("enqueued");
    expect(calls).toEqual([{ name: "syncInstagram", id: "t1", data: { ...payload, provider: "instagram" } }]);
  });

  it("when the task already exists, then the result is duplicate, not an error", async () => {
    const { functions } = fakeFunctions(() => {
      throw Object.assign(new Error("exists"), { code: "functions/task-already-exists" });
    });
    await expect(firebaseTaskQueue(functions).enqueue("spotify", payload, { id: "t1" })).resolves.toBe("duplicate");
  });

  it("when enqueueing fails otherwise, then the error propagates", async () => {
    const { functions } = fakeFunctions(() => {
      throw Object.assign(new Error("boom"), { code: "functions/internal-error" });
    });
    await expect(firebaseTaskQueue(functions).enqueue("spotify", payload, { id: "t1" })).rejects.toThrow("boom");
  });
});
