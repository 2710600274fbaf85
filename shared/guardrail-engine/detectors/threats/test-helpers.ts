import type { Detector, Direction, Match } from "../types.ts";

/** Runs one detector the way the engine does. */
export function run(detector: Detector, text: string, direction: Direction = detector.directions[0]!): Match[] {
  return detector.detect(text, { direction, lower: text.toLowerCase() });
}

/** Best score of a detector on a text, 0 when it reports nothing. */
export function best(detector: Detector, text: string, direction?: Direction): number {
  return Math.max(0, ...run(detector, text, direction).map((m) => m.score));
}

/** Default rules block injection, exfiltration and dangerous commands at this score. */
export const DEFAULT_THRESHOLD = 0.6;
