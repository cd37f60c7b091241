/**
 * Legacy Storage objects: list each legacy prefix and the matching target folder, map
 * `{prefix}{rest}` → `{uid}/{mirror folder}/{rest}`, classify each pair, copy server-side.
 *
 * A copy carries the source's content type, cache/disposition/encoding/language headers and
 * custom metadata, plus `migratedFrom` (source name) and `migratedHash` (content hash copied).
 * A target whose own hash still equals its `migratedHash` is untouched since the migration
 * copied it, so a changed source updates it; any other different target is a conflict.
 */
import { pathKey } from "./canonical";
import type { Target } from "./context";
import type { SourcePrefix } from "./options";
import { migrationPaths, storagePaths, type Provider } from "../../functions/src/paths";

export interface ObjectInfo {
  name: string;
  size: number;
  md5?: string;
  crc32c?: string;
  generation: string;
  contentType?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  metadata: Record<string, string>;
}

export type ObjectAction = "create" | "unchanged" | "update" | "conflict" | "overwrite" | "collision" | "invalid";

export interface ObjectItem {
  prefix: string;
  provider: Provider;
  source: ObjectInfo;
  /** Undefined when the name cannot be mapped (action "invalid"). */
  targetName?: string;
  target?: ObjectInfo;
  key: string;
  hash: string;
  action: ObjectAction;
  reason?: string;
}

/** Size plus MD5 (or CRC32C when an object has no MD5, e.g. composed objects). */
export function objectHash(o: ObjectInfo): string {
  return `${o.md5 ? `md5:${o.md5}` : `crc32c:${o.crc32c ?? "?"}`}:${o.size}`;
}

export function sameContent(a: ObjectInfo, b: ObjectInfo): boolean {
  if (a.size !== b.size) return false;
  if (a.md5 && b.md5) return a.md5 === b.md5;
  return Boolean(a.crc32c && b.crc32c && a.crc32c === b.crc32c);
}

export async function listObjects(t: Target, prefix: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  let pageToken: string | undefined;
  do {
    const [files, next] = await t.bucket.getFiles({ prefix, autoPaginate: false, maxResults: 1000, pageToken });
    for (const f of files) {
      const m = f.metadata;
      out.push({
        name: f.name,
        size: Number(m.size ?? 0),
        md5: m.md5Hash || undefined,
        crc32c: m.crc32c || undefined,
        generation: String(m.generation ?? ""),
        contentType: m.contentType || undefined,
        cacheControl: m.cacheControl || undefined,
        contentDisposition: m.contentDisposition || undefined,
        contentEncoding: m.contentEncoding || undefined,
        contentLanguage: m.contentLanguage || undefined,
        metadata: Object.fromEntries(Object.entries(m.metadata ?? {}).map(([k, v]) => [k, String(v)])),
      });
    }
    pageToken = (next as { pageToken?: string } | null)?.pageToken;
  } while (pageToken);
  return out;
}

export interface ObjectScanOptions {
  uid: string | undefined;
  overwrite: boolean;
}

/** Lists and classifies every legacy object (targets listed once per target folder). */
export async function scanObjects(t: Target, prefixes: SourcePrefix[], o: ObjectScanOptions): Promise<ObjectItem[]> {
  const targetFolders = new Map<string, Map<string, ObjectInfo>>();
  const claimed = new Set<string>();
  const items: ObjectItem[] = [];
  for (const { prefix, provider } of prefixes) {
    let targets = new Map<string, ObjectInfo>();
    if (o.uid) {
      const folder = storagePaths.mirrorPrefix(o.uid, provider);
      if (!targetFolders.has(folder)) {
        targetFolders.set(folder, new Map((await listObjects(t, folder)).map((x) => [x.name, x])));
      }
      targets = targetFolders.get(folder)!;
    }
    for (const source of await listObjects(t, prefix)) {
      const item: ObjectItem = {
        prefix,
        provider,
        source,
        key: pathKey(`object:${source.name}`),
        hash: objectHash(source),
        action: "create",
      };
      items.push(item);
      try {
        item.targetName = migrationPaths.targetObject(o.uid ?? "new-user", provider, source.name.slice(prefix.length));
      } catch (e) {
        item.action = "invalid";
        item.reason = (e as Error).message;
        continue;
      }
      if (claimed.has(item.targetName)) {
        item.action = "collision";
        continue;
      }
      claimed.add(item.targetName);
      const target = targets.get(item.targetName);
      if (!target) continue;
      item.target = target;
      if (sameContent(source, target)) item.action = "unchanged";
      else if (target.metadata.migratedFrom === source.name && target.metadata.migratedHash === objectHash(target)) {
        item.action = "update";
      } else item.action = o.overwrite ? "overwrite" : "conflict";
    }
  }
  return items;
}

/** Server-side copy of one item; guarded by generation preconditions against concurrent writers. */
export async function copyObject(t: Target, item: ObjectItem): Promise<void> {
  const s = item.source;
  const src = t.bucket.file(s.name, { generation: s.generation });
  await src.copy(t.bucket.file(item.targetName!), {
    contentType: s.contentType,
    cacheControl: s.cacheControl,
    contentDisposition: s.contentDisposition,
    contentEncoding: s.contentEncoding,
    contentLanguage: s.contentLanguage,
    metadata: { ...s.metadata, migratedFrom: s.name, migratedHash: item.hash },
    preconditionOpts: { ifGenerationMatch: item.target ? Number(item.target.generation) : 0 },
  } as never);
}
