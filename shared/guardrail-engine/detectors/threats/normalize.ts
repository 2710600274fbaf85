/**
 * Normalisation shared by the threat detectors: one canonical, lower-case view of a text in
 * which hidden content is revealed, plus a map from every unit of that view back to the span
 * of the original text it came from, so findings point at the original.
 *
 * Mapping: each UTF-16 unit `i` of the view carries `from[i]`/`to[i]`, the original span that
 * produced it. The maps are non-decreasing, so a view range `[s, e)` maps to the original
 * range `[from[s], to[e - 1])`. Units expanded from one source (a decoded base64 run, a
 * JSON escape) all carry that source's whole span: spans are exact for ordinary characters
 * and cover the encoded region for decoded ones.
 */

import { matchesOf } from "../matches.ts";

/** A derived text and, per UTF-16 unit, the original span `[from, to)` it came from. */
export interface TextView {
  text: string;
  from: Int32Array;
  to: Int32Array;
  /** JSON input only: the view span of each string value and the key it belongs to. */
  fields?: readonly Field[];
}

export interface Field {
  start: number;
  end: number;
  key: string;
}

export interface Normalized extends TextView {
  /** 1 where the unit was revealed from hidden or obfuscated content. */
  hidden: Uint8Array;
}

/** Original span of the view range `[start, end)`. */
export function originalSpan(view: TextView, start: number, end: number): { start: number; end: number } {
  if (view.from.length === 0) return { start: 0, end: 0 };
  const s = Math.min(start, view.from.length - 1);
  const e = Math.max(s, Math.min(end, view.to.length) - 1);
  return { start: view.from[s]!, end: view.to[e]! };
}

/**
 * The line around `[start, end)`, at most `reach` units either side. Bounded so that many
 * hits on one long line cost linear time, not a scan back to the line start for each.
 */
export function lineAround(text: string, start: number, end: number, reach: number): { start: number; end: number } {
  let s = start;
  const lo = Math.max(0, start - reach);
  while (s > lo && text.charCodeAt(s - 1) !== 10) s--;
  let e = end;
  const hi = Math.min(text.length, end + reach);
  while (e < hi && text.charCodeAt(e) !== 10) e++;
  return { start: s, end: e };
}

const JSON_ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, f: 12 };

/**
 * For valid JSON, the concatenated decoded string literals (keys and values, one per line)
 * mapped back to the escaped source; `null` for anything else. Tool definitions, tool
 * arguments and hook payloads arrive as JSON, where `\n`, `\u003c` and `\"` would hide words.
 */
export function jsonView(text: string): TextView | null {
  let first = 0;
  while (first < text.length && text.charCodeAt(first) <= 32) first++;
  const c0 = text[first];
  if (c0 !== "{" && c0 !== "[") return null;
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  const codes: number[] = [];
  const from: number[] = [];
  const to: number[] = [];
  const fields: Field[] = [];
  let lastKey = "";
  const n = text.length;
  let i = first;
  while (i < n) {
    if (text.charCodeAt(i) !== 0x22) {
      i++;
      continue;
    }
    if (codes.length > 0) {
      codes.push(10);
      from.push(i);
      to.push(i + 1);
    }
    const start = codes.length;
    i++;
    while (i < n) {
      const d = text.charCodeAt(i);
      if (d === 0x22) {
        i++;
        break;
      }
      if (d === 0x5c) {
        const e = text[i + 1]!;
        if (e === "u") {
          codes.push(parseInt(text.slice(i + 2, i + 6), 16));
          from.push(i);
          to.push(i + 6);
          i += 6;
        } else {
          codes.push(JSON_ESCAPES[e] ?? e.charCodeAt(0));
          from.push(i);
          to.push(i + 2);
          i += 2;
        }
      } else {
        codes.push(d);
        from.push(i);
        to.push(i + 1);
        i++;
      }
    }
    let j = i;
    while (j < n && text.charCodeAt(j) <= 32) j++;
    const isKey = text[j] === ":";
    if (isKey) lastKey = fromCodes(codes, start, codes.length);
    else fields.push({ start, end: codes.length, key: lastKey });
  }
  return { text: fromCodes(codes, 0, codes.length), from: Int32Array.from(from), to: Int32Array.from(to), fields };
}

