import type { Detector, Match } from "../types.ts";
import { PII_DIRECTIONS } from "./text.ts";

/**
 * The anchor: a USPS state or territory code and a ZIP (or ZIP+4). Everything before it is
 * read by hand, back to a house number and a street suffix, so a bare "CA 94105" or a city
 * line alone never counts: precision first.
 */
const STATE_ZIP = /\b(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|GU|VI|AS|MP) \d{5}(?:-\d{4})?(?![\w-])/g;
const SUFFIXES = new Set([
  "street", "st", "avenue", "ave", "av", "road", "rd", "boulevard", "blvd", "lane", "ln", "drive", "dr", "court", "ct",
  "way", "place", "pl", "terrace", "ter", "parkway", "pkwy", "circle", "cir", "highway", "hwy", "square", "sq", "trail",
  "trl", "plaza", "plz", "alley", "aly", "loop", "row", "pike", "expressway", "expy", "freeway", "fwy", "crescent", "path",
  "crossing", "xing", "commons", "broadway", "turnpike", "tpke", "causeway", "walk",
]);
const DIRECTIONS = new Set(["n", "s", "e", "w", "ne", "nw", "se", "sw", "north", "south", "east", "west"]);
const UNIT = /^(?:apt|apartment|suite|ste|unit|fl|floor|room|rm|bldg|building|#)\.?$/i;
const HOUSE_NUMBER = /^\d{1,6}[A-Za-z]?$/;
const PO_BOX = /^(?:p\.? ?o\.?|post office) box \d{1,6}$/i;
const CITY_WORD = /^[A-Z][A-Za-z.'-]{0,24}$/;
/** How far back from the state code an address may start. */
const LOOK_BACK = 160;

/** Start of the comma- or line-separated part of `head` that ends at `end`. */
const partStart = (head: string, end: number) => Math.max(head.lastIndexOf(",", end - 1), head.lastIndexOf("\n", end - 1)) + 1;
const bare = (token: string) => token.replace(/[.,]+$/, "").toLowerCase();

/** Offset (within `segment`) where a street line ending the segment starts, or -1. */
function streetStart(segment: string): number {
  const trimmed = segment.trimEnd();
  const tokens = trimmed.split(" ");
  // `PO Box 12`, `P.O. Box 12`, `P. O. Box 12`, `Post Office Box 12`: three or four words.
  for (const n of [3, 4]) {
    const box = tokens.slice(-n).join(" ");
    if (tokens.length >= n && PO_BOX.test(box)) return trimmed.length - box.length;
  }
  let i = tokens.length - 1;
  // An optional unit after the street: `… St Apt 4B`, `… Ave #12`, `… Blvd Suite 200`.
  if (i >= 1 && UNIT.test(tokens[i - 1]!)) i -= 2;
  else if (tokens[i]?.startsWith("#")) i -= 1;
  if (i >= 0 && DIRECTIONS.has(bare(tokens[i]!)) && i >= 1 && SUFFIXES.has(bare(tokens[i - 1]!))) i -= 1;
  if (i < 1 || !SUFFIXES.has(bare(tokens[i]!))) return -1;
  // One to five name words (`Main`, `Martin Luther King Jr`, `5th`, `N`) back to the house
  // number; `Broadway` is a whole street name on its own.
  const minWords = bare(tokens[i]!) === "broadway" ? 0 : 1;
  for (let j = i - 1; j >= 0 && j >= i - 6; j--) {
    const t = tokens[j]!;
    // The number may be glued to what precedes it in code or markup: `"address":"12`, `(12`.
    let k = t.length;
    while (k > 0 && /[0-9A-Za-z]/.test(t[k - 1]!)) k--;
    const number = t.slice(k);
    if (HOUSE_NUMBER.test(number) && j < i - minWords) return tokens.slice(0, j + 1).join(" ").length - number.length;
    if (number !== t || !/^[A-Z0-9][A-Za-z0-9.'-]*$/.test(t)) return -1;
  }
  return -1;
}

export const usAddress: Detector = {
  id: "us_address",
  category: "pii",
  placeholder: "US_ADDRESS",
  description: "US street addresses with house number, street suffix, city, state code and ZIP",
  directions: PII_DIRECTIONS,
  detect(text) {
    const matches: Match[] = [];
    STATE_ZIP.lastIndex = 0;
    for (let m = STATE_ZIP.exec(text); m; m = STATE_ZIP.exec(text)) {
      const end = m.index + m[0].length;
      const from = Math.max(0, m.index - LOOK_BACK);
      const head = text.slice(from, m.index);
      // City: the words after the last comma or line break, before the state code.
      const cut = Math.max(head.lastIndexOf(",", head.length - 3), head.lastIndexOf("\n"));
      if (cut <= 0) continue;
      let city = head.slice(cut + 1).trim();
      if (city.endsWith(",")) city = city.slice(0, -1);
      const cityWords = city.split(" ");
      if (cityWords.length > 4 || !cityWords.every((w) => CITY_WORD.test(w))) continue;
      // Street: the comma- or line-separated part before the city, skipping one unit part (`Apt 4B`).
      let streetEnd = cut;
      let segmentStart = partStart(head, streetEnd);
      const firstWord = head.slice(segmentStart, streetEnd).trim().split(" ")[0]!;
      if (UNIT.test(firstWord) || firstWord.startsWith("#")) {
        streetEnd = segmentStart - 1;
        if (streetEnd <= 0) continue;
        segmentStart = partStart(head, streetEnd);
      }
      const segment = head.slice(segmentStart, streetEnd);
      const leading = segment.length - segment.trimStart().length;
      const offset = streetStart(segment.trimStart());
      if (offset === -1) continue;
      matches.push({ start: from + segmentStart + leading + offset, end, score: 0.85 });
    }
    return matches;
  },
};
