import { describe, expect, it } from "vitest";
import { evaluate, HOLDOUT_DIR, loadCorpus } from "../../scripts/eval/guardrail-eval.ts";

/** The floors issue 3 sets, asserted on the labelled corpus (`npm run eval:guardrails` prints the table). */
const result = evaluate();
const category = (name: string) => result.categories.find((c) => c.detector === `category:${name}`)!;
const detector = (id: string) => result.perDetector.find((d) => d.detector === id)!;

describe("guardrail detectors on the labelled corpus", () => {
  it("has at least 300 positive and 300 hard negative samples", () => {
    expect(result.positives).toBeGreaterThanOrEqual(300);
    expect(result.negatives).toBeGreaterThanOrEqual(300);
  });

  it("secrets: precision ≥ 0.97, recall ≥ 0.95", () => {
    expect(category("secret").precision).toBeGreaterThanOrEqual(0.97);
    expect(category("secret").recall).toBeGreaterThanOrEqual(0.95);
  });

  it.each(["credit_card", "iban"])("checksum-validated PII %s: precision ≥ 0.99", (id) => {
    expect(detector(id).tp).toBeGreaterThan(0);
    expect(detector(id).precision).toBeGreaterThanOrEqual(0.99);
  });

  it("every category has samples to be scored on", () => {
    for (const c of result.categories) expect(c.tp + c.fn, c.detector).toBeGreaterThanOrEqual(40);
  });

  it("prompt injection: recall ≥ 0.85 at precision ≥ 0.9", () => {
    expect(detector("prompt_injection").recall).toBeGreaterThanOrEqual(0.85);
    expect(detector("prompt_injection").precision).toBeGreaterThanOrEqual(0.9);
  });
});

describe("guardrail detectors on the held-out corpus (never tuned on)", () => {
  const holdout = evaluate(loadCorpus(HOLDOUT_DIR));
  const of = (name: string) => holdout.categories.find((c) => c.detector === `category:${name}`)!;

  it.each(["secret", "pii", "injection", "tool_poisoning", "exfiltration", "dangerous_command"])("%s: precision and recall ≥ 0.9", (name) => {
    expect(of(name).tp).toBeGreaterThan(0);
    expect(of(name).precision).toBeGreaterThanOrEqual(0.9);
    expect(of(name).recall).toBeGreaterThanOrEqual(0.9);
  });
});
