// The policy benchmark, inside workerd: the auth Worker's own Cedar loading (cedar.ts: the
// `web` build, the `.wasm` as a compiled module, initSync) and engine, timed in the isolate
// with performance.now() (workerd advances it during execution locally). One request runs
// everything and answers the figures as JSON (µs unless named _ms; means, see `mean`).
import type { CompiledPolicySet, Decision, Engine, PreparedPolicySet } from "../../shared/policy-engine/engine.ts";
import { BENCH_INPUT, fiftyPolicies, now, principals, tool, tools } from "./policy-fixture.ts";

/**
 * Mean µs per call over `n` calls. workerd's clock ticks in whole milliseconds (the
 * platform's timing mitigation, locally too), so single calls cannot be timed in the
 * isolate: each figure is a long run's total over its count (per-call percentiles come
 * from the Node run of the same code, policy.ts).
 */
function mean(run: (i: number) => void, n: number, warmup = Math.min(200, n)) {
  for (let i = 0; i < warmup; i++) run(i);
  const start = performance.now();
  for (let i = 0; i < n; i++) run(i);
  return { mean: Math.round(((performance.now() - start) * 1000 / n) * 10) / 10, n };
}

function check(d: Decision) {
  if (d.errors.length > 0) throw new Error(d.errors.join("; "));
  return d;
}

export default {
  async fetch(request: Request): Promise<Response> {
    const iterations = Number(new URL(request.url).searchParams.get("iterations") ?? "5000");
    // The set as a stored version holds it (compiled when it was created; see policy.ts).
    const compiled = (await request.json()) as CompiledPolicySet;
    // Cold start: evaluating cedar.ts instantiates the wasm (initSync); the engine preparses the schema.
    let t = performance.now();
    const cedar = await import("../../shared/policy-engine/cedar.ts");
    const initMs = performance.now() - t;
    const { createEngine } = await import("../../shared/policy-engine/engine.ts");
    t = performance.now();
    const engine: Engine = createEngine(cedar, { input: BENCH_INPUT });
    const schemaMs = performance.now() - t;
    const plain: Engine = createEngine(cedar, { input: BENCH_INPUT, cacheDecisions: false });
    const text = fiftyPolicies();
    // What the first request after an activation (or in a fresh isolate) pays: the stored version's text and compiled form.
    t = performance.now();
    const set: PreparedPolicySet = engine.preparePolicySet("org_bench", 1, text, compiled);
    const prepareMs = performance.now() - t;
    // The same without the compiled form (a draft under test): Cedar's JSON of every policy too.
    t = performance.now();
    engine.preparePolicySet("org_bench_parsed", 1, text);
    const parseMs = performance.now() - t;
    if (set.policyIds.length !== 50) throw new Error(`expected 50 policies, got ${set.policyIds.length}`);
    const plainSet = plain.preparePolicySet("org_bench_plain", 1, text);
    t = performance.now();
    check(engine.decide(set, { principal: principals[0]!, action: "call_tool", resource: tool(0), now }));
    const firstDecisionUs = (performance.now() - t) * 1000;

    const ask = (i: number) => ({ principal: principals[i % 4]!, action: "call_tool" as const, resource: tool(i % 200), now, input: { sql: "SELECT 1" } });
    const decision = mean((i) => check(engine.decide(set, ask(i))), iterations * 4);
    // A request the set has not seen: the fast path's own cost when its cache misses.
    const miss = mean((i) => {
      set.decisions.clear();
      check(engine.decide(set, ask(i)));
    }, iterations);
    const uncached = mean((i) => check(plain.decide(plainSet, ask(i))), iterations);
    const many = { principal: principals[1]!, action: "call_tool" as const, resources: tools, now };
    const manyRuns = Math.max(50, Math.floor(iterations / 25));
    const manyWarm = mean(() => engine.decideMany(set, many), manyRuns);
    const manyCold = mean(() => {
      set.decisions.clear();
      engine.decideMany(set, many);
    }, Math.max(20, Math.floor(manyRuns / 4)), 5);
    set.decisions.clear();
    engine.decideMany(set, many);
    const groups = set.decisions.size;
    const manyPlain = mean(() => plain.decideMany(plainSet, many), Math.max(10, Math.floor(iterations / 500)), 2);

    return Response.json({
      engine: `cedar-wasm ${cedar.getCedarVersion()} (web build, in workerd)`,
      policies: set.policyIds.length,
      cold_start: { cedar_init_ms: round2(initMs), schema_ms: round2(schemaMs), prepare_50_policies_ms: round2(prepareMs), prepare_50_policies_parsing_each_ms: round2(parseMs), first_decision_us: Math.round(firstDecisionUs) },
      decision_us: decision,
      decision_miss_us: miss,
      decision_uncached_us: uncached,
      authorize_many_200_us: { warm: manyWarm, cold: manyCold, plain_cedar: manyPlain, distinct_requests: groups },
    });
  },
};

const round2 = (n: number) => Math.round(n * 100) / 100;
