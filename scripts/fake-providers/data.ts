/**
 * Deterministic fake accounts, the part every provider shares: seeded randomness, ids, names and
 * the account base class. Every item is computed from (account seed, index, version), so a
 * 5,000-item account costs a few maps, not 5,000 objects, and the same seed always gives the same
 * data. Mutations (rename, changeItems) bump per-item versions: a changed item gets new content
 * and new URLs. Each provider's account class (what its items look like) lives in its folder
 * (`<id>/account.ts`).
 */
import { createHash } from "node:crypto";
import type { ProviderId } from "../../functions/src/providers/catalog";

export type { ProviderId };

/** What every provider's addAccount spec accepts (each provider adds its own sizes and switches). */
export interface CommonAccountSpec {
  id?: string;
  seed?: number;
  /** The account's name as the provider shows it ("" is allowed: an empty name). */
  displayName?: string;
}

// --- Seeded randomness -----------------------------------------------------------------------------

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** mulberry32: [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export function hash(...parts: (string | number)[]): Buffer {
  return createHash("sha256").update(parts.join("\u0000")).digest();
}

export function rngFor(...parts: (string | number)[]): Rng {
  return new Rng(hash(...parts).readUInt32LE(0));
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A 22-character base62 id (the shape Spotify uses). */
export function base62Id(...parts: (string | number)[]): string {
  const h = hash(...parts);
  let out = "";
  for (let i = 0; i < 22; i++) out += BASE62[h[i]! % 62];
  return out;
}

/** A numeric id of `digits` digits (long numbers, as Graph ids are; keep them as strings). */
export function numericId(digits: number, ...parts: (string | number)[]): string {
  const h = hash(...parts);
  let out = String(1 + (h[0]! % 9));
  for (let i = 1; i < digits; i++) out += String(h[i % h.length]! % 10);
  return out;
}

// --- Names (unicode on purpose, and some empty) ----------------------------------------------------

const WORDS = [
  "Chill",
  "Morning",
  "Café",
  "Nachtfahrt",
  "Été",
  "日本のポップ",
  "Поп-музыка",
  "Mix",
  "Vibes",
  "🌙",
  "🔥🔥",
  "Lo-fi",
  "Road trip",
  "Ünïcödé",
  "Workout",
  "Ελληνικά",
  "موسيقى",
  "Sommar",
  "Focus",
  "𝔊𝔬𝔱𝔥𝔦𝔠",
  "Jazz",
  "Kpop 케이팝",
  "Ñandú",
  "Rainy days",
  "שירים",
  "Deep work",
  "Año nuevo",
  "Zürich",
] as const;

/** 1–3 words, or "" with probability `emptyRate`. */
export function title(rng: Rng, emptyRate: number): string {
  if (rng.chance(emptyRate)) return "";
  const n = 1 + rng.int(3);
  return Array.from({ length: n }, () => rng.pick(WORDS)).join(" ");
}

export const iso = (ms: number) => new Date(ms).toISOString();
export const clamp = (n: number, max: number) => Math.max(0, Math.min(max, Math.floor(n)));
export const enc = (s: string) => encodeURIComponent(s);

// --- Accounts ----------------------------------------------------------------------------------------

export abstract class BaseAccount {
  abstract readonly provider: ProviderId;
  /** Per-item version: a changed item gets version + 1 (new content, new URLs). */
  protected readonly versions = new Map<number, number>();
  /** The sequence of changeItems calls (so repeated calls change different content). */
  protected changeRounds = 0;

  constructor(
    readonly id: string,
    readonly seed: number,
    public displayName: string,
    /** Fake-clock time the account was created (anchors timestamps). */
    readonly createdAtMs: number,
  ) {}

  rename(displayName: string): void {
    this.displayName = displayName;
  }

  version(i: number): number {
    return this.versions.get(i) ?? 0;
  }

  abstract get itemCount(): number;

  /**
   * Changes the first `n` items (the provider's main list: playlists, media, …): new content and
   * new URLs. Returns their ids.
   */
  changeItems(n: number): string[] {
    this.changeRounds++;
    const count = Math.min(clamp(n, Number.MAX_SAFE_INTEGER), this.itemCount);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      this.versions.set(i, this.version(i) + 1);
      ids.push(this.itemId(i));
    }
    return ids;
  }

  abstract itemId(i: number): string;
  abstract summary(): Record<string, unknown>;
}
