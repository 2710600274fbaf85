// Policy engine microbenchmark, in Node over Cedar's `nodejs` build and the auth Worker's
// own engine (workers/auth/policy/engine.ts): one decision under a 50-policy set (p50/p99)
// and `decideMany` over 200 tools (what `AUTH.authorizeMany()` does for a tools/list).
//   node scripts/bench/policy.ts [--iterations 5000] [--json]
// Prints µs; with --json, one JSON line (for `npm run bench` to collect).
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { parseArgs } from "node:util";
import type { ResourceDescriptor } from "../../shared/policy.ts";
import type { Principal } from "../../shared/principal.ts";
import { createEngine } from "../../workers/auth/policy/engine.ts";
import { starterPolicySet } from "../../workers/auth/policy/templates.ts";

const { values } = parseArgs({ options: { iterations: { type: "string", default: "5000" }, json: { type: "boolean", default: false } } });
const iterations = Number(values.iterations);

const initStarted = performance.now();
const engine = createEngine(cedar, { input: { sql: "String", path: "String" } });
const engineMs = performance.now() - initStarted;

/** 50 policies: the 3 starter templates plus 47 team/server/model/time/input rules. */
function fiftyPolicies(): string {
  const rules = [starterPolicySet()];
  for (let i = 0; i < 47; i++) {
    const kind = i % 4;
    if (kind === 0) rules.push(`@id("server-${i}") forbid (principal, action == Airlock::Action::"call_tool", resource in Airlock::McpServer::"srv-${i}") unless { principal in Airlock::Team::"team-${i}" };`);
    if (kind === 1) rules.push(`@id("hours-${i}") forbid (principal, action == Airlock::Action::"call_tool", resource in Airlock::McpServer::"srv-${i}") unless { context.time.hour >= 8 && context.time.hour < 18 };`);
    if (kind === 2) rules.push(`@id("model-${i}") forbid (principal, action == Airlock::Action::"invoke_model", resource == Airlock::Model::"model-${i}") when { context.findings.contains("secret") || !(principal in Airlock::Team::"team-${i}") };`);
    if (kind === 3) rules.push(`@id("input-${i}") forbid (principal, action == Airlock::Action::"call_tool", resource) when { context has input && context.input has sql && context.input.sql like "*DROP*${i}*" };`);
  }
  return rules.join("\n");
}

const text = fiftyPolicies();
const prepareStarted = performance.now();
const set = engine.preparePolicySet("org_bench", 1, text);
const prepareMs = performance.now() - prepareStarted;
if (set.policyIds.length !== 50) throw new Error(`expected 50 policies, got ${set.policyIds.length}`);

const principal: Principal = {
  kind: "api_key", org_id: "org_bench", org_slug: "bench", credential_id: "key_1", user_id: "u_1", email: "ada@bench.test",
  teams: [{ id: "t1", name: "sre" }, { id: "t2", name: "team-4" }], roles: [], client: { name: "claude-code", version: "2.0.1" },
};
const now = new Date(Date.UTC(2026, 10, 25, 10));
const tool = (i: number): ResourceDescriptor => ({ type: "Tool", id: `tool-${i}`, server: { id: `srv-${i % 60}` }, tags: i % 7 === 0 ? ["destructive"] : [] });
const tools = Array.from({ length: 200 }, (_, i) => tool(i));

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}
const micros = (start: bigint) => Number(process.hrtime.bigint() - start) / 1000;

function measure(run: () => void, n: number) {
  for (let i = 0; i < Math.min(200, n); i++) run(); // warm up
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    run();
    samples.push(micros(start));
  }
  return percentiles(samples);
}

let i = 0;
const single = measure(() => {
  const d = engine.decide(set, { principal, action: "call_tool", resource: tool(i++ % 200), now, input: { sql: "SELECT 1" } });
  if (d.errors.length > 0) throw new Error(d.errors.join("; "));
}, iterations);
const many = measure(() => {
  const decisions = engine.decideMany(set, { principal, action: "call_tool", resources: tools, now });
  if (decisions.length !== 200) throw new Error("decideMany lost a decision");
}, Math.max(50, Math.floor(iterations / 50)));

const result = {
  bench: "policy",
  engine: `cedar-wasm ${cedar.getCedarVersion()} (nodejs build)`,
  policies: set.policyIds.length,
  schema_and_engine_init_ms: Number(engineMs.toFixed(2)),
  prepare_50_policies_ms: Number(prepareMs.toFixed(2)),
  decision_us: { p50: Number(single.p50.toFixed(1)), p99: Number(single.p99.toFixed(1)), max: Number(single.max.toFixed(1)) },
  authorize_many_200_tools_us: { p50: Number(many.p50.toFixed(1)), p99: Number(many.p99.toFixed(1)) },
  targets_us: { decision_p50: 100, decision_p99: 500, authorize_many_200: 5000 },
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`${result.engine}, ${result.policies} policies (prepared in ${result.prepare_50_policies_ms} ms; schema ${result.schema_and_engine_init_ms} ms)`);
  console.log(`decision             p50 ${result.decision_us.p50} µs  p99 ${result.decision_us.p99} µs  (target ≤ 100 / ≤ 500)`);
  console.log(`authorizeMany ×200   p50 ${result.authorize_many_200_tools_us.p50} µs  p99 ${result.authorize_many_200_tools_us.p99} µs  (target ≤ 5000)`);
}
