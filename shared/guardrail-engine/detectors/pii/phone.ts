import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";
import type { Detector, Match } from "../types.ts";
import { cardIssuer } from "./credit-card.ts";
import { forEachDigitRun, groupLengths, type DigitRun } from "./digit-runs.ts";
import { luhnValid } from "./luhn.ts";
import { PII_DIRECTIONS, hasContext, isDigit, isStandalone, isTrivialSequence } from "./text.ts";

/** Gaps that join the digit groups of one written phone number: `(415) 555-2671`, `0221 / 123 45 67`, `+44 (0)20`. */
const GAPS = new Set([" ", "-", ".", "/", " / ", ")", ") ", ")-", " (", "-(", "\u00a0"]);
const PHONE_CONTEXT = /\b(?:phone|phones|tel|telephone|mobile|cell|cellphone|call|calls|called|calling|fax|whatsapp|sms|text me|contact|dial|ring|reach me|number|handy|telefon|téléphone|portable|mob|ph)\b/;
/** Labels of numbers that share a phone number's shape but are something else. */
const OTHER_NUMBER = /\b(?:order|invoice|tracking|ticket|ref|reference|sku|serial|account|acct|isbn|id|case|po|batch|lot|policy|claim|version|build|part|zip|postal|routing|buffer|bytes|hex|dump)\b/;
const CURRENCY_BEFORE = /(?:[$€£¥₹]|\b(?:usd|eur|gbp|inr|rs\.?|chf|jpy))\s?$/;
const CURRENCY_AFTER = /^\s?(?:[$€£¥₹%]|(?:usd|eur|gbp|inr|chf|jpy|dollars|euros|pounds|rupees|ms|kb|mb|gb|km|kg)\b)/;
/** A number right after one of these is part of a path, an id or an expression: `/v2/…`, `#…`, `x-…`. */
const ATTACHED_BEFORE = new Set(["-", "+", "/", "\\", "#", "@", ".", "_", "*", "^"]);
/** Countries whose national numbers keep a trunk `0` in writing, tried in order. */
const TRUNK_ZERO: CountryCode[] = ["GB", "DE", "FR", "NL", "IT", "IN", "AU"];

/** `2024-05-01`, `01/05/2024`, `1.5.24`: the digit groups of a date. */
function looksLikeDate(lengths: number[], gaps: string[]): boolean {
  if (lengths.length !== 3) return false;
  const [a, b, c] = lengths as [number, number, number];
  if (a === 4 && b <= 2 && c <= 2) return true;
  return a <= 2 && b <= 2 && (c === 4 || c === 2) && gaps.every((g) => g === "/" || g === "." || g === "-");
}

/** Versions, IPv4 addresses and decimals are dotted numbers with short or few groups. */
function looksLikeDottedNumber(lengths: number[], gaps: string[], international: boolean): boolean {
  if (!gaps.includes(".")) return false;
  if (lengths.length === 2) return true;
  if (lengths.length === 4 && lengths.every((l) => l <= 3)) return true;
  return lengths.some((l, i) => l === 1 && !(international && i === 0));
}

/**
 * National forms are read against the countries whose numbering and way of writing fit:
 * pairs (`06 12 34 56 78`) are French, unless they sit among hex bytes; numbers without a trunk `0` (US, India, Spain) open
 * with a group of at least three digits (or NANP's `1`), so `98 87 91 76 88` is a list of scores.
 */
function nationalCountries(digits: string, lengths: number[], parenthesized: boolean, inHexDump: boolean): CountryCode[] {
  if (lengths.length > 1 && lengths.every((l) => l === 2)) return digits[0] === "0" && !inHexDump ? ["FR"] : [];
  if (digits[0] === "0") return TRUNK_ZERO;
  const nanpTrunk = digits.length === 11 && lengths[0] === 1 && digits[0] === "1"; // 1 (212) 736-5000
  if (lengths[0]! < 3 && !parenthesized && !nanpTrunk) return [];
  const countries: CountryCode[] = [];
  if (digits.length === 10 || (digits.length === 11 && digits[0] === "1")) countries.push("US");
  if (digits.length === 10 && digits[0]! >= "6") countries.push("IN");
  if (digits.length === 9 && digits[0]! >= "6") countries.push("ES");
  return countries;
}

