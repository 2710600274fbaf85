/**
 * `generic_secret`: a high-entropy value assigned to a secret-sounding name, in any of the
 * usual syntaxes (`key = value`, `key: value`, `"key": "value"`, `KEY=value`, `key => value`,
 * `Authorization: Bearer …`). Hand-written scanning instead of one big regex: it finds the
 * name keywords with a literal-alternation regex, then walks outwards a bounded number of
 * characters, so the cost is linear in the text whatever it contains.
 */
import { DIRECTIONS, type Detector, type DetectContext, type Match } from "../types.ts";
import { alignedLower, isPlaceholderPassword, shannonEntropy } from "./checks.ts";

/** Names that say "this is the credential itself". */
const STRONG_WORDS = "secret|passw|passphrase|pwd|api[_-]?key|apikey|access[_-]?key|accesskey|private[_-]?key|privatekey|credential";
const STRONG_NAME = new RegExp(STRONG_WORDS);
/** Where to look for names: the strong words, `token`, and `auth` (narrowed by AUTH_NAME). */
const NAME_KEYWORDS = new RegExp(`${STRONG_WORDS}|token|auth`, "g");
/** `auth` alone counts in Authorization, basic_auth or auth_header, not in author, authSource or authenticated. */
const AUTH_NAME = /auth(?:orization|[_-]?(?:key|header|code|pass|string|value|cookie)|$)/;
/** Names about tokens rather than holding one: counts, pagination, CSRF nonces. */
const NAME_DENY = /tokens|tokeniz|page_?token|next_?token|continuation|cursor|csrf|xsrf/;
/** Name endings (separators removed) that describe a secret's metadata, not its value. */
const NAME_DENY_SUFFIXES = [
  "file", "path", "dir", "url", "uri", "endpoint", "name", "type", "count", "length", "len", "limit", "ttl", "expiry",
  "expires", "expiresin", "expiresat", "enabled", "hash", "digest", "checksum", "policy", "id", "ids", "size", "format",
  "version", "prefix", "suffix", "field", "label", "placeholder", "hint", "description", "regex", "pattern", "mode",
  "method", "strategy", "provider", "store", "timeout", "interval", "location", "env", "var", "required", "rotation",
];

const MAX_NAME = 64;
const MAX_VALUE = 256;
const MIN_VALUE = 12;
const MAX_GAP = 8;

/** Every name NAME_KEYWORDS can match contains one of these. */
const GENERIC_KEYWORDS = ["secret", "token", "pass", "pwd", "api", "access", "private", "auth", "credential"] as const;

/**
 * Builds the detector. It drops a finding that a provider detector also reports, so an
 * `OPENAI_API_KEY=sk-proj-…` line yields one `openai_key` finding, not two.
 */
export function genericSecretDetector(providers: readonly Detector[]): Detector {
  return {
    id: "generic_secret",
    category: "secret",
    placeholder: "SECRET",
    description: "High-entropy values assigned to secret-like names (password, token, api_key, client_secret, …)",
    directions: DIRECTIONS,
    keywords: GENERIC_KEYWORDS,
    detect(text: string, context: DetectContext): Match[] {
      const candidates = findAssignments(text, alignedLower(text, context.lower));
      if (candidates.length === 0) return candidates;
      const claimed = providers.flatMap((provider) =>
        provider.keywords && !provider.keywords.some((k) => context.lower.includes(k)) ? [] : provider.detect(text, context),
      );
      return candidates.filter((c) => !claimed.some((p) => p.start < c.end && c.start < p.end));
    },
  };
}

