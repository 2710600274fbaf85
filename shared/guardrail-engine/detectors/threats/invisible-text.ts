import type { Detector, Match } from "../types.ts";
import { isBidiControl, isZeroWidth, printableText, variationSelectorByte } from "./normalize.ts";

/**
 * Text a human reviewer cannot see: Unicode tag characters and variation-selector runs that
 * smuggle ASCII, runs or sprinkles of zero-width characters, and bidi controls that reorder
 * what is displayed ("Trojan Source"). Legitimate uses are recognised and skipped: emoji ZWJ
 * sequences, ZWNJ/ZWJ in Arabic and Indic scripts, a leading BOM, subdivision flags, and
 * bidi embeddings inside right-to-left text.
 */

// A decoded payload that reads like an instruction to a model.
const INSTRUCTION_WORDS = /\b(?:ignore|disregard|instructions?|you must|you should|always|never|do not|don't|send|call|invoke|tool|user|system|assistant|read|include|password|secret|https?|url|reply|respond|output|print|execute|run|forget|reveal)\b/gi;
const INSTRUCTION_BONUS = 0.25;

function readsAsInstruction(text: string): boolean {
  return new Set(text.toLowerCase().match(INSTRUCTION_WORDS) ?? []).size >= 2;
}

function isPictographic(cp: number): boolean {
  return cp >= 0x1f000 || (cp >= 0x2600 && cp <= 0x27bf) || cp === 0xfe0f || (cp >= 0x2190 && cp <= 0x21ff) || (cp >= 0x2b00 && cp <= 0x2bff) || cp === 0x20e3;
}

/** Scripts that use ZWNJ/ZWJ for shaping: Arabic, Syriac, Thaana, N'Ko, Indic, Sinhala, Thai… Myanmar. */
function isJoiningScript(cp: number): boolean {
  return (cp >= 0x0600 && cp <= 0x08ff) || (cp >= 0x0900 && cp <= 0x109f) || (cp >= 0xfb50 && cp <= 0xfdff) || (cp >= 0xfe70 && cp <= 0xfefe) || (cp >= 0x1780 && cp <= 0x17ff);
}

function isRightToLeft(cp: number): boolean {
  return (cp >= 0x0590 && cp <= 0x08ff) || (cp >= 0xfb1d && cp <= 0xfdff) || (cp >= 0xfe70 && cp <= 0xfefe) || (cp >= 0x10800 && cp <= 0x10fff) || (cp >= 0x1e800 && cp <= 0x1efff);
}

function codePointBefore(text: string, i: number): number {
  if (i <= 0) return -1;
  const low = text.charCodeAt(i - 1);
  if (low >= 0xdc00 && low <= 0xdfff && i >= 2) return text.codePointAt(i - 2)!;
  return low;
}

/** Two-symbol zero-width runs are a known steganography: read them as bits, both ways round. */
function decodeBits(run: string): string | null {
  const counts = new Map<string, number>();
  for (const c of run) counts.set(c, (counts.get(c) ?? 0) + 1);
  const symbols = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 2).map((e) => e[0]);
  if (symbols.length < 2) return null;
  for (const zero of symbols) {
    const bits = [...run].filter((c) => symbols.includes(c)).map((c) => (c === zero ? 0 : 1));
    const bytes = new Uint8Array(bits.length >> 3);
    for (let k = 0; k < bytes.length; k++) {
      let v = 0;
      for (let b = 0; b < 8; b++) v = (v << 1) | bits[k * 8 + b]!;
      bytes[k] = v;
    }
    const text = printableText(bytes, 2);
    if (text) return text;
  }
  return null;
}

interface Sprinkle {
  start: number;
  end: number;
  count: number;
}

const SPRINKLE_GAP = 200;

