// Guardrail scan throughput on one core, in Node: the shipped detectors under the shipped
// default policy (`compilePolicy(BUILT_IN_DETECTORS, [])`, exactly what an org without rules
// gets), through the guardrail's own `inspectContent`, over the ~100 KB mixed document.
// Node runs the detectors on V8, the engine workerd embeds (versions differ; the report says
// which), on this thread alone: single-core figures, no Worker or RPC overhead.
//
// Per-detector share: each active detector timed on its own over the same document, as
// `scanText` runs it (keyword prefilter, then `detect` with the shared lower-cased text), so
// the slowest detectors are visible. Shares are of the median full inspection; what the
// detectors do not account for is lower-casing, sorting findings and redaction.
import { BUILT_IN_DETECTORS } from "../../shared/guardrail-engine/detectors/index.ts";
import type { Detector, Direction } from "../../shared/guardrail-engine/detectors/types.ts";
import { inspectContent } from "../../shared/guardrail-engine/inspect/inspect.ts";
import { compilePolicy, type Policy } from "../../shared/guardrail-engine/policy/policy.ts";
import type { Action } from "../../shared/guardrail.ts";

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const ms = (ns: bigint) => Number(ns) / 1e6;
const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

export function shippedPolicy(): { policy: Policy; placeholderOf: (id: string) => string } {
  const byId = new Map<string, Detector>(BUILT_IN_DETECTORS.map((d) => [d.id, d]));
  return { policy: compilePolicy(BUILT_IN_DETECTORS, []), placeholderOf: (id) => byId.get(id)?.placeholder ?? "REDACTED" };
}

export interface DetectorTiming {
  detector: string;
  category: string;
  action: Exclude<Action, "allow">;
  /** Median ms over the text (keyword prefilter + detect). */
  medianMs: number;
  /** Of the median full inspection, %. */
  sharePct: number;
  /** False when the keyword prefilter let the detector skip this text (its time is the prefilter's). */
  ran: boolean;
  findings: number;
}

export interface DirectionProfile {
  direction: Direction;
  action: Action;
  findings: number;
  findingsByDetector: Record<string, number>;
  activeDetectors: number;
  /** Full `inspectContent`, ms: median (p50), nearest-rank p99, min, max over the measured runs. */
  medianMs: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
  /** 10^6 bytes of UTF-8 per second, from the median. */
  mbPerSec: number;
  /** The same from the fastest run: what the CPU does when nothing else competes for it. */
  mbPerSecBest: number;
  /** `text.toLowerCase()`, done once per inspection (median ms). */
  lowerCaseMs: number;
  /** Slowest first. */
  detectors: DetectorTiming[];
  /** Median inspection minus lower-casing minus the detectors' medians (sorting, findings, redaction). */
  otherMs: number;
}

export interface ScanProfile {
  bytes: number;
  chars: number;
  warmup: number;
  runs: number;
  directions: DirectionProfile[];
}

/**
 * Warms up, then times `runs` inspections per direction in interleaved rounds (a round: one
 * inspection per direction, order rotated each round, then every active detector once).
 * No forced GC between rounds: a full collection forced just before a timed call slowed that
 * call by ~2 ms on the 100 KB document (the concurrent sweep), so collections fall where the
 * allocations put them and the median absorbs them.
 */
export function profileScan(text: string, directions: readonly Direction[], options: { warmup: number; runs: number }): ScanProfile {
  const { policy, placeholderOf } = shippedPolicy();
  const bytes = Buffer.byteLength(text, "utf8");
  const lower = text.toLowerCase();
  const timeOnce = (fn: () => unknown) => {
    const started = process.hrtime.bigint();
    fn();
    return ms(process.hrtime.bigint() - started);
  };
  const prefilterPasses = (detector: Detector) => !detector.keywords || detector.keywords.some((keyword) => lower.includes(keyword));
  // As scanText runs a detector: prefilter on the shared lower-cased text, then detect.
  const detectOnce = (detector: Detector, direction: Direction) => (prefilterPasses(detector) ? detector.detect(text, { direction, lower }).length : 0);

  const inspections = directions.map(() => [] as number[]);
  const lowerCase: number[] = [];
  const perDetector = directions.map((d) => policy.byDirection[d].map(() => [] as number[]));
  for (let r = 0; r < options.warmup + options.runs; r++) {
    const measured = r >= options.warmup;
    for (let k = 0; k < directions.length; k++) {
      const j = (k + r) % directions.length;
      const t = timeOnce(() => inspectContent({ text }, directions[j]!, policy, placeholderOf));
      if (measured) inspections[j]!.push(t);
    }
    const tl = timeOnce(() => text.toLowerCase());
    if (measured) lowerCase.push(tl);
    directions.forEach((direction, j) => {
      policy.byDirection[direction].forEach(({ detector }, i) => {
        const t = timeOnce(() => detectOnce(detector, direction));
        if (measured) perDetector[j]![i]!.push(t);
      });
    });
  }

  const lowerCaseMs = median(lowerCase);
  return {
    bytes,
    chars: text.length,
    warmup: options.warmup,
    runs: options.runs,
    directions: directions.map((direction, j): DirectionProfile => {
      const result = inspectContent({ text }, direction, policy, placeholderOf);
      const findingsByDetector: Record<string, number> = {};
      for (const f of result.findings) findingsByDetector[f.detector] = (findingsByDetector[f.detector] ?? 0) + 1;
      const times = [...inspections[j]!].sort((a, b) => a - b);
      const medianMs = median(times);
      const medians = perDetector[j]!.map(median);
      const detectors = policy.byDirection[direction].map(({ detector, action }, i): DetectorTiming => ({
        detector: detector.id,
        category: detector.category,
        action,
        medianMs: round(medians[i]!, 4),
        sharePct: round((medians[i]! / medianMs) * 100, 1),
        ran: prefilterPasses(detector),
        findings: findingsByDetector[detector.id] ?? 0,
      }));
      return {
        direction,
        action: result.action,
        findings: result.findings.length,
        findingsByDetector,
        activeDetectors: detectors.length,
        medianMs: round(medianMs, 4),
        p99Ms: round(times[Math.min(times.length - 1, Math.ceil(0.99 * times.length) - 1)]!, 4),
        minMs: round(times[0]!, 4),
        maxMs: round(times[times.length - 1]!, 4),
        mbPerSec: round(bytes / 1e6 / (medianMs / 1e3), 2),
        mbPerSecBest: round(bytes / 1e6 / (times[0]! / 1e3), 2),
        lowerCaseMs: round(lowerCaseMs, 4),
        detectors: detectors.sort((a, b) => b.medianMs - a.medianMs),
        otherMs: round(medianMs - lowerCaseMs - medians.reduce((sum, m) => sum + m, 0), 4),
      };
    }),
  };
}