function findAssignments(text: string, lower: string): Match[] {
  const out: Match[] = [];
  const keywords = NAME_KEYWORDS;
  keywords.lastIndex = 0;
  for (let hit = keywords.exec(lower); hit !== null; hit = keywords.exec(lower)) {
    let nameStart = hit.index;
    while (nameStart > 0 && isNameChar(lower.charCodeAt(nameStart - 1)) && hit.index - nameStart < MAX_NAME) nameStart--;
    let nameEnd = hit.index + hit[0].length;
    while (nameEnd < lower.length && isNameChar(lower.charCodeAt(nameEnd)) && nameEnd - hit.index < MAX_NAME) nameEnd++;
    keywords.lastIndex = nameEnd;
    // A name inside a longer run (a blob, a minified identifier) is not a name.
    if ((nameStart > 0 && isNameChar(lower.charCodeAt(nameStart - 1))) || (nameEnd < lower.length && isNameChar(lower.charCodeAt(nameEnd)))) continue;
    // In a dotted path (`config.api_key`, `options.invalidToken.message`) the last segment names the value.
    const path = lower.slice(nameStart, nameEnd);
    const name = path.slice(path.lastIndexOf(".") + 1);
    if (!isSecretName(name)) continue;
    const value = readAssignedValue(text, nameStart, nameEnd);
    if (!value) continue;
    keywords.lastIndex = Math.max(keywords.lastIndex, value.end);
    const score = judge(text.slice(value.start, value.end), value.quoted, value.basic, STRONG_NAME.test(name));
    if (score !== null) out.push({ start: value.start, end: value.end, score, rule: value.basic ? "basic_auth" : "assignment" });
  }
  return out;
}

function isSecretName(name: string): boolean {
  if (!STRONG_NAME.test(name) && !name.includes("token") && !AUTH_NAME.test(name)) return false;
  if (NAME_DENY.test(name)) return false;
  const bare = name.replace(/[_.-]/g, "");
  return !NAME_DENY_SUFFIXES.some((suffix) => bare.endsWith(suffix));
}

interface Value {
  start: number;
  end: number;
  quoted: boolean;
  basic: boolean;
}

/**
 * Parses what follows a name: `<close-quote>? <ws> op <ws> value` where op is one of
 * = : := => or the word is/was (`my password is …`), or an XML element's text.
 */
function readAssignedValue(text: string, nameStart: number, from: number): Value | null {
  if (text[nameStart - 1] === "<" && text[from] === ">") return readElementText(text, from + 1);
  let i = from;
  if (text[i] === "\\" && isQuote(text[i + 1])) i += 2;
  else if (isQuote(text[i])) i++;
  const gap = skipBlanks(text, i);
  i = gap;
  if (text.startsWith("=>", i) || text.startsWith(":=", i)) i += 2;
  else if (text[i] === "=" && text[i + 1] !== "=") i++;
  else if (text[i] === ":" && text[i + 1] !== ":" && text[i + 1] !== "/") i++;
  else if (gap > from && /^(?:is|was)[ \t]/.test(text.slice(i, i + 4))) i += text[i] === "i" ? 2 : 3;
  else return null;
  i = skipBlanks(text, i);
  const value = readValue(text, i);
  if (!value) return null;
  // `Authorization: Bearer <token>`: the credential is the word after the scheme.
  const scheme = /^(bearer|basic|token|bot)[ \t]+/i.exec(text.slice(value.start, value.end));
  if (scheme) return { ...value, start: value.start + scheme[0].length, basic: scheme[1]!.toLowerCase() === "basic" };
  if (!value.quoted && /^(bearer|basic|token|bot)$/i.test(text.slice(value.start, value.end))) {
    const next = readValue(text, skipBlanks(text, value.end));
    if (next && !next.quoted) return { ...next, basic: text.slice(value.start, value.end).toLowerCase() === "basic" };
  }
  return value;
}

/** `<password>value</password>`: the text up to the next tag, on one line. */
function readElementText(text: string, start: number): Value | null {
  const limit = Math.min(text.length, start + MAX_VALUE + 2);
  for (let j = start; j < limit; j++) {
    if (text[j] === "\n") return null;
    if (text[j] === "<") return text[j + 1] === "/" && j > start ? { start, end: j, quoted: true, basic: false } : null;
  }
  return null;
}

