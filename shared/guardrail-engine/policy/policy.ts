import { ACTIONS, DIRECTIONS, type Action, type Direction } from "../../guardrail.ts";
import type { Detector } from "../detectors/types.ts";
import { DEFAULT_RULES, DEFAULT_SETTINGS, type GuardrailSettings, type RuleSpec } from "./defaults.ts";

export interface ActiveDetector {
  detector: Detector;
  action: Exclude<Action, "allow">;
  threshold: number;
}

/** An org's guardrail policy, compiled once per config version: per direction, what runs and what it does. */
export interface Policy {
  settings: GuardrailSettings;
  byDirection: Record<Direction, ActiveDetector[]>;
}

/** Detector id beats category beats `*`; naming directions beats covering all; org beats default. */
function specificity(rule: RuleSpec, fromOrg: boolean): number {
  const target = rule.detector === "*" ? 0 : rule.detector.startsWith("category:") ? 10 : 20;
  return target + (rule.directions.length > 0 ? 5 : 0) + (fromOrg ? 1 : 0);
}

function applies(rule: RuleSpec, detector: Detector, direction: Direction): boolean {
  const targets = rule.detector === "*" || rule.detector === detector.id || rule.detector === `category:${detector.category}`;
  return targets && (rule.directions.length === 0 || rule.directions.includes(direction));
}

export function compilePolicy(
  detectors: readonly Detector[],
  orgRules: readonly RuleSpec[],
  settings: GuardrailSettings = DEFAULT_SETTINGS,
): Policy {
  const candidates = [
    ...DEFAULT_RULES.map((rule) => ({ rule, rank: specificity(rule, false) })),
    ...orgRules.map((rule) => ({ rule, rank: specificity(rule, true) })),
  ];
  const byDirection = Object.fromEntries(DIRECTIONS.map((d) => [d, [] as ActiveDetector[]])) as Record<Direction, ActiveDetector[]>;
  for (const direction of DIRECTIONS) {
    for (const detector of detectors) {
      // Org rules reach every direction; without one, a detector runs where it was built for.
      let best: { rule: RuleSpec; rank: number } | undefined;
      for (const candidate of candidates) {
        if (!applies(candidate.rule, detector, direction)) continue;
        if (!best || candidate.rank > best.rank) best = candidate;
      }
      if (!best || best.rule.action === "allow") continue;
      const fromOrg = orgRules.includes(best.rule);
      if (!fromOrg && !detector.directions.includes(direction)) continue;
      byDirection[direction].push({ detector, action: best.rule.action, threshold: best.rule.threshold });
    }
  }
  return { settings, byDirection };
}

/** The strongest of two actions (`block` > `redact` > `alert` > `log` > `allow`). */
export function strongest(a: Action, b: Action): Action {
  return ACTIONS.indexOf(a) <= ACTIONS.indexOf(b) ? a : b;
}