/** Key of the JSON string value that holds view offset `at`, or `undefined`. */
export function fieldAt(view: TextView | null, at: number): string | undefined {
  const fields = view?.fields;
  if (!fields) return undefined;
  let lo = 0;
  let hi = fields.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const f = fields[mid]!;
    if (at < f.start) hi = mid - 1;
    else if (at >= f.end) lo = mid + 1;
    else return f.key;
  }
  return undefined;
}

function fromCodes(codes: ArrayLike<number> & { slice(start: number, end: number): ArrayLike<number> }, start: number, end: number): string {
  let out = "";
  for (let i = start; i < end; i += 8192) out += String.fromCharCode.apply(null, codes.slice(i, Math.min(end, i + 8192)) as number[]);
  return out;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Bytes of a base64 or base64url string, or `null` when it is not valid base64. */
export function base64Bytes(run: string): Uint8Array | null {
  let s = run.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) return null;
  s += "===".slice(0, (4 - (s.length % 4)) % 4);
  let binary: string;
  try {
    binary = atob(s);
  } catch {
    return null;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** UTF-8 text of `bytes` when it is printable and, by `minLetters`, mostly words; else `null`. */
export function printableText(bytes: Uint8Array, minLength = 8, minLetters = 0.5): string | null {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return null;
  }
  if (text.length < minLength) return null;
  let printable = 0;
  let letters = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 32 && c !== 127) || c === 9 || c === 10 || c === 13) printable++;
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 32 || c > 127) letters++;
  }
  return printable / text.length >= 0.95 && letters / text.length >= minLetters ? text : null;
}

/** Decoded text of a base64 run that hides readable text, else `null`. */
export function decodeBase64Text(run: string, minLetters = 0.5): string | null {
  const bytes = base64Bytes(run);
  return bytes ? printableText(bytes, 8, minLetters) : null;
}

function isBase64Code(c: number, newlines: boolean): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 95 || c === 45
    || (newlines && (c === 10 || c === 13));
}

/**
 * Maximal runs of the base64 or base64url alphabet (plus padding; with `newlines`, line
 * breaks too), at least `min` long: one pass, where a regex would retry inside every run.
 */
export function base64Spans(text: string, min: number, newlines = false): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  let i = 0;
  while (i < text.length) {
    if (!isBase64Code(text.charCodeAt(i), newlines)) {
      i++;
      continue;
    }
    const start = i;
    while (i < text.length && isBase64Code(text.charCodeAt(i), newlines)) i++;
    let end = i;
    while (end < text.length && end - i < 2 && text.charCodeAt(end) === 61) end++;
    if (i - start >= min) spans.push({ start, end });
    i = end > i ? end : i;
  }
  return spans;
}

interface Decoded {
  start: number;
  end: number;
  text: string;
}