/** True after `DE89 3704 ` or `NL91 ABNA `: the digits are the tail of a spaced IBAN, valid or not. */
function afterIbanGroups(text: string, start: number): boolean {
  // Walk back over at most seven four-character groups, each preceded by one space.
  for (let k = start; k >= 5 && start - k <= 35 && text[k - 1] === " "; k -= 5) {
    const group = text.slice(k - 5, k - 1);
    if (!/^[A-Za-z0-9]{4}$/.test(group) || /\w/.test(text[k - 6] ?? "")) return false;
    if (/^[A-Z]{2}\d{2}$/.test(group)) return true;
  }
  return false;
}

function isValidNumber(written: string, country: CountryCode | undefined): boolean {
  return parsePhoneNumberFromString(written, { defaultCountry: country, extract: false })?.isValid() === true;
}

function detectRun(text: string, lower: string, run: DigitRun): Match | undefined {
  let start = run.start;
  const end = run.end;
  const plus = text[start - 1] === "+" || (text[start - 1] === "(" && text[start - 2] === "+");
  if (plus) start = text[start - 1] === "+" ? start - 1 : start - 2;
  else if (text[start - 1] === "(") start--;
  const digits = run.digits;
  const international = plus || digits.startsWith("00");
  if (digits.length < (international ? 8 : 9) || digits.length > (digits.startsWith("00") ? 17 : 15)) return undefined;

  // Whole token only; not glued to a clock time, a currency or a unit.
  if (!isStandalone(text, start, end) || ATTACHED_BEFORE.has(text[start - 1] ?? "")) return undefined;
  if (text[end] === ":" && isDigit(text, end + 1)) return undefined;
  if (text[start - 1] === ":" && isDigit(text, start - 2)) return undefined;
  if (CURRENCY_BEFORE.test(lower.slice(Math.max(0, start - 5), start))) return undefined;
  if (CURRENCY_AFTER.test(lower.slice(end, end + 9))) return undefined;

  const lengths = groupLengths(run);
  if (looksLikeDate(lengths, run.gaps) || looksLikeDottedNumber(lengths, run.gaps, plus)) return undefined;
  // AAA-GG-SSSS is how social security numbers are written, and 12345-6789 is a ZIP+4.
  if (lengths.length === 3 && lengths[0] === 3 && lengths[1] === 2 && lengths[2] === 4) return undefined;
  if (lengths.length === 2 && lengths[0] === 5 && lengths[1] === 4 && run.gaps[0] === "-") return undefined;
  if (isTrivialSequence(digits) || afterIbanGroups(text, start)) return undefined;
  if (!international && cardIssuer(digits) && luhnValid(digits)) return undefined;

  const context = hasContext(lower, start, end, PHONE_CONTEXT);
  if (!context && hasContext(lower, start, end, OTHER_NUMBER, 20, 0)) return undefined;
  // A bare run of digits is as likely an id as a number to call; it needs a word like "phone".
  if (run.gaps.length === 0 && !plus && !context) return undefined;

  const written = text.slice(start, end);
  if (international) {
    const e164 = plus ? written : `+${digits.slice(2)}`;
    if (!isValidNumber(e164, undefined)) return undefined;
    return { start, end, score: context ? 0.95 : 0.85, rule: "international" };
  }
  // `… 0a 02 82 01 01 00 b6 …`: pairs between hex bytes are a dump, not a French number.
  const hexPair = (at: number) => /^[0-9a-f]{2}$/i.test(text.slice(at, at + 2)) && !/\w/.test(text[at - 1] ?? "") && !/\w/.test(text[at + 2] ?? "");
  const inHexDump = hexPair(start - 3) || hexPair(end + 1);
  const countries = nationalCountries(digits, lengths, text[start] === "(", inHexDump);
  if (!countries.some((country) => isValidNumber(written, country))) return undefined;
  return { start, end, score: context ? 0.9 : 0.7, rule: "national" };
}

export const phone: Detector = {
  id: "phone",
  category: "pii",
  placeholder: "PHONE",
  description: "Phone numbers in international (E.164) and national forms, validated against numbering plans",
  directions: PII_DIRECTIONS,
  detect(text, { lower }) {
    const matches: Match[] = [];
    forEachDigitRun(text, (gap) => GAPS.has(gap), 17, (run) => {
      const match = detectRun(text, lower, run);
      if (match) matches.push(match);
    });
    return matches;
  },
};
