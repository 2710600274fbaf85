/**
 * Every match of a global regex in `text`, as `text.matchAll(pattern)` gives them, without
 * the copy of the regex that `matchAll` makes on each call: on the short strings of a
 * prompt or a tool call, those copies cost the detectors more than the matching did.
 * Module-level patterns are safe to share because the matches are collected before this
 * returns, and `lastIndex` is left at 0.
 */
export function matchesOf(pattern: RegExp, text: string): RegExpExecArray[] {
  if (!pattern.global) throw new TypeError("matchesOf needs a global regex");
  const matches: RegExpExecArray[] = [];
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    matches.push(m);
    // An empty match does not move lastIndex: step past it (by code point under the u and v flags, as matchAll does).
    if (m[0] === "") pattern.lastIndex = nextIndex(text, pattern.lastIndex, pattern.unicode || pattern.unicodeSets);
  }
  pattern.lastIndex = 0;
  return matches;
}

function nextIndex(text: string, index: number, byCodePoint: boolean): number {
  return index + (byCodePoint && (text.codePointAt(index) ?? 0) > 0xffff ? 2 : 1);
}