const URL_TOKEN = /\bhttps?:\/\/[^\s"'<>)\]`]{1,4096}/g;

/** Base64 runs that decode to text, outside URLs: data carried in a URL is exfiltration's to judge, not an instruction. */
function base64Runs(text: string): Decoded[] {
  const runs: Decoded[] = [];
  const urls = matchesOf(URL_TOKEN, text).map((m) => [m.index, m.index + m[0].length] as const);
  let u = 0;
  // Long enough to hide a sentence.
  for (const { start, end } of base64Spans(text, 24)) {
    while (u < urls.length && urls[u]![1] <= start) u++;
    if (u < urls.length && urls[u]![0] < end) continue;
    const decoded = decodeBase64Text(text.slice(start, end));
    if (decoded) runs.push({ start, end, text: decoded });
  }
  return runs;
}

/** Format characters with no visible glyph: zero-width spaces and joiners, word joiner, BOM, soft hyphen… */
export function isZeroWidth(cp: number): boolean {
  return (cp >= 0x200b && cp <= 0x200d) || cp === 0x2060 || cp === 0xfeff || cp === 0x00ad || cp === 0x180e
    || (cp >= 0x2061 && cp <= 0x2064) || cp === 0x034f || cp === 0x115f || cp === 0x1160 || cp === 0x3164;
}

/** Bidirectional embeddings, overrides and isolates (the "Trojan Source" controls). */
export function isBidiControl(cp: number): boolean {
  return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/** Byte carried by a variation selector (VS1–VS256), or -1: runs of them smuggle bytes after one visible glyph. */
export function variationSelectorByte(cp: number): number {
  if (cp >= 0xfe00 && cp <= 0xfe0f) return cp - 0xfe00;
  if (cp >= 0xe0100 && cp <= 0xe01ef) return cp - 0xe0100 + 16;
  return -1;
}

function isSpace(cp: number): boolean {
  return cp === 32 || (cp >= 9 && cp <= 13) || cp === 0xa0 || cp === 0x85 || cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a)
    || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000;
}

function isCombiningMark(cp: number): boolean {
  return (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x1ab0 && cp <= 0x1aff) || (cp >= 0x1dc0 && cp <= 0x1dff)
    || (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0xfe20 && cp <= 0xfe2f);
}

// Typographic quotes and dashes fold to ASCII so rules need one spelling.
const PUNCTUATION: Record<number, string> = {
  0x2018: "'", 0x2019: "'", 0x201a: "'", 0x201b: "'", 0x2032: "'",
  0x201c: '"', 0x201d: '"', 0x201e: '"', 0x201f: '"', 0x2033: '"', 0xab: '"', 0xbb: '"',
  0x2010: "-", 0x2011: "-", 0x2012: "-", 0x2013: "-", 0x2014: "-", 0x2015: "-", 0x2212: "-",
};

const foldCache = new Map<number, string>();

/**
 * NFKC compatibility folding of one code point (fullwidth, ligatures, mathematical letters,
 * circled letters) and lower-casing; diacritics on Latin letters are dropped as well so that
 * "ïgnöre" reads "ignore" and rules for French or German need no accents. Other scripts keep
 * their marks (Cyrillic "й" stays "й").
 */
function fold(cp: number): string {
  let s = foldCache.get(cp);
  if (s !== undefined) return s;
  s = PUNCTUATION[cp];
  if (s === undefined) {
    let d = String.fromCodePoint(cp).normalize("NFKD");
    if (d.codePointAt(0)! < 0x250) d = d.replace(/[\u0300-\u036f]/g, "");
    s = d.normalize("NFC").toLowerCase();
  }
  if (foldCache.size < 8192) foldCache.set(cp, s);
  return s;
}

// Cyrillic, Greek and Armenian letters drawn like Latin ones; folded only inside words that
// also hold Latin letters, so Russian or Greek text stays intact.
const HOMOGLYPHS: Record<number, number> = {
  0x0430: 97, 0x0435: 101, 0x0451: 101, 0x0456: 105, 0x0457: 105, 0x0458: 106, 0x043e: 111, 0x0440: 112, 0x0441: 99,
  0x0443: 121, 0x0445: 120, 0x0455: 115, 0x0501: 100, 0x051b: 113, 0x051d: 119, 0x04bb: 104, 0x04cf: 108, 0x043a: 107,
  0x03b1: 97, 0x03b9: 105, 0x03ba: 107, 0x03bd: 118, 0x03bf: 111, 0x03c1: 112, 0x03c5: 117, 0x03c7: 120,
  0x0131: 105, 0x0251: 97, 0x0261: 103, 0x0585: 111, 0x057d: 117,
};

// Digits read as letters inside words that mix both ("1gn0r3").
const LEET: Record<number, number> = { 48: 111, 49: 105, 51: 101, 52: 97, 53: 115, 55: 116 };

/** Growable parallel buffers of normalised units and their provenance. */
class Builder {
  length = 0;
  codes: Uint16Array;
  from: Int32Array;
  to: Int32Array;
  hidden: Uint8Array;
  /** 1 on a space unit that stood for two or more whitespace characters (a word gap in letter-spaced text). */
  wide: Uint8Array;

  constructor(capacity: number) {
    const c = Math.max(16, capacity);
    this.codes = new Uint16Array(c);
    this.from = new Int32Array(c);
    this.to = new Int32Array(c);
    this.hidden = new Uint8Array(c);
    this.wide = new Uint8Array(c);
  }

  /** Empty again, with room for `capacity` units (every unit is written before it is read). */
  reset(capacity: number): this {
    this.length = 0;
    while (this.codes.length < capacity) this.grow();
    return this;
  }

  private grow(): void {
    const c = this.codes.length * 2;
    const widen = <T extends Uint16Array | Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(c);
      b.set(a);
      return b;
    };
    this.codes = widen(this.codes, (n) => new Uint16Array(n));
    this.from = widen(this.from, (n) => new Int32Array(n));
    this.to = widen(this.to, (n) => new Int32Array(n));
    this.hidden = widen(this.hidden, (n) => new Uint8Array(n));
    this.wide = widen(this.wide, (n) => new Uint8Array(n));
  }

  push(code: number, f: number, t: number, hidden: boolean): void {
    if (this.length === this.codes.length) this.grow();
    const k = this.length++;
    this.codes[k] = code;
    this.from[k] = f;
    this.to[k] = t;
    this.hidden[k] = hidden ? 1 : 0;
    this.wide[k] = 0;
  }

  space(newline: boolean, f: number, t: number): void {
    const last = this.length - 1;
    const prev = last >= 0 ? this.codes[last] : -1;
    if (prev === 32 || prev === 10) {
      if (newline) this.codes[last] = 10;
      this.to[last] = t;
      this.wide[last] = 1;
      return;
    }
    this.push(newline ? 10 : 32, f, t, false);
  }
}

