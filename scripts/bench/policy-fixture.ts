// The policy benchmark's inputs, shared by the workerd run and any Node run: a 50-policy
// set (the 3 starter templates and 47 team/server/model/time/input rules), a principal and
// 200 tools over 60 servers (every 7th destructive).
import type { ResourceDescriptor } from "../../shared/policy.ts";
import type { Principal } from "../../shared/principal.ts";
import { starterPolicySet } from "../../workers/auth/policy/templates.ts";

export function fiftyPolicies(): string {
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

/** Tool arguments the bench's schema declares (`context.input.sql`, `.path`). */
export const BENCH_INPUT = { sql: "String", path: "String" };

export const principals: Principal[] = [0, 1, 2, 3].map((i) => ({
  kind: "api_key", org_id: "org_bench", org_slug: "bench", credential_id: `key_${i}`, user_id: `u_${i}`, email: `user${i}@bench.test`,
  teams: [{ id: "t1", name: "sre" }, { id: `t${i + 2}`, name: `team-${i * 4}` }], roles: [], client: { name: "claude-code", version: "2.0.1" },
}));

export const now = new Date(Date.UTC(2026, 10, 25, 10));
export const tool = (i: number): ResourceDescriptor => ({ type: "Tool", id: `tool-${i}`, server: { id: `srv-${i % 60}` }, tags: i % 7 === 0 ? ["destructive"] : [] });
export const tools = Array.from({ length: 200 }, (_, i) => tool(i));
