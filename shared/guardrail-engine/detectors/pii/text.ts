import type { Direction } from "../types.ts";

/** PII matters wherever data flows; tool descriptions are authored text, checked for poisoning instead. */
export const PII_DIRECTIONS: readonly Direction[] = ["prompt", "response", "tool_args", "tool_result", "hook"];

/** [0-9A-Za-z_]: a match touching one of these is part of a longer token. */
export function isWordChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

export function isDigit(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/**
 * True when the span [start, end) is a whole token: no word character on either side and no
 * decimal point or thousands separator joining it to more digits (`3.14…`, `…,000`).
 */
export function isStandalone(text: string, start: number, end: number): boolean {
  if (isWordChar(text, start - 1) || isWordChar(text, end)) return false;
  const before = text[start - 1];
  if ((before === "." || before === ",") && isDigit(text, start - 2)) return false;
  const after = text[end];
  if ((after === "." || after === ",") && isDigit(text, end + 1)) return false;
  return true;
}

/**
 * True when `words` (a regex of whole lower-case words, no repetition inside) matches within
 * `before` characters ahead of the span or `after` characters behind it. Offsets index
 * `lower`, which equals the text's length except for the rare characters whose lower case
 * is longer; a context window tolerates that drift.
 */
export function hasContext(lower: string, start: number, end: number, words: RegExp, before = 48, after = 32): boolean {
  const window = `${lower.slice(Math.max(0, start - before), start)} \u0000 ${lower.slice(end, end + after)}`;
  return words.test(window);
}

/**
 * All digits equal, or each digit one more (or one less) than the previous, modulo 10:
 * `0000…`, `1234567890…`, `9876…`. Nobody's real number looks like that.
 */
export function isTrivialSequence(digits: string): boolean {
  if (digits.length < 3) return false;
  const step = (digits.charCodeAt(1) - digits.charCodeAt(0) + 10) % 10;
  if (step !== 0 && step !== 1 && step !== 9) return false;
  for (let i = 2; i < digits.length; i++) {
    if ((digits.charCodeAt(i) - digits.charCodeAt(i - 1) + 10) % 10 !== step) return false;
  }
  return true;
}
