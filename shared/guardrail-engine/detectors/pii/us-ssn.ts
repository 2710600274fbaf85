import type { Detector, Match } from "../types.ts";
import { PII_DIRECTIONS, hasContext, isStandalone, isTrivialSequence } from "./text.ts";

/** AAA-GG-SSSS with dashes, spaces or nothing between; the separators are compared in code. */
const SSN = /(?<![\w+-])(\d{3})([ -]?)(\d{2})([ -]?)(\d{4})(?![\w-])/g;
const SSN_CONTEXT = /\b(?:ssn|ssns|social security|social sec|soc sec|ss#|ss no|taxpayer|itin)/;
/** An unlabelled 3-2-4 number next to these is a phone extension or a local number. */
const PHONE_CONTEXT = /\b(?:phone|tel|fax|ext|call|mobile|cell)\b/;
/** Published or advertised numbers that the SSA voided. */
const VOID = new Set(["078051120", "219099999", "123456789"]);

export const usSsn: Detector = {
  id: "us_ssn",
  category: "pii",
  placeholder: "US_SSN",
  description: "US Social Security numbers (AAA-GG-SSSS; bare nine digits only next to a word like SSN)",
  directions: PII_DIRECTIONS,
  detect(text, { lower }) {
    const matches: Match[] = [];
    SSN.lastIndex = 0;
    for (let m = SSN.exec(text); m; m = SSN.exec(text)) {
      const [whole, area, sep, group, sep2, serial] = m as unknown as [string, string, string, string, string, string];
      const start = m.index;
      const end = start + whole.length;
      if (sep !== sep2 || !isStandalone(text, start, end)) continue;
      const a = Number(area);
      if (a === 0 || a === 666 || a >= 900 || group === "00" || serial === "0000") continue;
      const digits = area + group + serial;
      if (VOID.has(digits) || isTrivialSequence(digits)) continue;
      const context = hasContext(lower, start, end, SSN_CONTEXT);
      if (!context && (sep === "" || hasContext(lower, start, end, PHONE_CONTEXT, 24, 0))) continue;
      const score = context ? 0.95 : sep === "-" ? 0.7 : 0.55;
      matches.push({ start, end, score, rule: sep === "" ? "bare" : sep === "-" ? "dashed" : "spaced" });
    }
    return matches;
  },
};
