/**
 * Bounded work: the HTTP functions and callables a person can call are capped at
 * HTTP_MAX_INSTANCES instances. firebase-functions puts a trigger's deploy options on its
 * `__endpoint`, which is what `firebase deploy` reads.
 */
import { params } from "../../../src/config";
import { media } from "../../../src/triggers/media";
import { disconnect, oauthCallback, oauthStart } from "../../../src/triggers/oauth";
import { syncNow } from "../../../src/triggers/sync";

const endpointOf = (fn: unknown) => (fn as { __endpoint: { maxInstances?: unknown } }).__endpoint;

describe("maxInstances", () => {
  it.each([
    ["media", media],
    ["syncNow", syncNow],
    ["disconnect", disconnect],
    ["oauthStart", oauthStart],
    ["oauthCallback", oauthCallback],
  ])("when %s is deployed, then its instances are capped by the HTTP_MAX_INSTANCES param", (_name, fn) => {
    const max = endpointOf(fn).maxInstances;
    expect(max).toBe(params.HTTP_MAX_INSTANCES);
  });
});
