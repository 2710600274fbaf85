/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import corpus from "../../../../test/fixtures/guardrails/secrets.jsonl?raw";
import type { Direction } from "../types.ts";
import { SECRET_DETECTORS } from "./index.ts";

/**
 * The floors issue 3 sets for secrets (precision ≥ 0.97, recall ≥ 0.95), held per detector on
 * test/fixtures/guardrails/secrets.jsonl. `npm run eval:guardrails` prints the same figures
 * under the shipped default rules.
 */
interface Sample {
  text: string;
  direction: Direction;
  expect: string[];
  note: string;
}

const samples: Sample[] = corpus.trim().split("\n").map((line) => JSON.parse(line) as Sample);

function fired(sample: Sample): Set<string> {
  const lower = sample.text.toLowerCase();
  const ids = new Set<string>();
  for (const detector of SECRET_DETECTORS) {
    if (detector.keywords && !detector.keywords.some((k) => lower.includes(k))) continue;
    if (detector.detect(sample.text, { direction: sample.direction, lower }).some((m) => m.score >= 0.5)) ids.add(detector.id);
  }
  return ids;
}

const results = samples.map(fired);
const tally = (id: string) => {
  let tp = 0, fp = 0, fn = 0;
  samples.forEach((sample, i) => {
    const expected = sample.expect.includes(id);
    const hit = results[i]!.has(id);
    if (expected && hit) tp++;
    else if (hit) fp++;
    else if (expected) fn++;
  });
  return { tp, fp, fn, precision: tp / (tp + fp || 1), recall: tp / (tp + fn || 1) };
};

describe("secrets corpus", () => {
  it("has at least 120 positives and 120 hard negatives", () => {
    expect(samples.filter((s) => s.expect.length > 0).length).toBeGreaterThanOrEqual(120);
    expect(samples.filter((s) => s.expect.length === 0).length).toBeGreaterThanOrEqual(120);
  });

  it.each(SECRET_DETECTORS.map((d) => d.id))("%s: precision ≥ 0.97, recall ≥ 0.95", (id) => {
    const { tp, precision, recall } = tally(id);
    expect(tp).toBeGreaterThanOrEqual(8);
    expect(precision).toBeGreaterThanOrEqual(0.97);
    expect(recall).toBeGreaterThanOrEqual(0.95);
  });
});
