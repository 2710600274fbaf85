import type { Detector, Match } from "./detectors/types.ts";

/** Tiny detectors with obvious rules, so engine tests do not depend on the real catalogue's tuning. */
function regexDetector(id: string, category: Detector["category"], placeholder: string, pattern: RegExp): Detector {
  return {
    id, category, placeholder, description: `test ${id}`,
    directions: ["prompt", "response", "tool_args", "tool_result", "tool_description", "hook"],
    detect(text) {
      const matches: Match[] = [];
      for (const m of text.matchAll(pattern)) matches.push({ start: m.index, end: m.index + m[0].length, score: 0.9 });
      return matches;
    },
  };
}

export const TEST_DETECTORS: Detector[] = [
  regexDetector("test_key", "secret", "TEST_KEY", /\bkey-[a-z0-9]{12}\b/g),
  regexDetector("test_email", "pii", "EMAIL", /\b[a-z]+@[a-z]+\.test\b/g),
  regexDetector("test_injection", "injection", "INJECTION", /ignore all previous instructions/g),
];
