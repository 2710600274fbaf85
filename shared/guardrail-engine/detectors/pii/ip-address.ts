import type { Detector, Match } from "../types.ts";
import { PII_DIRECTIONS, isWordChar } from "./text.ts";

/** Four dotted numbers that are not part of a longer dotted sequence (`1.2.3.4.5`, OIDs). */
const IPV4 = /(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\w|\.\d)/g;
/** Dotted numbers that are labelled as something else. */
const NOT_AN_ADDRESS = /\b(?:version|ver|v|release|build|section|chapter|clause|article|figure|fig|paragraph|para|oid|sdk|firmware|patch)\b[^\n]{0,3}$/;

/** A comment marker just before the number, e.g. `// ` or `# `. */
const STEP_COMMENT = /(?:\/\/|#|\*|--)[ \t]?$/;

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Parses dotted-quad text into its four octets; undefined on out-of-range or zero-padded octets. */
function parseIpv4(s: string): number[] | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const p of parts) {
    if (p.length === 0 || p.length > 3 || (p.length > 1 && p[0] === "0")) return undefined;
    const n = Number(p);
    if (!(n <= 255)) return undefined;
    octets.push(n);
  }
  return octets;
}

/** Loopback, private, shared, link-local, documentation, multicast and reserved space: nobody's address. */
function ipv4IsInternal(octets: number[]): boolean {
  const [a = 0, b = 0, c = 0] = octets;
  return (
    a === 0 || a === 10 || a === 127 || a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) ||
    (a === 198 && (b === 18 || b === 19 || (b === 51 && c === 100))) ||
    (a === 203 && b === 0 && c === 113)
  );
}

/**
 * Parses an IPv6 address (full, `::`-compressed, or with a trailing dotted IPv4) into its
 * eight 16-bit groups; undefined when the text is not one.
 */
export function parseIpv6(s: string): number[] | undefined {
  let head = s;
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(":");
  if (s.indexOf(".", lastColon) !== -1) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    head = s.slice(0, lastColon + 1);
    // Keep the `::` of `::ffff:1.2.3.4`; drop the lone `:` before the IPv4 part.
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    for (const g of part.split(":")) {
      if (g.length === 0 || g.length > 4) return undefined;
      for (let i = 0; i < g.length; i++) if (!isHex(g.charCodeAt(i))) return undefined;
      groups.push(parseInt(g, 16));
    }
    return groups;
  };
  const left = parse(halves[0]!);
  const right = halves.length === 2 ? parse(halves[1]!) : [];
  if (!left || !right) return undefined;
  const given = left.length + right.length + tail.length;
  if (halves.length === 1) return given === 8 ? [...left, ...tail] : undefined;
  if (given > 7) return undefined;
  return [...left, ...new Array<number>(8 - given).fill(0), ...right, ...tail];
}

/** Unspecified, loopback, IPv4-mapped internal, link-local, unique-local, multicast and documentation. */
function ipv6IsInternal(g: number[]): boolean {
  const first = g[0]!;
  if (g.slice(0, 7).every((x) => x === 0) && g[7]! <= 1) return true;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return ipv4IsInternal([g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8]);
  }
  return (first & 0xffc0) === 0xfe80 || (first & 0xfe00) === 0xfc00 || (first & 0xff00) === 0xff00 || (first === 0x2001 && g[1] === 0xdb8);
}

function isIpv6Char(c: number): boolean {
  return isHex(c) || c === 58 || c === 46;
}

function detectIpv4(text: string, lower: string, ipv6: Match[], matches: Match[]): void {
  let v6 = 0;
  IPV4.lastIndex = 0;
  for (let m = IPV4.exec(text); m; m = IPV4.exec(text)) {
    const octets = parseIpv4(m[0]);
    if (!octets) continue;
    const start = m.index;
    const end = start + m[0].length;
    // `1.2.3.4` is everyone's placeholder; `2.5.29.19`, `2.5.4.3`, `1.3.6.1` are X.509 and SNMP OIDs.
    if (m[0] === "1.2.3.4" || m[0].startsWith("2.5.29.") || m[0].startsWith("2.5.4.") || m[0] === "1.3.6.1") continue;
    while (v6 < ipv6.length && ipv6[v6]!.end < end) v6++;
    if (v6 < ipv6.length && ipv6[v6]!.start < start) continue; // the tail of `::ffff:192.0.2.1`
    if (NOT_AN_ADDRESS.test(lower.slice(Math.max(0, start - 16), start))) continue;
    // `1.2.3.4-rc.1`, `11.3.244.8-node.9`, `1.2.3.4+build`: a version with a pre-release or build tag.
    if (text[end] === "+" || (text[end] === "-" && /[A-Za-z]/.test(text[end + 1] ?? ""))) continue;
    // `// 4.2.6.1` alone on a comment line is a spec step being implemented.
    if (STEP_COMMENT.test(text.slice(Math.max(0, start - 8), start)) && /^[ \t]*(?:\r?\n|$)/.test(text.slice(end, end + 4))) continue;
    matches.push({ start, end, score: ipv4IsInternal(octets) ? 0.5 : 0.85, rule: "ipv4" });
  }
}

/** Grows a token of hex digits, colons and dots around each colon; each character is read at most twice. */
function detectIpv6(text: string, matches: Match[]): void {
  let next = 0;
  for (let colon = text.indexOf(":"); colon !== -1; colon = text.indexOf(":", Math.max(colon + 1, next))) {
    let start = colon;
    while (start > next && isIpv6Char(text.charCodeAt(start - 1))) start--;
    let end = colon + 1;
    while (end < text.length && isIpv6Char(text.charCodeAt(end))) end++;
    next = end;
    // Sentence punctuation and a port-less trailing colon are not part of the address.
    while (end > start && text[end - 1] === ".") end--;
    if (text[end - 1] === ":" && text[end - 2] !== ":") end--;
    if (isWordChar(text, start - 1) || isWordChar(text, end)) continue;
    const token = text.slice(start, end);
    if (token.length < 3 || token.length > 45) continue;
    const groups = parseIpv6(token);
    if (!groups) continue;
    // `::`, Python's `x[100::2]`, `Add::Bad` in code carry too little to be an address: want a
    // digit, a group three digits long, and a hex letter or three groups. `::1` is the exception.
    const written = token.split(/:+/).filter((p) => p !== "");
    const enough = /\d/.test(token) && written.some((p) => p.length >= 3) && (written.length >= 3 || (written.length === 2 && /[a-f]/i.test(token)));
    if (token !== "::1" && !enough) continue;
    matches.push({ start, end, score: ipv6IsInternal(groups) ? 0.5 : 0.85, rule: "ipv6" });
  }
}

export const ipAddress: Detector = {
  id: "ip_address",
  category: "pii",
  placeholder: "IP_ADDRESS",
  description: "IPv4 and IPv6 addresses; loopback, private and documentation ranges score lower",
  directions: PII_DIRECTIONS,
  detect(text, { lower }) {
    const ipv6: Match[] = [];
    detectIpv6(text, ipv6);
    const ipv4: Match[] = [];
    detectIpv4(text, lower, ipv6, ipv4);
    return ipv6.length === 0 ? ipv4 : [...ipv6, ...ipv4].sort((a, b) => a.start - b.start);
  },
};
