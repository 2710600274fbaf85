// Policy engine benchmark inside workerd, the runtime the auth Worker runs in: policy-worker.ts
// (the auth Worker's own cedar.ts and engine.ts) bundled by `wrangler deploy --dry-run` and
// run under wrangler's Miniflare. One decision under a 50-policy set with the decision cache
// warm and with plain Cedar on every call, `decideMany` over 200 tools (what
// `AUTH.authorizeMany()` does for a tools/list) warm and cold, and Cedar's cold start.
// workerd's clock ticks in milliseconds, so there the figures are means of long runs; the
// same engine code then runs in Node over Cedar's `nodejs` build for per-call p50/p99.
//   node scripts/bench/policy.ts [--iterations 5000] [--json]
// `npm run bench` runs it too (benchPolicy) and keeps the figures in dist/bench-policy.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { DIST, ROOT, bundleWorker, kib } from "../build/bundle.ts";
import { airlockWorkers, wranglersMiniflare } from "./mesh.ts";

export const POLICY_TARGETS_US = { decision_p50: 100, decision_p99: 500, authorize_many_200: 5000 };

interface Figures {
  engine: string;
  policies: number;
  cold_start: { cedar_init_ms: number; schema_ms: number; prepare_50_policies_ms: number; prepare_50_policies_parsing_each_ms: number; first_decision_us: number };
  decision_us: Mean;
  decision_miss_us: Mean;
  decision_uncached_us: Mean;
  authorize_many_200_us: { warm: Mean; cold: Mean; plain_cedar: Mean; distinct_requests: number };
}
type Mean = { mean: number; n: number };
type Percentiles = { p50: number; p99: number; max: number; n: number };

function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const round = (n: number) => Math.round(n * 10) / 10;
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1)!), n: samples.length };
}

function perCall(run: (i: number) => void, n: number, warmup = Math.min(200, n)): Percentiles {
  for (let i = 0; i < warmup; i++) run(i);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    run(i);
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return percentiles(samples);
}

/** The same engine and inputs in Node (Cedar's `nodejs` build), timed per call. */
async function inNode(iterations: number) {
  const cedar = await import("@cedar-policy/cedar-wasm/nodejs");
  const { createEngine } = await import("../../shared/policy-engine/engine.ts");
  const { BENCH_INPUT, fiftyPolicies, now, principals, tool, tools } = await import("./policy-fixture.ts");
  const engine = createEngine(cedar, { input: BENCH_INPUT });
  const plain = createEngine(cedar, { input: BENCH_INPUT, cacheDecisions: false });
  const set = engine.preparePolicySet("org_bench", 1, fiftyPolicies());
  const plainSet = plain.preparePolicySet("org_bench_plain", 1, fiftyPolicies());
  const ask = (i: number) => ({ principal: principals[i % 4]!, action: "call_tool" as const, resource: tool(i % 200), now, input: { sql: "SELECT 1" } });
  const many = { principal: principals[1]!, action: "call_tool" as const, resources: tools, now };
  const runs = Math.max(50, Math.floor(iterations / 25));
  return {
    engine: `cedar-wasm ${cedar.getCedarVersion()} (nodejs build, Node ${process.version})`,
    decision_us: perCall((i) => engine.decide(set, ask(i)), iterations),
    decision_miss_us: perCall((i) => {
      set.decisions.clear();
      engine.decide(set, ask(i));
    }, iterations),
    decision_uncached_us: perCall((i) => plain.decide(plainSet, ask(i)), iterations),
    authorize_many_200_us: {
      warm: perCall(() => engine.decideMany(set, many), runs),
      cold: perCall(() => {
        set.decisions.clear();
        engine.decideMany(set, many);
      }, Math.max(20, Math.floor(runs / 4)), 5),
    },
  };
}

