import type { Detector, Match } from "../types.ts";
import { PII_DIRECTIONS } from "./text.ts";

const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;
/** Letters-only TLD, or an IDN one in punycode. */
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/i;
const LABEL = /^[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\d-]{1,63}$/u;
/** `icon@2x.png`, `bundle@1.2.min.js`: file names, not mailboxes. None is a TLD in use for mail. */
const FILE_EXTENSION = new Set(["png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff", "heic", "avif", "js", "mjs", "cjs", "ts", "tsx", "jsx", "css", "scss", "html", "htm", "json", "yaml", "yml", "toml", "lock", "txt", "log", "map", "wasm"]);
/** RFC 2606 / 6761 names: still an address in the text, but of nobody. */
const RESERVED = /(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid|localhost)$/i;

/** `//` with no whitespace after it: what follows is a URL's authority. */
function inUrlAuthority(head: string): boolean {
  const slashes = head.lastIndexOf("//");
  return slashes !== -1 && !/\s/.test(head.slice(slashes));
}

/** Alphabetic scripts only: CJK text runs into an address without a space (`連絡先はjane@acme.ioです`). */
const NON_ASCII_ALNUM = /[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}]/u;

/** Letters and digits, ASCII or not: `müller@beispiel.de` and `info@münchen.de` (RFC 6531, IDN). */
function isAlnum(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  return NON_ASCII_ALNUM.test(text[i]!);
}

function isLocalChar(text: string, i: number): boolean {
  // Pragmatic subset of RFC 5322 atext: quotes, slashes and braces border addresses in prose and code.
  const c = text.charCodeAt(i);
  return c === 46 || c === 95 || c === 37 || c === 43 || c === 45 || isAlnum(text, i);
}

function isDomainChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c === 46 || c === 45 || isAlnum(text, i);
}

/** Reads outward from each `@` for at most the RFC length limits, so the scan is linear. */
export const email: Detector = {
  id: "email",
  category: "pii",
  placeholder: "EMAIL",
  description: "Email addresses (local@domain.tld)",
  directions: PII_DIRECTIONS,
  keywords: ["@"],
  detect(text) {
    const matches: Match[] = [];
    let floor = 0;
    for (let at = text.indexOf("@"); at !== -1; at = text.indexOf("@", at + 1)) {
      let start = at;
      while (start > floor && at - start < MAX_LOCAL + 1 && isLocalChar(text, start - 1)) start--;
      if (start > floor && isLocalChar(text, start - 1)) continue; // local part too long
      while (text[start] === ".") start++;
      if (start === at || text[at - 1] === "." || text.slice(start, at).includes("..")) continue;
      // `scheme://user:pass@host` and `//user@host` are URL credentials, left to the secret detectors.
      const before = text[start - 1];
      if ((before === ":" || before === "/") && inUrlAuthority(text.slice(Math.max(0, start - 256), start))) continue;

      let end = at + 1;
      while (end < text.length && end - at <= MAX_DOMAIN && isDomainChar(text, end)) end++;
      while (end > at + 1 && (text[end - 1] === "." || text[end - 1] === "-")) end--;
      const domain = text.slice(at + 1, end);
      const labels = domain.split(".");
      const tld = labels[labels.length - 1]!;
      if (labels.length < 2 || !TLD.test(tld) || FILE_EXTENSION.has(tld.toLowerCase())) continue;
      if (!labels.every((l) => LABEL.test(l) && l[0] !== "-" && !l.endsWith("-"))) continue;
      // `git@github.com:org/repo.git` is an SSH remote, not a mailbox.
      if (text[end] === ":" && /[\w~/]/.test(text[end + 1] ?? "")) continue;
      matches.push({ start, end, score: RESERVED.test(domain) ? 0.6 : 0.9 });
      floor = end;
    }
    return matches;
  },
};
