import { DIRECTIONS, type Detector, type DetectContext, type Match } from "../types.ts";
import { alignedLower, isPlaceholderToken } from "./checks.ts";
import type { ProviderFamily, ProviderRule } from "./provider-rules.ts";

/** Turns one row of the provider table into a Detector. */
export function providerDetector(family: ProviderFamily): Detector {
  return {
    id: family.id,
    category: "secret",
    placeholder: family.placeholder,
    description: family.description,
    directions: DIRECTIONS,
    keywords: [...new Set(family.rules.flatMap((rule) => rule.keywords))],
    detect(text: string, context: DetectContext): Match[] {
      const matches: Match[] = [];
      const lower = alignedLower(text, context.lower);
      for (const rule of family.rules) collect(rule, text, lower, matches);
      return matches;
    },
  };
}

function collect(rule: ProviderRule, text: string, lower: string, out: Match[]): void {
  const { pattern } = rule;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const [start, end] = m.indices?.groups?.secret ?? [m.index, m.index + m[0].length];
    const secret = text.slice(start, end);
    if (!rule.skipPlaceholderCheck && isPlaceholderToken(secret)) continue;
    const score = rule.validate ? rule.validate({ secret, start, end, lower }, rule.score) : rule.score;
    if (score === null) continue;
    const fullEnd = rule.extend ? rule.extend(text, end) : end;
    if (fullEnd === null) continue;
    out.push({ start, end: fullEnd, score, rule: rule.rule });
    // Resume after an extended match so that nothing inside it is scanned twice.
    if (fullEnd > pattern.lastIndex) pattern.lastIndex = fullEnd;
  }
}