export async function benchPolicy(options: { iterations?: number; quiet?: boolean; out?: string } = {}) {
  const configPath = join(DIST, "bench-policy.toml");
  mkdirSync(DIST, { recursive: true });
  writeFileSync(configPath, `name = "bench-policy"\nmain = ${JSON.stringify(join(ROOT, "scripts/bench/policy-worker.ts"))}\ncompatibility_date = "2026-11-01"\n`);
  const bundle = await bundleWorker(configPath);
  const { miniflare } = wranglersMiniflare();
  const workers = airlockWorkers([bundle]);
  const mf = new miniflare.Miniflare(
    miniflare.convertV4MiniflareOptions({ workers, cf: false, handleStructuredLogs: () => undefined } as Parameters<typeof miniflare.convertV4MiniflareOptions>[0]),
  );
  try {
    await mf.ready;
    // The 50-policy set compiled as creating a version does (once, in Node), handed to the Worker like a stored version's row.
    const cedar = await import("@cedar-policy/cedar-wasm/nodejs");
    const { createEngine } = await import("../../shared/policy-engine/engine.ts");
    const { BENCH_INPUT, fiftyPolicies } = await import("./policy-fixture.ts");
    const { compiled } = createEngine(cedar, { input: BENCH_INPUT }).compile(fiftyPolicies());
    const response = (await mf.dispatchFetch(`https://bench.localhost/run?iterations=${options.iterations ?? 5000}`, { method: "POST", body: JSON.stringify(compiled) })) as unknown as Response;
    const text = await response.text();
    if (response.status !== 200) throw new Error(`policy bench Worker answered ${response.status}: ${text.slice(0, 500)}`);
    const figures = JSON.parse(text) as Figures;
    const wasm = bundle.modules.find((m) => m.name.endsWith(".wasm"));
    const result = {
      bench: "policy",
      runtime: "workerd (wrangler's Miniflare), the auth Worker's cedar.ts and engine.ts; means of long runs (workerd's clock ticks in ms)",
      ...figures,
      node: await inNode(options.iterations ?? 5000),
      bundle: { rawBytes: bundle.rawBytes, gzipBytes: bundle.gzipBytes, wasmBytes: wasm?.bytes ?? null },
      targets_us: POLICY_TARGETS_US,
    };
    if (!options.quiet) printPolicy(result);
    if (options.out) {
      writeFileSync(options.out, `${JSON.stringify(result, null, 2)}\n`);
      console.log(`Wrote ${relative(ROOT, options.out)}.`);
    }
    return result;
  } finally {
    await mf.dispose();
  }
}

function printPolicy(r: Awaited<ReturnType<typeof benchPolicy>>) {
  const m = (x: Mean) => `mean ${x.mean} µs`;
  const p = (x: Percentiles) => `p50 ${x.p50} µs  p99 ${x.p99} µs`;
  const many = r.authorize_many_200_us;
  const node = r.node;
  console.log(`Policy engine: ${r.engine}, ${r.policies} policies (targets: decision p50 ≤ ${r.targets_us.decision_p50} µs, p99 ≤ ${r.targets_us.decision_p99} µs; authorizeMany ×200 ≤ ${r.targets_us.authorize_many_200} µs)`);
  console.log(`  cold start          Cedar initSync ${r.cold_start.cedar_init_ms} ms, schema ${r.cold_start.schema_ms} ms, prepare 50 policies ${r.cold_start.prepare_50_policies_ms} ms (stored version; ${r.cold_start.prepare_50_policies_parsing_each_ms} ms parsing each policy), first decision ${r.cold_start.first_decision_us} µs (1 ms clock)`);
  console.log(`  decision            workerd ${m(r.decision_us)}; Node ${p(node.decision_us)}  (decision cache warm)`);
  console.log(`  decision, miss      workerd ${m(r.decision_miss_us)}; Node ${p(node.decision_miss_us)}  (a request the set has not seen: key, pruned Cedar call)`);
  console.log(`  decision, plain     workerd ${m(r.decision_uncached_us)}; Node ${p(node.decision_uncached_us)}  (no fast path: Cedar on the whole request, schema-checked)`);
  console.log(`  authorizeMany ×200  warm: workerd ${m(many.warm)}; Node ${p(node.authorize_many_200_us.warm)}`);
  console.log(`                      cold: workerd ${m(many.cold)}; Node ${p(node.authorize_many_200_us.cold)}  (${many.distinct_requests} requests the set can tell apart)`);
  console.log(`                      plain Cedar per tool: workerd ${m(many.plain_cedar)}`);
  console.log(`  bundle             ${kib(r.bundle.rawBytes)} raw, ${kib(r.bundle.gzipBytes)} gzip (Cedar wasm ${r.bundle.wasmBytes === null ? "?" : kib(r.bundle.wasmBytes)})`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { iterations: { type: "string", default: "5000" }, json: { type: "boolean", default: false } } });
  const result = await benchPolicy({ iterations: Number(values.iterations), quiet: values.json });
  if (values.json) console.log(JSON.stringify(result));
}
