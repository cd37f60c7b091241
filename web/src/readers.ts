/**
 * Reads the snapshot documents the sync writes (users/{uid}/{provider}/last-response_{name}).
 * The generic parts live here (a snapshot stored in parts; the defensive field reads are in
 * fields.ts); each provider's readers live in its folder, web/src/providers/<id>/readers.ts, and
 * are re-exported below for the unit tests (functions/test/unit/web-status.test.ts). Pure.
 */
export { httpsUrl, itemsOf } from "./fields";
export * from "./providers/instagram/readers";
export * from "./providers/spotify/readers";
export * from "./providers/youtube/readers";

/**
 * A snapshot stored in parts (functions/src/sync/snapshots.ts): the parts' bytes, in index
 * order, are the UTF-8 JSON of the snapshot.
 */
export function decodeParts(parts: { index: number; bytes: { toUint8Array(): Uint8Array } }[]): unknown {
  const chunks = [...parts].sort((a, b) => a.index - b.index).map((p) => p.bytes.toUint8Array());
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return JSON.parse(new TextDecoder().decode(all));
}
