import type { Detector, Match } from "../types.ts";
import { PII_DIRECTIONS, hasContext, isWordChar } from "./text.ts";

/** IBAN length per country (ISO 13616 registry): every SEPA country and the other issuers. */
const IBAN_LENGTH: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28,
  IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20,
  LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28,
  NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24,
  SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26,
  UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
  // French overseas territories under their own codes, and Åland under Finland's format.
  BL: 27, GF: 27, GP: 27, MF: 27, MQ: 27, NC: 27, PF: 27, PM: 27, RE: 27, TF: 27, WF: 27, YT: 27, AX: 18,
};

/** Country code and check digits; the rest is read by hand so spacing stays in groups of four. */
const IBAN_START = /\b[A-Za-z]{2}\d{2}/g;
const IBAN_CONTEXT = /\b(?:iban|bank|account|acct|sepa|transfer|wire|bic|swift|remittance|beneficiary|payee)\b/;

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** ISO 7064 mod 97-10 over the rearranged IBAN (BBAN, then country and check digits); valid when 1. */
export function ibanChecksumValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let r = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    r = c <= 57 ? (r * 10 + (c - 48)) % 97 : (r * 100 + (c - 55)) % 97;
  }
  return r === 1;
}

export const iban: Detector = {
  id: "iban",
  category: "pii",
  placeholder: "IBAN",
  description: "International bank account numbers with a valid per-country length and mod-97 check",
  directions: PII_DIRECTIONS,
  detect(text, { lower }) {
    const matches: Match[] = [];
    IBAN_START.lastIndex = 0;
    for (let m = IBAN_START.exec(text); m; m = IBAN_START.exec(text)) {
      const start = m.index;
      const length = IBAN_LENGTH[m[0].slice(0, 2).toUpperCase()];
      if (!length) continue;
      // Check digits 00, 01 and 99 cannot result from the mod-97 computation.
      const check = m[0].slice(2);
      if (check === "00" || check === "01" || check === "99") continue;
      let value = m[0].toUpperCase();
      let i = start + 4;
      while (value.length < length) {
        // A single space is allowed only between groups of four, as IBANs are printed.
        if (value.length % 4 === 0 && text.charCodeAt(i) === 32) i++;
        const c = text.charCodeAt(i);
        if (!isAlnum(c)) break;
        value += text[i]!.toUpperCase();
        i++;
      }
      if (value.length < length || isWordChar(text, i) || !ibanChecksumValid(value)) continue;
      const score = hasContext(lower, start, i, IBAN_CONTEXT) ? 0.98 : 0.92;
      matches.push({ start, end: i, score });
      IBAN_START.lastIndex = i;
    }
    return matches;
  },
};
