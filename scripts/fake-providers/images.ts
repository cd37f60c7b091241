/**
 * Real media bytes for the fake CDN: small deterministic JPEGs (jpeg-js) whose colours come from a
 * key, and a tiny MP4-shaped binary for videos. Encoded once per (key, size) and cached.
 */
import { createHash } from "node:crypto";
import * as jpeg from "jpeg-js";

/** Largest image the fake renders (px); the data generator never declares bigger images. */
export const MAX_IMAGE_PX = 64;
const CACHE_LIMIT = 4000;

const cache = new Map<string, Buffer>();

function remember(key: string, make: () => Buffer): Buffer {
  const hit = cache.get(key);
  if (hit) return hit;
  const value = make();
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
  return value;
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

/**
 * A size×size JPEG: four quadrants in two colours picked from the key, plus a diagonal stripe,
 * so different keys look (and hash) different.
 */
export function jpegFor(key: string, size = MAX_IMAGE_PX): Buffer {
  const px = Math.max(1, Math.min(MAX_IMAGE_PX, Math.floor(size)));
  return remember(`jpg:${px}:${key}`, () => {
    const d = digest(key);
    const a = [d[0]!, d[1]!, d[2]!];
    const b = [d[3]!, d[4]!, d[5]!];
    const data = Buffer.alloc(px * px * 4);
    for (let y = 0; y < px; y++) {
      for (let x = 0; x < px; x++) {
        const quadrant = (x < px / 2 ? 0 : 1) ^ (y < px / 2 ? 0 : 1);
        const stripe = Math.abs(x - y) < Math.max(1, px / 16);
        const c = stripe ? [255 - a[0]!, 255 - a[1]!, 255 - a[2]!] : quadrant ? a : b;
        const i = (y * px + x) * 4;
        data[i] = c[0]!;
        data[i + 1] = c[1]!;
        data[i + 2] = c[2]!;
        data[i + 3] = 255;
      }
    }
    return jpeg.encode({ data, width: px, height: px }, 80).data;
  });
}

/** A few hundred bytes that start like an MP4 (ftyp box) followed by key-derived payload. */
export function mp4For(key: string): Buffer {
  return remember(`mp4:${key}`, () => {
    const ftyp = Buffer.alloc(24);
    ftyp.writeUInt32BE(24, 0);
    ftyp.write("ftypisom", 4, "latin1");
    ftyp.writeUInt32BE(0x200, 12);
    ftyp.write("isommp41", 16, "latin1");
    const payload = Buffer.concat(Array.from({ length: 8 }, (_, i) => digest(`${key}:${i}`)));
    const mdat = Buffer.alloc(8);
    mdat.writeUInt32BE(8 + payload.length, 0);
    mdat.write("mdat", 4, "latin1");
    return Buffer.concat([ftyp, mdat, payload]);
  });
}
