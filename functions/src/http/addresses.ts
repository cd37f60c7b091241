/**
 * Which IP addresses a download may connect to. Pure functions over address text (as a resolver or
 * a URL gives it): `nonPublicRange` names the range an address falls in when it is not a public
 * unicast address (loopback, private, link-local and cloud metadata, CGNAT, multicast, reserved…),
 * including the IPv6 forms that carry an IPv4 address (::ffff:10.0.0.1, ::10.0.0.1,
 * 64:ff9b::10.0.0.1, 2002:0a00:0001::).
 */
import { isIPv4, isIPv6 } from "node:net";

/** Host names that are cloud metadata services, refused whatever they resolve to. */
export const METADATA_HOST_NAMES: readonly string[] = ["metadata.google.internal", "metadata"];

type V4Range = readonly [base: readonly [number, number, number, number], prefix: number, name: string];

/** IPv4 ranges that are not public unicast (RFC 6890 and friends). */
const V4_NON_PUBLIC: readonly V4Range[] = [
  [[0, 0, 0, 0], 8, "this-network"],
  [[10, 0, 0, 0], 8, "private"],
  [[100, 64, 0, 0], 10, "shared (carrier-grade NAT)"],
  [[127, 0, 0, 0], 8, "loopback"],
  [[169, 254, 0, 0], 16, "link-local (cloud metadata)"],
  [[172, 16, 0, 0], 12, "private"],
  [[192, 0, 0, 0], 24, "IETF protocol assignments"],
  [[192, 0, 2, 0], 24, "documentation"],
  [[192, 168, 0, 0], 16, "private"],
  [[198, 18, 0, 0], 15, "benchmarking"],
  [[198, 51, 100, 0], 24, "documentation"],
  [[203, 0, 113, 0], 24, "documentation"],
  [[224, 0, 0, 0], 4, "multicast"],
  [[240, 0, 0, 0], 4, "reserved (including broadcast)"],
];

/** The 4 or 16 bytes of an IP address literal (IPv6 may carry a %zone and brackets); undefined otherwise. */
export function ipBytes(text: string): number[] | undefined {
  const t = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (isIPv4(t)) return t.split(".").map(Number);
  const bare = t.split("%")[0]!;
  if (!isIPv6(bare)) return undefined;
  let s = bare.toLowerCase();
  // A dotted IPv4 tail (::ffff:10.0.0.1) becomes two hex groups.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (tail) {
    const [a, b, c, d] = tail[1]!.split(".").map(Number) as [number, number, number, number];
    s = s.slice(0, -tail[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = s.split("::") as [string, string | undefined];
  const groups = (part: string) => (part === "" ? [] : part.split(":").map((g) => parseInt(g, 16)));
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const words = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

function inV4Range(bytes: readonly number[], [base, prefix]: V4Range): boolean {
  for (let bit = 0; bit < prefix; bit += 8) {
    const i = bit / 8;
    const bits = Math.min(8, prefix - bit);
    const mask = (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== (base[i]! & mask)) return false;
  }
  return true;
}

function v4Range(bytes: readonly number[]): string | undefined {
  return V4_NON_PUBLIC.find((r) => inV4Range(bytes, r))?.[2];
}

const allZero = (bytes: readonly number[]) => bytes.every((b) => b === 0);

function v6Range(b: readonly number[]): string | undefined {
  const first12 = b.slice(0, 12);
  const embedded = (range: string | undefined, form: string) => (range ? `${range}, as ${form}` : undefined);
  if (allZero(b)) return "unspecified";
  if (allZero(b.slice(0, 15)) && b[15] === 1) return "loopback";
  if (allZero(b.slice(0, 10)) && b[10] === 0xff && b[11] === 0xff) {
    return embedded(v4Range(b.slice(12)), "IPv4-mapped IPv6");
  }
  if (allZero(first12)) return embedded(v4Range(b.slice(12)) ?? "deprecated", "IPv4-compatible IPv6");
  // 64:ff9b::/96 (NAT64) reaches the IPv4 address in its last 32 bits.
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && allZero(b.slice(4, 12))) {
    return embedded(v4Range(b.slice(12)), "NAT64");
  }
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && b[4] === 0 && b[5] === 1) {
    return "NAT64 local use";
  }
  if ((b[0]! & 0xfe) === 0xfc) return "unique local (private)";
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return "link-local";
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return "site-local";
  if (b[0] === 0xff) return "multicast";
  // 2002::/16 (6to4) reaches the IPv4 address in bits 16–47.
  if (b[0] === 0x20 && b[1] === 0x02) return embedded(v4Range(b.slice(2, 6)), "6to4");
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return "documentation";
  // Everything public is in 2000::/3.
  if ((b[0]! & 0xe0) !== 0x20) return "reserved";
  return undefined;
}

/**
 * The name of the non-public range `address` is in ("private", "loopback", "link-local (cloud
 * metadata)", …), or undefined when it is a public unicast address. Text that is not an IP
 * address is "not an IP address".
 */
export function nonPublicRange(address: string): string | undefined {
  const bytes = ipBytes(address);
  if (!bytes) return "not an IP address";
  return bytes.length === 4 ? v4Range(bytes) : v6Range(bytes);
}

/** True for 127.0.0.0/8, ::1 and the IPv4-mapped form of 127.0.0.0/8. */
export function isLoopbackAddress(address: string): boolean {
  const b = ipBytes(address);
  if (!b) return false;
  if (b.length === 4) return b[0] === 127;
  if (allZero(b.slice(0, 15)) && b[15] === 1) return true;
  return allZero(b.slice(0, 10)) && b[10] === 0xff && b[11] === 0xff && b[12] === 127;
}

/** True for a loopback IP literal or the name localhost (what local runs point the base URLs at). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, "");
  return h === "localhost" || h.endsWith(".localhost") || isLoopbackAddress(h);
}
