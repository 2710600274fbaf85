import { customDetector, type CustomDetectorSpec } from "../detectors/custom.ts";
import { BUILT_IN_DETECTORS } from "../detectors/index.ts";
import type { Detector } from "../detectors/types.ts";
import type { GuardrailSettings, RuleSpec } from "./defaults.ts";
import { compilePolicy, type Policy } from "./policy.ts";

/**
 * An org's guardrail configuration as airlock-guardrail stores it: what it hands to callers
 * (`GUARDRAIL.policySource`) so that they scan where the bytes are.
 */
export interface PolicySource {
  rules: RuleSpec[];
  settings: GuardrailSettings;
  customDetectors: CustomDetectorSpec[];
}

export interface LoadedPolicy {
  policy: Policy;
  detectors: ReadonlyMap<string, Detector>;
}

export function compileSource(source: PolicySource): LoadedPolicy {
  const detectors = [...BUILT_IN_DETECTORS, ...source.customDetectors.map(customDetector)];
  return { policy: compilePolicy(detectors, source.rules, source.settings), detectors: new Map(detectors.map((d) => [d.id, d])) };
}

/** Each redact finding's replacement text. */
export const placeholderOf = (loaded: LoadedPolicy) => (detector: string) => loaded.detectors.get(detector)?.placeholder ?? "REDACTED";