function readValue(text: string, i: number): Value | null {
  let quote = "";
  let escaped = false;
  if (text[i] === "\\" && isQuote(text[i + 1])) {
    escaped = true;
    quote = text[i + 1]!;
    i += 2;
  } else if (isQuote(text[i])) quote = text[i++]!;
  const limit = Math.min(text.length, i + MAX_VALUE + 1);
  if (quote) {
    for (let j = i; j < limit; j++) {
      const c = text[j];
      if (c === "\n") return null;
      if (escaped ? c === "\\" && text[j + 1] === quote : c === quote && text[j - 1] !== "\\") return { start: i, end: j, quoted: true, basic: false };
    }
    return null;
  }
  let j = i;
  while (j < limit && isValueChar(text.charCodeAt(j))) j++;
  if (j === i || j - i > MAX_VALUE) return null;
  // `token = getToken(user)`, `key: {`: code, not a literal.
  if (j < text.length && !isTerminator(text[j]!)) return null;
  // A full stop ends the sentence, not the password (an ellipsis stays, for the placeholder test).
  const end = text[j - 1] === "." && text[j - 2] !== "." && j - 1 > i ? j - 1 : j;
  return { start: i, end, quoted: false, basic: false };
}

function judge(value: string, quoted: boolean, basic: boolean, strongName: boolean): number | null {
  if (basic) return isBasicCredential(value) ? 0.8 : null;
  // Whitespace, quotes and backslashes: prose, nested quoting or code, not one opaque value.
  if (value.length < MIN_VALUE || /[\s"'`\\]/.test(value)) return null;
  // A regular expression's character ranges (`[A-Za-z0-9._~+/-]+`), not a key.
  if (/a-z|A-Z|0-9|\\[dws]/.test(value)) return null;
  if (isPlaceholderValue(value)) return null;
  if (!quoted && isCodeReference(value)) return null;
  if (/^[0-9]+$/.test(value) || isWordShaped(value)) return null;
  if (characterClasses(value) < 2) return null;
  const { target, alphabet } = entropyTarget(value);
  const entropy = shannonEntropy(value);
  // The brief's targets (3.5, base64 4.5, hex 3.0) are what long random strings reach; a
  // 12-character string can carry at most log2(12) = 3.58 bits per character, so the bar is
  // capped at 80% of the most a value of this length and alphabet can reach.
  const threshold = Math.min(target, 0.8 * Math.log2(Math.min(value.length, alphabet)));
  if (entropy < threshold) return null;
  return Math.min(0.9, 0.65 + (strongName ? 0.1 : 0) + (entropy >= target ? 0.1 : 0) + (quoted ? 0.05 : 0));
}

function entropyTarget(value: string): { target: number; alphabet: number } {
  // Hex, also with separators (UUIDs, MAC-style groups).
  if (/^[0-9a-f]+(?:-[0-9a-f]+)*$/i.test(value)) return { target: 3.0, alphabet: 16 };
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return { target: 4.5, alphabet: 64 };
  return { target: 3.5, alphabet: 94 };
}

function characterClasses(value: string): number {
  return Number(/[a-z]/.test(value)) + Number(/[A-Z]/.test(value)) + Number(/[0-9]/.test(value)) + Number(/[^A-Za-z0-9]/.test(value));
}

/**
 * snake_case, kebab-case, dotted, camelCase and PascalCase words: identifiers and enum-like
 * strings, not keys. A sigil in front (`?InJSX`) or a `_1` suffix does not change that.
 */
function isWordShaped(value: string): boolean {
  const core = value.replace(/^[?!@#:]+/, "").replace(/_[0-9]+$/, "");
  if (/^[A-Za-z]+(?:[_.-][A-Za-z]+)+$/.test(core) || /^[a-z]+(?:[A-Z][a-z]+)+$/.test(core) || /^(?:[A-Z][a-z]+){2,}$/.test(core)) return true;
  // With acronyms (`InterpolationInJSX`) the shape alone would also fit random letters.
  return /^[a-z]*(?:[A-Z][a-z]+|[A-Z]{2,}(?=[A-Z][a-z]|$))+$/.test(core) && readsAsWords(core);
}

/** Words are a third or more vowels; random letters about a fifth. */
function readsAsWords(letters: string): boolean {
  return (letters.match(/[aeiou]/gi)?.length ?? 0) >= letters.length * 0.3;
}

/**
 * `settings.SECRET_KEY`, `args.token`, `!req.headers.authorization`, `a===b`, a bare
 * identifier: code that refers to a secret, not the secret.
 */
function isCodeReference(value: string): boolean {
  if (value.startsWith("!") || /={3}|=[^=]/.test(value)) return true;
  const bare = value.replace(/=+$/, "");
  // A bare identifier names a variable; a key of random letters (1 in 300 of 32-character
  // alphanumeric keys has no digit) does not read as words.
  return /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(bare) || (/^[A-Za-z_]+$/.test(bare) && readsAsWords(bare));
}

// Long placeholder words count anywhere (AWS's documented "…EXAMPLEKEY"); short ones only where
// they stand as a word (at an end of the value or beside a separator), because inside a random
// key "xxX" or "Test" is chance (1 in ~1,000 keys for "xxx") and the key is still a secret.
const SHORT_PLACEHOLDERS = "x{3,}|your|test|fake|mock|todo";
const PLACEHOLDER_WORDS = new RegExp(
  [
    String.raw`\*{3}|\.{3}|…|•|example|sample|dummy|placeholder|change_?me|change-me|redacted|insert|replace|fixme|<|>|\{\{|\$\{|%\(|%s`,
    `(?:^|[^a-z0-9])(?:${SHORT_PLACEHOLDERS})`,
    `(?:${SHORT_PLACEHOLDERS})(?:$|[^a-z0-9])`,
  ].join("|"),
);
const PLACEHOLDER_EXACT = new Set(["null", "none", "nil", "undefined", "true", "false", "empty", "required", "optional", "string"]);
const REFERENCE_PREFIXES = [
  "$", "/", "./", "../", "~/", "process.env", "os.environ", "os.getenv", "env.", "env(", "secrets.", "vault:", "arn:", "projects/",
  "file:", "sha1:", "sha256:", "sha512:", "md5:", "sha256-", "sha384-", "sha512-",
];

/**
 * Template and filler values, references to where the secret lives (env vars, vault paths,
 * files), digests labelled as such, and URLs that carry no credentials.
 */
function isPlaceholderValue(value: string): boolean {
  const lower = value.toLowerCase();
  if (PLACEHOLDER_EXACT.has(lower) || PLACEHOLDER_WORDS.test(lower)) return true;
  if (REFERENCE_PREFIXES.some((prefix) => lower.startsWith(prefix))) return true;
  if (/^[a-z]:\\/.test(lower) || /\.(?:pem|key|json|txt|env|ya?ml|p12|pfx|crt|cer|der|jks|keystore|pub|toml|ini|cfg|conf)$/.test(lower)) return true;
  return /^[a-z][a-z0-9+.-]*:\/\//.test(lower) && !lower.includes("@");
}

/** `Basic <base64>` holding `user:password` with a password worth the name. */
function isBasicCredential(value: string): boolean {
  if (!/^[A-Za-z0-9+/]{8,}={0,2}$/.test(value)) return false;
  try {
    const decoded = atob(value);
    const colon = decoded.indexOf(":");
    const password = decoded.slice(colon + 1);
    return colon > 0 && password.length >= 6 && /^[\x20-\x7e]+$/.test(decoded) && !isPlaceholderPassword(password) && !isPlaceholderValue(password);
  } catch {
    return false;
  }
}

function skipBlanks(text: string, i: number): number {
  const limit = i + MAX_GAP;
  while (i < limit && (text[i] === " " || text[i] === "\t")) i++;
  return i;
}

function isQuote(c: string | undefined): boolean {
  return c === '"' || c === "'" || c === "`";
}

function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d || c === 0x2e;
}

/** Characters of an unquoted secret: letters, digits and the punctuation keys and passwords use. */
function isValueChar(c: number): boolean {
  return isNameChar(c) || "+/=~!@#$%^*?|".includes(String.fromCharCode(c));
}

function isTerminator(c: string): boolean {
  return /[\s,;&)\]}"'`<>\\]/.test(c);
}