function detectInvisible(text: string): Match[] {
  const matches: Match[] = [];
  const sprinkles: Sprinkle[] = [];
  const n = text.length;
  // Bidi controls are scored once per line: the end of the last line scored.
  let bidiScanned = 0;
  let i = 0;
  while (i < n) {
    const cp = text.codePointAt(i)!;
    const len = cp > 0xffff ? 2 : 1;
    if (cp >= 0xe0000 && cp <= 0xe007f) {
      let j = i;
      let decoded = "";
      while (j < n) {
        const t = text.codePointAt(j)!;
        if (t < 0xe0000 || t > 0xe007f) break;
        if (t >= 0xe0020 && t <= 0xe007e) decoded += String.fromCharCode(t - 0xe0000);
        j += 2;
      }
      // Subdivision flags (🏴 + tag letters + cancel tag) are the one sanctioned use.
      const flag = codePointBefore(text, i) === 0x1f3f4 && text.codePointAt(j - 2) === 0xe007f && j - i <= 16;
      if (!flag) matches.push({ start: i, end: j, score: Math.min(1, 0.7 + (readsAsInstruction(decoded) ? INSTRUCTION_BONUS : 0)), rule: "tag_characters" });
      i = j;
      continue;
    }
    if (variationSelectorByte(cp) >= 16) {
      const bytes: number[] = [];
      let j = i;
      while (j < n) {
        const v = variationSelectorByte(text.codePointAt(j)!);
        if (v < 0) break;
        bytes.push(v);
        j += v < 16 ? 1 : 2;
      }
      const decoded = bytes.length >= 2 ? printableText(Uint8Array.from(bytes), 2) : null;
      if (decoded) matches.push({ start: i, end: j, score: Math.min(1, 0.7 + (readsAsInstruction(decoded) ? INSTRUCTION_BONUS : 0)), rule: "variation_selector_smuggling" });
      i = j;
      continue;
    }
    if (isZeroWidth(cp)) {
      let j = i;
      while (j < n && isZeroWidth(text.charCodeAt(j))) j++;
      const runLength = j - i;
      const before = codePointBefore(text, i);
      const after = j < n ? text.codePointAt(j)! : -1;
      const legit = runLength <= 2 && (
        (cp === 0xfeff && i === 0)
        || (cp === 0x00ad)
        || (cp === 0x200d && isPictographic(before) && isPictographic(after))
        || ((cp === 0x200c || cp === 0x200d) && (isJoiningScript(before) || isJoiningScript(after))));
      if (!legit) {
        if (runLength >= 3 && !/^\u00ad+$/.test(text.slice(i, j))) {
          const decoded = runLength >= 16 ? decodeBits(text.slice(i, j)) : null;
          const score = 0.6 + (runLength >= 16 ? 0.1 : 0) + (decoded && readsAsInstruction(decoded) ? INSTRUCTION_BONUS : 0);
          matches.push({ start: i, end: j, score: Math.min(1, score), rule: "zero_width_run" });
        } else if (cp !== 0x00ad) {
          const last = sprinkles[sprinkles.length - 1];
          if (last && i - last.end <= SPRINKLE_GAP) {
            last.end = j;
            last.count += runLength;
          } else {
            sprinkles.push({ start: i, end: j, count: runLength });
          }
        }
      }
      i = j;
      continue;
    }
    if (isBidiControl(cp)) {
      if (i >= bidiScanned) bidiScanned = bidiLine(text, i, matches);
      i += 1;
      continue;
    }
    i += len;
  }
  for (const s of sprinkles) {
    // Zero-width characters sprinkled through words split them so keyword filters miss them.
    const visible = text.slice(Math.max(0, s.start - 40), s.end + 40).replace(/[\u200b-\u200d\u2060\ufeff\u180e\u2061-\u2064]/g, "");
    const base = s.count >= 6 ? 0.7 : s.count >= 3 ? 0.6 : 0.3;
    const score = base + (s.count >= 2 && readsAsInstruction(visible) ? INSTRUCTION_BONUS : 0);
    matches.push({ start: s.start, end: s.end, score: Math.min(1, score), rule: "zero_width_split" });
  }
  return mergeAdjacent(matches.filter((m) => m.score >= 0.5).sort((a, b) => a.start - b.start));
}

/** Findings of one rule close together are one finding: a file of bidi lines is one problem, not thousands. */
function mergeAdjacent(matches: Match[]): Match[] {
  const out: Match[] = [];
  for (const m of matches) {
    const last = out[out.length - 1];
    if (last && last.rule === m.rule && m.start - last.end <= SPRINKLE_GAP) {
      last.end = Math.max(last.end, m.end);
      last.score = Math.max(last.score, m.score);
    } else {
      out.push({ ...m });
    }
  }
  return out;
}

/** Scores the line that holds the bidi control at `at`; returns the offset where that line ends. */
function bidiLine(text: string, at: number, matches: Match[]): number {
  const lineStart = text.lastIndexOf("\n", at) + 1;
  let lineEnd = text.indexOf("\n", at);
  if (lineEnd < 0) lineEnd = text.length;
  let overrides = 0;
  let opens = 0;
  let closes = 0;
  let rtl = false;
  let first = -1;
  let last = -1;
  for (let k = lineStart; k < lineEnd; k++) {
    const cp = text.codePointAt(k)!;
    if (isBidiControl(cp)) {
      if (first < 0) first = k;
      last = k + 1;
      if (cp === 0x202d || cp === 0x202e) overrides++;
      if (cp === 0x202c || cp === 0x2069) closes++;
      else opens++;
    } else if (isRightToLeft(cp)) {
      rtl = true;
    }
    if (cp > 0xffff) k++;
  }
  // Embeddings and isolates are how right-to-left text embeds left-to-right words; in a
  // line with no right-to-left letters they only serve to reorder what is displayed.
  let score = overrides > 0 ? (rtl ? 0.4 : 0.7) : rtl ? 0.2 : 0.55;
  if (opens > closes) score += 0.15;
  matches.push({ start: first, end: last, score: Math.min(1, score), rule: overrides > 0 ? "bidi_override" : "bidi_isolate" });
  return lineEnd;
}

export const invisibleText: Detector = {
  id: "invisible_text",
  category: "injection",
  placeholder: "INVISIBLE_TEXT",
  description: "Invisible or reordered text: Unicode tag characters and variation selectors that smuggle ASCII, zero-width characters, and bidi overrides or isolates (Trojan Source).",
  directions: ["prompt", "tool_result", "tool_description", "response", "hook"],
  keywords: ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u180e", "\u2061", "\u2062", "\u2063", "\u2064", "\u3164", "\u115f", "\u1160", "\u00ad",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\udb40"],
  detect: detectInvisible,
};
