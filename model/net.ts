import ipaddr from "ipaddr.js";

/** An IPv4 network as integer bounds, so overlap and containment are plain comparisons. */
export interface Ipv4Range {
  cidr: string;
  first: number;
  last: number;
  prefix: number;
}

const toInt = (addr: ipaddr.IPv4): number => addr.octets.reduce((acc, o) => acc * 256 + o, 0);

/** Strict dotted-quad IPv4 (ipaddr.js alone also accepts octal and shorthand forms). */
export function parseIpv4(text: string): number | undefined {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text) || !ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  return toInt(ipaddr.IPv4.parse(text));
}

/** Parses "a.b.c.d/n"; rejects host bits set so a typo like 10.0.10.1/24 is caught, not silently widened. */
export function parseCidr(text: string): Ipv4Range | { error: string } {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m) return { error: `${text} is not a CIDR (expected a.b.c.d/n)` };
  const base = parseIpv4(m[1]!);
  const prefix = Number(m[2]);
  if (base === undefined || prefix > 32) return { error: `${text} is not a CIDR` };
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) {
    const network = ipaddr.IPv4.networkAddressFromCIDR(text).toString();
    return { error: `${text} has host bits set; did you mean ${network}/${prefix}?` };
  }
  return { cidr: text, first: base, last: base + size - 1, prefix };
}

/** 32-bit integer -> dotted quad (the inverse of parseIpv4). */
export const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");

export const overlaps = (a: Ipv4Range, b: Ipv4Range): boolean => a.first <= b.last && b.first <= a.last;
export const contains = (net: Ipv4Range, ip: number): boolean => ip >= net.first && ip <= net.last;
