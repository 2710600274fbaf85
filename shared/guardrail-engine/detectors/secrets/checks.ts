/**
 * Validators shared by the secret rules: checksums, placeholder tests, entropy. All run in
 * time linear in the candidate, which is always bounded by the rule that found it.
 */

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3) of an ASCII string. */
export function crc32(ascii: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < ascii.length; i++) crc = CRC_TABLE[(crc ^ ascii.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function base62(n: number, width: number): string {
  let out = "";
  for (let v = n; v > 0; v = Math.floor(v / 62)) out = BASE62[v % 62] + out;
  return out.padStart(width, "0");
}

/**
 * GitHub's classic tokens (ghp_, gho_, ghu_, ghs_, ghr_) and npm's npm_ tokens end in the
 * CRC-32 of the 30 random characters before it, base62-encoded into 6 characters
 * (github.blog 2021-04-05 "Behind GitHub's new authentication token formats"; checked
 * here against the sample token in npm's 2021-09-23 changelog).
 */
export function hasBase62Crc32(token: string, prefixLength: number): boolean {
  const body = token.slice(prefixLength, -6);
  return base62(crc32(body), 6) === token.slice(-6);
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

function distinctChars(value: string): number {
  return new Set(value).size;
}

/**
 * Runs of filler, ellipses and template markers that docs put where a real key would go. The
 * words count only where one starts (`sk-your-key-here`, `SG.YOUR_KEY`): inside random base64
 * a real key spells `your` or `here` about once in a few thousand.
 */
const FILLER = /x{4}|\*{3}|\.{3}|…|•|<[^>]{0,40}>|\$\{|\{\{|%\(|(?<![a-z0-9])(?:your|here|placeholder|redacted|insert|replace|changeme|dummy)/i;

/**
 * True when a provider-shaped token is documentation filler rather than a key: filler words,
 * or too few distinct characters for a random string of its length (AKIAXXXXXXXXXXXXXXXX).
 * "EXAMPLE" and "FAKE" do not count: real keys can contain them and the corpus relies on them.
 */
export function isPlaceholderToken(token: string): boolean {
  return FILLER.test(token) || distinctChars(token) < Math.min(8, Math.ceil(token.length / 3));
}

/** The values AWS prints in its documentation; they appear in countless READMEs. */
const AWS_DOC_EXAMPLES = new Set([
  "AKIAIOSFODNN7EXAMPLE",
  "AKIAI44QH8DHBEXAMPLE",
  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
]);

export function isAwsDocExample(value: string): boolean {
  return AWS_DOC_EXAMPLES.has(value);
}

/** The signature of jwt.io's sample token, copied into tutorials and test suites everywhere. */
const JWT_IO_EXAMPLE_SIGNATURE = ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

export function isJwtIoExample(jwt: string): boolean {
  return jwt.endsWith(JWT_IO_EXAMPLE_SIGNATURE);
}

const PLACEHOLDER_PASSWORDS = new Set(["password", "passwd", "pass", "pwd", "secret", "changeme", "mypassword", "yourpassword", "your_password", "your-password", "dbpassword", "db_password", "pw", "p", "x", "example"]);

/** Template markers, filler and the words docs use where a real password would go. */
export function isPlaceholderPassword(password: string): boolean {
  const lower = password.toLowerCase();
  return PLACEHOLDER_PASSWORDS.has(lower) || /^[*x.•…_-]+$/.test(lower) || /^\$\w|\$\{|\{\{|^<.*>$|^\[.*\]$|%s|%\(|\*\*|your|example|placeholder|redacted|changeme/.test(lower);
}

/** The JSON object a base64url segment encodes, or null. */
export function decodeJsonSegment(segment: string): Record<string, unknown> | null {
  try {
    const b64 = segment.replace(/-/g, "+").replace(/_/g, "/");
    const parsed: unknown = JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)));
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * `context.lower` with offsets that match `text`. `toLowerCase` can lengthen a string (U+0130
 * becomes two code units), which would shift every offset after it; lowering only ASCII keeps them.
 */
export function alignedLower(text: string, lower: string): string {
  return lower.length === text.length ? lower : text.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

/** Case-insensitive: does one of `words` occur within `window` characters of [start, end)? */
export function near(lower: string, start: number, end: number, words: readonly string[], window: number): boolean {
  const around = lower.slice(Math.max(0, start - window), end + window);
  return words.some((word) => around.includes(word));
}

/** Real bodies are wrapped at 64 (PEM) or 70 (OpenSSH) characters; prose never has such a run. */
const PEM_MIN_LINE = 40;
/** Large enough for an RSA-8192 or PGP key, small enough to bound the scan. */
const PEM_MAX = 64 * 1024;
const PEM_END = "-----END ";

/**
 * From the end of a `-----BEGIN … PRIVATE KEY-----` line, returns where the key ends: after
 * its END line, or, when the text stops or is cut (a truncated paste, a stream chunk), after
 * the last body character. Null when there is no body worth redacting (a header quoted in
 * prose, `...` in docs). One pass over at most PEM_MAX characters; it stops at the first
 * character a body cannot hold and at the next `-----`, so repeated headers cost nothing each.
 */
export function pemEnd(text: string, from: number): number | null {
  const limit = Math.min(text.length, from + PEM_MAX);
  let run = 0;
  let longestRun = 0;
  let i = from;
  for (; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (isBase64Char(c)) {
      run++;
      if (run > longestRun) longestRun = run;
    } else if (isPemFillerChar(c) && !text.startsWith("-----", i)) run = 0;
    else break;
  }
  if (longestRun < PEM_MIN_LINE) return null;
  if (text.startsWith(PEM_END, i)) {
    const close = text.indexOf("-----", i + PEM_END.length);
    if (close !== -1 && close - i <= 64) return close + 5;
  }
  // Unterminated: end at the last base64 character so trailing text stays readable.
  while (i > from && !isBase64Char(text.charCodeAt(i - 1))) i--;
  return i;
}

function isBase64Char(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f || c === 0x3d;
}

/** Whitespace, JSON-escaped newlines, and the `Proc-Type: 4,ENCRYPTED` / `DEK-Info:` header punctuation. */
function isPemFillerChar(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x5c /* \ */ || c === 0x2d || c === 0x3a || c === 0x2c;
}
