/**
 * A detector finds one kind of sensitive or dangerous content in text. Detectors are pure
 * functions of their input (no I/O, no Workers APIs), so the same code runs in the
 * guardrail Worker, in the unit tests inside workerd, and in the Node evaluation script.
 * Every pattern must run in linear time: no nested quantifiers, no backreferences, no
 * unbounded alternation inside a repetition.
 */
import type { Category, Direction } from "../../guardrail.ts";

export { CATEGORIES, DIRECTIONS } from "../../guardrail.ts";
export type { Category, Direction };

export interface Match {
  /** UTF-16 offsets into the text the detector was given: `text.slice(start, end)` is the finding. */
  start: number;
  end: number;
  /** Confidence 0..1. Validated matches (checksum passed, context word present) score high. */
  score: number;
  /** The specific rule inside a multi-rule detector, e.g. `aws_access_key_id`. */
  rule?: string;
}

export interface DetectContext {
  direction: Direction;
  /** `text.toLowerCase()`, computed once per inspection and shared by all detectors. */
  lower: string;
}

export interface Detector {
  /** Stable snake_case id, used in rules, findings and events: `credit_card`, `aws_access_key`. */
  id: string;
  category: Category;
  /** Typed placeholder stem for redaction: `CREDIT_CARD` gives `[CREDIT_CARD_1]`. */
  placeholder: string;
  /** One line for the admin API and docs. */
  description: string;
  /** Directions it runs on unless an org rule says otherwise. */
  directions: readonly Direction[];
  /**
   * Lower-case substrings: when given, the detector runs only if one of them occurs in
   * `context.lower`. A cheap prefilter for detectors whose matches always contain one.
   */
  keywords?: readonly string[];
  detect(text: string, context: DetectContext): Match[];
}
