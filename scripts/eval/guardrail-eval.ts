import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { DirectionSchema, type Category } from "../../shared/guardrail.ts";
import { BUILT_IN_DETECTORS } from "../../shared/guardrail-engine/detectors/index.ts";
import { scanText } from "../../shared/guardrail-engine/inspect/scan.ts";
import { compilePolicy } from "../../shared/guardrail-engine/policy/policy.ts";

/** Which category each corpus file labels: a detector is scored on the files of its category. */
const FILE_CATEGORY: Record<string, Category> = {
  "pii.jsonl": "pii",
  "secrets.jsonl": "secret",
  "injection.jsonl": "injection",
  "tool-poisoning.jsonl": "tool_poisoning",
  "exfiltration.jsonl": "exfiltration",
  "dangerous-commands.jsonl": "dangerous_command",
};

const SampleSchema = z.object({ text: z.string(), direction: DirectionSchema, expect: z.array(z.string()), note: z.string().optional() });
type Sample = z.infer<typeof SampleSchema> & { category: Category; file: string; line: number };

export const CORPUS_DIR = new URL("../../test/fixtures/guardrails/", import.meta.url).pathname;
/** Written after the detectors were tuned, by someone who had not seen the tuning corpus. */
export const HOLDOUT_DIR = new URL("../../test/fixtures/guardrails-holdout/", import.meta.url).pathname;

export function loadCorpus(dir = CORPUS_DIR): Sample[] {
  const samples: Sample[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort()) {
    const category = FILE_CATEGORY[file];
    if (!category) throw new Error(`${file}: unknown corpus file (known: ${Object.keys(FILE_CATEGORY).join(", ")})`);
    readFileSync(join(dir, file), "utf8").split("\n").forEach((line, i) => {
      if (line.trim() === "") return;
      const parsed = SampleSchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${file}:${i + 1}: ${parsed.error.message}`);
      samples.push({ ...parsed.data, category, file, line: i + 1 });
    });
  }
  return samples;
}

export interface Score {
  detector: string;
  category: Category;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
  misses: string[];
  falseAlarms: string[];
}

const ratio = (a: number, b: number) => (b === 0 ? 1 : a / b);

function score(detector: string, category: Category, tp: number, fp: number, fn: number, misses: string[] = [], falseAlarms: string[] = []): Score {
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { detector, category, tp, fp, fn, precision, recall, f1, misses, falseAlarms };
}

/**
 * Runs the shipped detectors under the shipped default rules (directions and thresholds
 * included: what an org gets out of the box) over every sample, and scores each detector
 * on its category's samples: a sample counts as detected when the detector reports any
 * finding in it.
 */
export function evaluate(samples = loadCorpus()) {
  const policy = compilePolicy(BUILT_IN_DETECTORS, []);
  const fired = samples.map((s) => new Set(scanText(s.text, s.direction, policy).map((f) => f.detector)));
  const perDetector = BUILT_IN_DETECTORS.map((detector) => {
    let tp = 0, fp = 0, fn = 0;
    const misses: string[] = [], falseAlarms: string[] = [];
    samples.forEach((sample, i) => {
      if (sample.category !== detector.category) return;
      const expected = sample.expect.includes(detector.id);
      const hit = fired[i]!.has(detector.id);
      if (expected && hit) tp++;
      else if (hit) (fp++, falseAlarms.push(`${sample.file}:${sample.line}`));
      else if (expected) (fn++, misses.push(`${sample.file}:${sample.line}`));
    });
    return score(detector.id, detector.category, tp, fp, fn, misses, falseAlarms);
  });
  const categories = [...new Set(BUILT_IN_DETECTORS.map((d) => d.category))].map((category) => {
    const rows = perDetector.filter((r) => r.category === category);
    const sum = (k: "tp" | "fp" | "fn") => rows.reduce((n, r) => n + r[k], 0);
    return score(`category:${category}`, category, sum("tp"), sum("fp"), sum("fn"));
  });
  const positives = samples.filter((s) => s.expect.length > 0).length;
  return { perDetector, categories, samples: samples.length, positives, negatives: samples.length - positives };
}
