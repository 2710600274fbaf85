import type { Direction, Finding } from "../../guardrail.ts";
import type { Policy } from "../policy/policy.ts";

/**
 * Runs the detectors active for a direction over one string. The lower-cased text is
 * computed once and shared; a detector with keywords runs only when one is present.
 */
export function scanText(text: string, direction: Direction, policy: Policy, path?: string): Finding[] {
  if (text.length === 0) return [];
  const lower = text.toLowerCase();
  const findings: Finding[] = [];
  for (const { detector, action, threshold } of policy.byDirection[direction]) {
    if (detector.keywords && !containsAny(lower, detector.keywords)) continue;
    for (const match of detector.detect(text, { direction, lower })) {
      if (match.score < threshold) continue;
      findings.push({
        detector: detector.id,
        category: detector.category,
        ...(match.rule ? { rule: match.rule } : {}),
        ...(path !== undefined ? { path } : {}),
        start: match.start,
        end: match.end,
        score: Math.round(match.score * 1000) / 1000,
        action,
      });
    }
  }
  return findings.sort((a, b) => a.start - b.start || b.end - a.end);
}

function containsAny(text: string, keywords: readonly string[]): boolean {
  for (const keyword of keywords) if (text.includes(keyword)) return true;
  return false;
}
