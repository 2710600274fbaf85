// `npm run eval:guardrails`: precision, recall and F1 per detector over the labelled corpus
// (the samples the detectors were tuned on) and the held-out corpus (written afterwards,
// never tuned on: the honest estimate).
import { evaluate, HOLDOUT_DIR, loadCorpus } from "./guardrail-eval.ts";

const pct = (x: number) => (x * 100).toFixed(1).padStart(6);
const verbose = process.argv.includes("--verbose");

for (const [title, samples] of [["tuning corpus", loadCorpus()], ["held-out corpus", loadCorpus(HOLDOUT_DIR)]] as const) {
  const result = evaluate(samples);
  console.log(`\n${title}: ${result.samples} samples, ${result.positives} positive, ${result.negatives} hard negative\n`);
  console.log("detector                      TP    FP    FN  precision  recall     F1");
  for (const row of [...result.perDetector, ...result.categories]) {
    if (row.tp + row.fp + row.fn === 0) continue;
    console.log(
      `${row.detector.padEnd(28)}${String(row.tp).padStart(4)}${String(row.fp).padStart(6)}${String(row.fn).padStart(6)}   ${pct(row.precision)}  ${pct(row.recall)} ${pct(row.f1)}`,
    );
  }
  for (const row of result.perDetector) {
    if (verbose && (row.misses.length || row.falseAlarms.length)) {
      console.log(`\n${row.detector}: missed ${row.misses.join(" ") || "-"}; false alarms ${row.falseAlarms.join(" ") || "-"}`);
    }
  }
}
