/** Reads Instagram's media snapshot into the tiles of its grid. Pure (unit-tested through web/src/readers.ts). */
import { type Obj, httpsUrl, isObj, isoDate, itemsOf, str } from "../../fields";

export interface MediaTile {
  id: string;
  type: "IMAGE" | "VIDEO" | "CAROUSEL_ALBUM" | string;
  caption: string;
  /** The post on Instagram; only ever an https: URL (anything else is dropped). */
  permalink: string | null;
  timestamp: Date | null;
  /**
   * The mirrored image shown for it, `{uid}/instagram/{imageId}.{ext}`: the item itself (images;
   * videos: their thumbnail), or a carousel's first mirrored child. Null when nothing is mirrored.
   */
  image: { id: string; ext: string } | null;
  /** Number of items in a carousel (0 otherwise). */
  children: number;
}

function mirrored(m: Obj): { id: string; ext: string } | null {
  const id = str(m.id);
  const ext = str(m.file_ext) ?? str(m.ext);
  return id && ext ? { id, ext } : null;
}

/** The media snapshot: `{ items: [{ id, media_type, file_ext, caption, permalink, timestamp, children }] }`. */
export function readMedia(doc: unknown): MediaTile[] {
  return itemsOf(doc).flatMap((m) => {
    const id = str(m.id);
    if (!id) return [];
    const type = str(m.media_type) ?? str(m.mediaType) ?? "IMAGE";
    const kids = Array.isArray(m.children) ? m.children.filter(isObj) : [];
    const image = mirrored(m) ?? kids.map(mirrored).find((x) => x !== null) ?? null;
    return [
      {
        id,
        type,
        caption: str(m.caption) ?? "",
        permalink: httpsUrl(m.permalink),
        timestamp: isoDate(m.timestamp),
        image,
        children: kids.length,
      },
    ];
  });
}
