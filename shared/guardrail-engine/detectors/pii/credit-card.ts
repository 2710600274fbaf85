import type { Detector, Match } from "../types.ts";
import { forEachDigitRun, groupLengths } from "./digit-runs.ts";
import { luhnValid } from "./luhn.ts";
import { PII_DIRECTIONS, hasContext, isStandalone, isTrivialSequence } from "./text.ts";

const CARD_CONTEXT = /\b(?:card|cards|visa|mastercard|master card|amex|american express|discover|diners|jcb|unionpay|cc|ccn|pan|credit|debit|payment|pay|exp|expiry|expires|cvv|cvc|cv2|billing|checkout)\b/;
/** Labels of numbers that share a card's shape but are something else. */
const OTHER_NUMBER = /\b(?:order|tracking|invoice|shipment|parcel|imei|isbn|serial|sku|barcode|ean|upc)\b/;

/** Card brand from the issuer prefix (IIN) and length, or undefined if none issues such a number. */
export function cardIssuer(d: string): string | undefined {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  const p6 = Number(d.slice(0, 6));
  if (d[0] === "4" && (n === 13 || n === 16 || n === 19)) return "visa";
  if (n === 16 && ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))) return "mastercard";
  if (n === 15 && (p2 === 34 || p2 === 37)) return "amex";
  if (n < 14) return undefined;
  if (n >= 16 && (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65 || (p6 >= 622126 && p6 <= 622925))) return "discover";
  if ((p3 >= 300 && p3 <= 305) || p4 === 3095 || p2 === 36 || p2 === 38 || p2 === 39) return "diners";
  if (n >= 16 && p4 >= 3528 && p4 <= 3589) return "jcb";
  if (n >= 16 && p2 === 62) return "unionpay";
  return undefined;
}

/** Printed groupings: 4-4-4-4(-3), 4-4-4-1 (13-digit Visa), Amex 4-6-5, Diners 4-6-4. */
function cardGrouping(lengths: number[]): boolean {
  if (lengths.length === 1) return true;
  if (lengths.length === 3 && lengths[0] === 4 && lengths[1] === 6) return lengths[2] === 4 || lengths[2] === 5;
  const last = lengths[lengths.length - 1]!;
  return last >= 1 && last <= 4 && lengths.slice(0, -1).every((l) => l === 4);
}

export const creditCard: Detector = {
  id: "credit_card",
  category: "pii",
  placeholder: "CREDIT_CARD",
  description: "Payment card numbers (Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay) that pass the Luhn check",
  directions: PII_DIRECTIONS,
  detect(text, { lower }) {
    const matches: Match[] = [];
    forEachDigitRun(
      text,
      // One kind of single separator per number (`4111 1111-1111 1111` is not how cards are
      // written), and printed groups are at most six digits: `4111111111111111 5555555555554444`
      // is two numbers.
      (gap, first, before, after) => (gap === " " || gap === "-") && (first === undefined || gap === first) && before <= 6 && after <= 6,
      19,
      (run) => {
        const d = run.digits;
        if (d.length < 13 || !isStandalone(text, run.start, run.end)) return;
        if (!cardGrouping(groupLengths(run))) return;
        const issuer = cardIssuer(d);
        if (!issuer || !luhnValid(d) || isTrivialSequence(d)) return;
        const context = hasContext(lower, run.start, run.end, CARD_CONTEXT);
        if (!context && hasContext(lower, run.start, run.end, OTHER_NUMBER, 24, 0)) return;
        const score = context ? 0.95 : run.gaps.length > 0 ? 0.85 : 0.8;
        matches.push({ start: run.start, end: run.end, score, rule: issuer });
      },
    );
    return matches;
  },
};
