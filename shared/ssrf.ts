/**
 * SSRF guard for URLs an org configures (alert destinations, MCP upstreams): Airlock must
 * not be made to call its own infrastructure, a cloud metadata service or a private network.
 *
 * Only the URL is checked. A Worker cannot resolve a name before `fetch`, so a public name
 * whose DNS points at a private address is not caught here; Cloudflare's egress does not
 * reach private networks (only a Tunnel would), which covers that case in production.
 * Redirects must not be followed by the caller (`redirect: "manual"`), or this check is moot.
 */
export class UnsafeUrlError extends Error {
  override readonly name = "UnsafeUrlError";
}

export interface UrlPolicy {
  /** Local development and tests only: allow http and private, loopback and local hosts. */
  allowPrivate: boolean;
}

/** Parses `url` and returns it, or throws UnsafeUrlError saying why (never echoing path or query, which may hold a token). */
export function assertPublicUrl(url: string, policy: UrlPolicy): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UnsafeUrlError("is not a valid absolute URL");
  }
  if (parsed.protocol !== "https:" && !(policy.allowPrivate && parsed.protocol === "http:")) {
    throw new UnsafeUrlError(policy.allowPrivate ? "must use http or https" : "must use https");
  }
  if (parsed.username || parsed.password) throw new UnsafeUrlError("must not contain a user name or password");
  if (policy.allowPrivate) return parsed;

  // The WHATWG parser has already canonicalised every numeric IPv4 form (decimal, octal,
  // hex, shortened) to dotted decimal and every IPv6 literal to its compressed form.
  const host = parsed.hostname.toLowerCase().replace(/\.$/, "");
  const reason = host.startsWith("[") ? ipv6Reason(host.slice(1, -1)) : isIPv4(host) ? ipv4Reason(host) : nameReason(host);
  if (reason) throw new UnsafeUrlError(`host ${host} is ${reason}`);
  return parsed;
}

const LOCAL_SUFFIXES = ["localhost", "internal", "local", "home.arpa"];

function nameReason(host: string): string | null {
  if (LOCAL_SUFFIXES.some((suffix) => host === suffix || host.endsWith(`.${suffix}`))) return "a local or internal name";
  // A single label (`metadata`, `intranet`) only resolves on a private network's search domain.
  if (!host.includes(".")) return "not a fully qualified public name";
  return null;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const isIPv4 = (host: string) => IPV4.exec(host)?.slice(1).every((octet) => Number(octet) <= 255) ?? false;

function ipv4ToInt(host: string): number {
  const [, a, b, c, d] = IPV4.exec(host)!;
  return ((Number(a) << 24) | (Number(b) << 16) | (Number(c) << 8) | Number(d)) >>> 0;
}

type Range4 = [base: number, bits: number, reason: string];
const range4 = (cidr: string, reason: string): Range4 => {
  const [base, bits] = cidr.split("/");
  return [ipv4ToInt(base!), Number(bits), reason];
};

/** Most specific first, so the reason names the narrower range. */
const BLOCKED_V4: Range4[] = [
  range4("169.254.169.254/32", "a cloud metadata address"),
  range4("255.255.255.255/32", "the broadcast address"),
  range4("0.0.0.0/8", "in 0.0.0.0/8 (this network)"),
  range4("10.0.0.0/8", "a private address"),
  range4("100.64.0.0/10", "a carrier-grade NAT address"),
  range4("127.0.0.0/8", "a loopback address"),
  range4("169.254.0.0/16", "a link-local address"),
  range4("172.16.0.0/12", "a private address"),
  range4("192.0.0.0/24", "a reserved address"),
  range4("192.0.2.0/24", "a documentation address"),
  range4("192.88.99.0/24", "a reserved address"),
  range4("192.168.0.0/16", "a private address"),
  range4("198.18.0.0/15", "a benchmarking address"),
  range4("198.51.100.0/24", "a documentation address"),
  range4("203.0.113.0/24", "a documentation address"),
  range4("224.0.0.0/4", "a multicast address"),
  range4("240.0.0.0/4", "a reserved address"),
];

function ipv4IntReason(address: number): string | null {
  for (const [base, bits, reason] of BLOCKED_V4) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if ((address & mask) >>> 0 === base) return reason;
  }
  return null;
}

const ipv4Reason = (host: string) => ipv4IntReason(ipv4ToInt(host));

/** 128-bit value of an IPv6 literal (without brackets), or null if it is not one. */
function parseIPv6(text: string): bigint | null {
  let head = text;
  let tail32: bigint | null = null;
  const dotted = /:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(text);
  if (dotted) {
    if (!isIPv4(dotted[1]!)) return null;
    tail32 = BigInt(ipv4ToInt(dotted[1]!));
    head = text.slice(0, dotted.index + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - left.length - right.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return null;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  let value = 0n;
  for (const group of all) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  return tail32 === null ? value : (value & ~0xffffffffn) | tail32;
}

type Range6 = [base: bigint, bits: number, reason: string | "embedded-v4" | "6to4"];
const range6 = (cidr: string, reason: Range6[2]): Range6 => {
  const [base, bits] = cidr.split("/");
  return [parseIPv6(base!)!, Number(bits), reason];
};

const BLOCKED_V6: Range6[] = [
  range6("::/128", "the unspecified address"),
  range6("::1/128", "a loopback address"),
  range6("fd00:ec2::254/128", "a cloud metadata address"),
  // These carry an IPv4 address: judge that address.
  range6("::ffff:0:0/96", "embedded-v4"),
  range6("64:ff9b::/96", "embedded-v4"),
  range6("::/96", "embedded-v4"),
  range6("2002::/16", "6to4"),
  range6("64:ff9b:1::/48", "a local-use NAT64 address"),
  range6("100::/64", "a discard-only address"),
  range6("2001::/32", "a Teredo address"),
  range6("2001:db8::/32", "a documentation address"),
  range6("fc00::/7", "a unique-local address"),
  range6("fe80::/10", "a link-local address"),
  range6("fec0::/10", "a site-local address"),
  range6("ff00::/8", "a multicast address"),
];

function ipv6Reason(literal: string): string | null {
  const address = parseIPv6(literal);
  if (address === null) return "not a valid IPv6 address";
  for (const [base, bits, reason] of BLOCKED_V6) {
    const mask = ((1n << BigInt(bits)) - 1n) << BigInt(128 - bits);
    if ((address & mask) !== base) continue;
    if (reason === "embedded-v4") return ipv4IntReason(Number(address & 0xffffffffn));
    if (reason === "6to4") return ipv4IntReason(Number((address >> 80n) & 0xffffffffn));
    return reason;
  }
  return null;
}
