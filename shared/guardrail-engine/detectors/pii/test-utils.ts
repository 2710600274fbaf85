import type { Detector, Match } from "../types.ts";

export function run(detector: Detector, text: string): Match[] {
  return detector.detect(text, { direction: "prompt", lower: text.toLowerCase() });
}

/** The matched substrings, which is what most assertions are about. */
export function found(detector: Detector, text: string): string[] {
  return run(detector, text).map((m) => text.slice(m.start, m.end));
}

/** Inputs built to make a backtracking pattern or a careless scan go quadratic. */
export const ADVERSARIAL = {
  digits: "4".repeat(100_000),
  digitsAndSpaces: "4 ".repeat(50_000),
  digitsAndDashes: "41-".repeat(33_000),
  groupsOfFour: "4111 ".repeat(20_000),
  dots: "1.".repeat(50_000),
  colons: "a:".repeat(50_000),
  emails: "a@a.a".repeat(20_000),
  atSigns: "a".repeat(50_000) + "@".repeat(50_000),
  hex: "0x" + "a".repeat(100_000),
  base58: "1".repeat(100_000),
  letters: "DE89".repeat(25_000),
} as const;