interface Span {
  f: number;
  t: number;
}

/** Appends the normalised form of `src[start, end)`; `span` pins every unit to one original region. */
function walk(src: string, b: Builder, runs: readonly Decoded[], revealed: boolean, span?: Span): void {
  let pendingHidden = false;
  let r = 0;
  let i = 0;
  const n = src.length;
  while (i < n) {
    const run = runs[r];
    if (run && run.start === i) {
      walk(run.text, b, [], true, span ?? { f: run.start, t: run.end });
      i = run.end;
      r++;
      continue;
    }
    const c = src.charCodeAt(i);
    if (c < 0x80) {
      // ASCII, most of any text: lower-case it, collapse whitespace, nothing else to decide.
      const f = span ? span.f : i;
      const t = span ? span.t : i + 1;
      i++;
      if (c === 32 || (c >= 9 && c <= 13)) {
        b.space(c === 10 || c === 13, f, t);
      } else {
        b.push(c >= 65 && c <= 90 ? c + 32 : c, f, t, revealed || pendingHidden);
      }
      pendingHidden = false;
      continue;
    }
    let cp = src.codePointAt(i)!;
    const len = cp > 0xffff ? 2 : 1;
    const f = span ? span.f : i;
    const t = span ? span.t : i + len;
    let hidden = revealed || pendingHidden;
    if (cp >= 0xe0000 && cp <= 0xe007f) {
      // Unicode tag characters: invisible ASCII ("ASCII smuggling").
      i += len;
      if (cp < 0xe0020 || cp === 0xe007f) continue;
      cp -= 0xe0000;
      hidden = true;
    } else if (variationSelectorByte(cp) >= 0) {
      const bytes: number[] = [];
      let j = i;
      while (j < n) {
        const v = variationSelectorByte(src.codePointAt(j)!);
        if (v < 0) break;
        bytes.push(v);
        j += v < 16 ? 1 : 2;
      }
      const text = bytes.length >= 2 ? printableText(Uint8Array.from(bytes), 2) : null;
      if (text) walk(text, b, [], true, span ?? { f: i, t: j });
      i = j;
      continue;
    } else {
      i += len;
      if (isZeroWidth(cp)) {
        pendingHidden = true;
        continue;
      }
      if (isBidiControl(cp) || cp === 0x200e || cp === 0x200f || cp === 0x061c) continue;
    }
    if (isSpace(cp)) {
      b.space(cp === 10 || cp === 13 || cp === 0x2028 || cp === 0x2029 || cp === 0x85, f, t);
      pendingHidden = false;
      continue;
    }
    if (cp < 0x80) {
      b.push(cp >= 65 && cp <= 90 ? cp + 32 : cp, f, t, hidden);
    } else if (isCombiningMark(cp) && b.length > 0 && b.codes[b.length - 1]! < 0x250) {
      // Marks stacked on Latin letters (Zalgo text, decomposed accents) carry no meaning here.
      b.to[b.length - 1] = t;
      continue;
    } else {
      const s = fold(cp);
      for (let k = 0; k < s.length; k++) {
        const c = s.charCodeAt(k);
        if (c === 32) b.space(false, f, t);
        else b.push(c, f, t, hidden);
      }
    }
    pendingHidden = false;
  }
}

function isWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 0xc0 && !(c >= 0x2000 && c <= 0x206f) && !(c >= 0x3000 && c <= 0x303f));
}

/** Folds homoglyphs and leetspeak digits inside words that mix them with Latin letters. */
function foldMixedWords(b: Builder): void {
  const codes = b.codes;
  const n = b.length;
  let i = 0;
  while (i < n) {
    if (!isWordCode(codes[i]!)) {
      i++;
      continue;
    }
    let j = i;
    let latin = 0;
    let glyph = false;
    let digits = 0;
    while (j < n && isWordCode(codes[j]!)) {
      const c = codes[j]!;
      if (c >= 97 && c <= 122) latin++;
      else if (c >= 48 && c <= 57) digits++;
      else if (HOMOGLYPHS[c] !== undefined) glyph = true;
      j++;
    }
    // Leetspeak needs a word of letters with some digits in it, not "12v" or "3a".
    const leet = latin >= 2 && digits > 0 && digits <= latin;
    if (latin > 0 && (glyph || leet)) {
      for (let k = i; k < j; k++) {
        const c = codes[k]!;
        const glyph = HOMOGLYPHS[c];
        // Homoglyphs are deliberate; digits in words are also version numbers and URL escapes, so they fold but earn no bonus.
        if (glyph !== undefined) {
          codes[k] = glyph;
          b.hidden[k] = 1;
        } else if (leet && LEET[c] !== undefined) {
          codes[k] = LEET[c]!;
        }
      }
    }
    i = j;
  }
}

const SPACING_SEPARATORS = new Set([32, 46, 45, 95, 42, 124, 47, 43, 0xb7]);

/**
 * Joins letter-spaced text ("i g n o r e  a l l") into words: runs of at least five
 * one-letter tokens separated by one separator; a wide gap stays as the word break.
 */
function joinLetterSpacing(b: Builder): Builder {
  const codes = b.codes;
  const n = b.length;
  const drop = new Uint8Array(n);
  let any = false;
  const single = (k: number) => k < n && isWordCode(codes[k]!) && (k === 0 || !isWordCode(codes[k - 1]!)) && (k + 1 >= n || !isWordCode(codes[k + 1]!));
  let i = 0;
  while (i < n) {
    if (!single(i)) {
      i++;
      continue;
    }
    let j = i;
    let count = 1;
    let spaces = 0;
    while (j + 2 < n && SPACING_SEPARATORS.has(codes[j + 1]!) && single(j + 2)) {
      if (codes[j + 1] === 32) spaces++;
      j += 2;
      count++;
    }
    if (count >= 5) {
      any = true;
      // With dots or dashes between letters, the spaces are the word breaks ("i.g.n.o.r.e a.l.l").
      const spaceBreaks = spaces < (count - 1) / 2;
      for (let k = i; k <= j; k++) {
        b.hidden[k] = 1;
        if (k % 2 !== i % 2 && !(codes[k] === 32 && (b.wide[k] === 1 || spaceBreaks))) drop[k] = 1;
      }
    }
    i = j + 1;
  }
  if (!any) return b;
  const out = new Builder(n);
  for (let k = 0; k < n; k++) {
    if (drop[k]) continue;
    out.push(codes[k]!, b.from[k]!, b.to[k]!, b.hidden[k] === 1);
  }
  return out;
}

let memo: { input: string; result: Normalized } | undefined;

/**
 * The builder normalize() fills, kept between calls: it runs synchronously and copies its result
 * out, and five typed arrays allocated per call cost more than filling them for a short text.
 * A text longer than this builds in buffers of its own, so a rare large one is not held on to.
 */
const SCRATCH_UNITS = 64 * 1024;
const scratch = new Builder(1024);

/**
 * Normalised view of `text`: JSON string literals decoded, NFKC-folded and lower-cased,
 * zero-width and bidi controls removed, Unicode tag characters and variation-selector runs
 * decoded to the text they smuggle, base64 runs that hide readable text replaced by it,
 * homoglyphs and leetspeak folded in mixed words, letter-spaced words joined, and whitespace
 * collapsed to one space (or one newline when the run held a line break).
 */
export function normalize(text: string): Normalized {
  if (memo && memo.input === text) return memo.result;
  const json = jsonView(text);
  const src = json ? json.text : text;
  const capacity = src.length + 16;
  let b = capacity <= SCRATCH_UNITS ? scratch.reset(capacity) : new Builder(capacity);
  walk(src, b, base64Runs(src), false);
  foldMixedWords(b);
  b = joinLetterSpacing(b);
  const n = b.length;
  const from = b.from.slice(0, n);
  const to = b.to.slice(0, n);
  if (json) {
    for (let k = 0; k < n; k++) {
      from[k] = json.from[from[k]!]!;
      to[k] = json.to[to[k]! - 1]!;
    }
  }
  const result: Normalized = { text: fromCodes(b.codes, 0, n), from, to, hidden: b.hidden.slice(0, n) };
  memo = { input: text, result };
  return result;
}
