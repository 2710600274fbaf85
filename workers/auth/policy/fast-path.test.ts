// The decision cache (observed.ts) must never change a decision: random requests under a
// set that reads names, tags, teams, time, findings, the agent and the IP, decided with
// the cache and by plain Cedar, must agree on the decision and the determining policies.
import { describe, expect, it } from "vitest";
import type { ResourceDescriptor, RequestFacts } from "../../../shared/policy.ts";
import type { Principal } from "../../../shared/principal.ts";
import * as cedar from "../../../shared/policy-engine/cedar.ts";
import { createEngine } from "../../../shared/policy-engine/engine.ts";
import { observe } from "../../../shared/policy-engine/observed.ts";
import { starterPolicySet } from "./templates.ts";

const SET = `${starterPolicySet()}
@id("prod-db-sre-only") forbid (principal, action == Airlock::Action::"call_tool", resource in Airlock::McpServer::"prod-db") unless { principal in Airlock::Team::"sre" };
@id("office-hours") forbid (principal, action == Airlock::Action::"call_tool", resource in Airlock::McpServer::"prod-db") unless { context.time.hour >= 8 && context.time.hour < 18 };
@id("no-drop-tools") forbid (principal, action, resource is Airlock::Tool) when { resource.name like "drop*" };
@id("one-tool") forbid (principal, action, resource == Airlock::Tool::"docs/secret");
@id("pii-server") forbid (principal, action, resource is Airlock::Tool) when { resource in Airlock::McpServer::"hr" } unless { principal is Airlock::User && principal.teams.contains("people") };
@id("no-cursor-on-models") forbid (principal, action == Airlock::Action::"invoke_model", resource) when { context.agent == Airlock::Agent::"cursor" };
@id("secrets") forbid (principal, action == Airlock::Action::"invoke_model", resource) when { context.findings.contains("secret") };
@id("vpn") forbid (principal, action == Airlock::Action::"invoke_model", resource is Airlock::Model) when { resource.name == "gpt-secret" && !(context has source_ip && context.source_ip.isInRange(ip("10.0.0.0/8"))) };
@id("contractors") forbid (principal is Airlock::User, action, resource) when { principal.email like "*@contractor.test" && resource is Airlock::Model };
@id("admins-write") permit (principal, action == Airlock::Action::"admin_write", resource) when { principal.roles.contains("admin") };
`;

/** A small deterministic PRNG, so a failure reproduces. */
function rng(seed: number) {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}

describe("decision cache", () => {
  it("observes literals, attributes and whole-context use", () => {
    const json = (text: string) => {
      const answer = cedar.policyToJson(text);
      if (answer.type !== "success") throw new Error("parse");
      return answer.json;
    };
    const o = observe([json(`permit (principal, action, resource in Airlock::McpServer::"a") when { resource.tags.contains("x") && context has input };`)]);
    expect([...o.literals]).toContain("Airlock::McpServer\u0000a");
    expect([...o.attributes].sort()).toEqual(["input", "tags"]);
    expect(o.wholeContext).toBe(false);
    expect(observe([json(`permit (principal, action, resource) when { context == { hour: 1 } };`)]).wholeContext).toBe(true);
    const nested = observe([json(`permit (principal, action, resource) when { context has input.sql && context["time"]["hour"] > 1 };`)]);
    expect([...nested.attributes].sort()).toEqual(["hour", "input", "sql", "time"]);
  });

  it("decides the tools of servers no policy names, with no tag any policy reads, once", () => {
    const engine = createEngine(cedar);
    const text = `${starterPolicySet()}
@id("prod-db-sre-only") forbid (principal, action == Airlock::Action::"call_tool", resource in Airlock::McpServer::"prod-db") unless { principal in Airlock::Team::"sre" };
@id("office-hours") forbid (principal, action == Airlock::Action::"call_tool", resource in Airlock::McpServer::"prod-db") unless { context.time.hour >= 8 && context.time.hour < 18 };`;
    const set = engine.preparePolicySet("org_once", 1, text);
    const principal: Principal = { kind: "api_key", org_id: "org", org_slug: "acme", credential_id: "k", user_id: "u", email: "a@acme.test", teams: [], roles: [], client: { name: "codex" } };
    const now = new Date(Date.UTC(2026, 10, 25, 10, 1));
    const tools = Array.from({ length: 50 }, (_, i): ResourceDescriptor => ({ type: "Tool", id: `tool-${i}`, server: { id: `srv-${i % 7}` } }));
    const decisions = engine.decideMany(set, { principal, action: "call_tool", resources: tools, now });
    expect(decisions.every((d) => d.decision === "allow")).toBe(true);
    expect(set.decisions.size).toBe(1);
    // Later minutes of the same hour, other users of the same shape: still that one decision.
    engine.decide(set, { principal: { ...principal, user_id: "u2", credential_id: "k2" }, action: "call_tool", resource: tools[7]!, now: new Date(Date.UTC(2026, 10, 25, 10, 59)) });
    expect(set.decisions.size).toBe(1);
    // What the set reads tells requests apart: a server it names, a tag (the starter's destructive rule), the hour.
    engine.decide(set, { principal, action: "call_tool", resource: { type: "Tool", id: "q", server: { id: "prod-db" } }, now });
    engine.decide(set, { principal, action: "call_tool", resource: { type: "Tool", id: "q", server: { id: "x" }, tags: ["destructive"] }, now });
    engine.decide(set, { principal, action: "call_tool", resource: tools[0]!, now: new Date(Date.UTC(2026, 10, 25, 11)) });
    expect(set.decisions.size).toBe(4);
  });

  it("agrees with plain Cedar on tool arguments, of the declared types or not", () => {
    const input = { sql: "String", limit: "Long", dry: "Bool", tables: "Set<String>" } as const;
    const text = `${starterPolicySet()}
@id("no-drop") forbid (principal, action == Airlock::Action::"call_tool", resource) when { context has input.sql && context.input.sql like "*DROP*" };
@id("small") forbid (principal, action == Airlock::Action::"call_tool", resource) when { context has input.limit && context.input.limit > 100 };
@id("users") forbid (principal, action == Airlock::Action::"call_tool", resource) when { context has input.tables && context.input.tables.contains("users") && !(context has input.dry && context.input.dry) };`;
    const cached = createEngine(cedar, { input });
    const plain = createEngine(cedar, { input, cacheDecisions: false });
    const fast = cached.preparePolicySet("org_in_fast", 1, text);
    const slow = plain.preparePolicySet("org_in_plain", 1, text);
    const random = rng(7);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const principal: Principal = { kind: "api_key", org_id: "org", org_slug: "acme", credential_id: "k", user_id: "u", email: "a@acme.test", teams: [], roles: [], client: { name: "codex" } };
    for (let i = 0; i < 600; i++) {
      const args: Record<string, unknown> = {};
      if (random() < 0.7) args.sql = pick(["SELECT 1", "DROP TABLE x", 42, ["DROP"]]);
      if (random() < 0.5) args.limit = pick([5, 500, 2.5, "10", 2 ** 60]);
      if (random() < 0.5) args.dry = pick([true, false, "yes"]);
      if (random() < 0.5) args.tables = pick([["users"], ["orders", "users"], [], "users", [1]]);
      if (random() < 0.3) args.other = "free text nobody declared";
      const request = { principal, action: "call_tool" as const, resource: { type: "Tool" as const, id: "q", server: { id: "db" } }, input: args };
      const a = cached.decide(fast, request);
      const b = plain.decide(slow, request);
      expect({ decision: a.decision, determining: [...a.determining].sort() }, JSON.stringify(args)).toEqual({ decision: b.decision, determining: [...b.determining].sort() });
    }
  });

  it("agrees with plain Cedar on 3,000 random requests, one by one and in tools/list batches", () => {
    const cached = createEngine(cedar);
    const plain = createEngine(cedar, { cacheDecisions: false });
    const fast = cached.preparePolicySet("org_fast", 1, SET);
    const slow = plain.preparePolicySet("org_plain", 1, SET);
    const random = rng(20261125);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const teams = ["sre", "web", "people", "admins"];
    const servers = ["prod-db", "docs", "hr", "misc-1", "misc-2"];
    const tools = ["query", "drop_table", "secret", "search", "list"];
    // Few shapes (what the set reads), many requests per shape (ids, minutes the set does not read), so most requests hit the cache.
    const shapes = Array.from({ length: 6 }, () => {
      const user = random() < 0.8;
      return {
        kind: user ? ("api_key" as const) : ("admin_token" as const), user, email: user ? pick(["a@acme.test", "b@contractor.test"]) : null,
        teams: teams.filter(() => random() < 0.35).map((name) => ({ id: `t_${name}`, name })), roles: random() < 0.2 ? (["admin"] as const) : [],
        client: { name: pick(["claude-code", "cursor", "codex"]) },
      };
    });
    const principalOf = (): Principal => {
      const shape = pick(shapes);
      return {
        kind: shape.kind, org_id: "org", org_slug: "acme", credential_id: `k${Math.floor(random() * 1000)}`,
        user_id: shape.user ? `u${Math.floor(random() * 1000)}` : null, email: shape.email, teams: shape.teams, roles: [...shape.roles], client: shape.client,
      };
    };
    const toolOf = (): ResourceDescriptor => ({ type: "Tool", id: pick(tools), server: { id: pick(servers), tags: random() < 0.3 ? ["internal"] : [] }, tags: random() < 0.3 ? ["destructive"] : [] });
    const resourceOf = (): { action: "call_tool" | "invoke_model" | "list_tools" | "admin_write"; resource: ResourceDescriptor } => {
      const r = random();
      if (r < 0.5) return { action: "call_tool", resource: toolOf() };
      if (r < 0.8) return { action: "invoke_model", resource: { type: "Model", id: pick(["gpt-5", "gpt-secret", "claude"]), provider: { id: pick(["openai", "chatgpt"]), kind: "openai", consumer: random() < 0.3 } } };
      if (r < 0.9) return { action: "list_tools", resource: { type: "McpServer", id: pick(servers) } };
      return { action: "admin_write", resource: { type: "Org", slug: "acme" } };
    };
    const factsOf = (): RequestFacts => ({
      now: new Date(Date.UTC(2026, 10, 20 + Math.floor(random() * 7), pick([7, 10, 22]), Math.floor(random() * 60))),
      sourceIp: pick([null, "10.1.2.3"]),
      findings: random() < 0.1 ? ["secret"] : [],
    });

    let hits = 0;
    for (let i = 0; i < 2000; i++) {
      const request = { principal: principalOf(), ...resourceOf(), ...factsOf() };
      const known = fast.decisions.size;
      const a = cached.decide(fast, request);
      if (fast.decisions.size === known) hits++;
      const b = plain.decide(slow, request);
      expect({ decision: a.decision, determining: [...a.determining].sort() }, `request ${i}: ${JSON.stringify(request)}`).toEqual({ decision: b.decision, determining: [...b.determining].sort() });
    }
    // Most of them were answered from the cache, so the comparison covers it.
    expect(hits).toBeGreaterThan(500);

    for (let batch = 0; batch < 10; batch++) {
      const request = { principal: principalOf(), action: "call_tool" as const, ...factsOf(), resources: Array.from({ length: 100 }, toolOf) };
      const a = cached.decideMany(fast, request);
      const b = plain.decideMany(slow, request);
      expect(a.map((d) => [d.decision, [...d.determining].sort()])).toEqual(b.map((d) => [d.decision, [...d.determining].sort()]));
    }
  });

  it("remembers each principal object's decisions without changing one, unless the set reads the clock", () => {
    const clockless = SET.split("\n").filter((line) => !line.includes("office-hours")).join("\n");
    const random = rng(1126);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    // The gateways' caches hand a session the same principal object on every request.
    const pool: Principal[] = Array.from({ length: 12 }, (_, i) => ({
      kind: "api_key", org_id: "org", org_slug: "acme", credential_id: `k${i}`, user_id: `u${i}`, email: pick(["a@acme.test", "b@contractor.test"]),
      teams: random() < 0.5 ? [{ id: "t_sre", name: "sre" }] : [], roles: [], client: { name: pick(["claude-code", "cursor"]) },
    }));
    const requestOf = () => ({
      principal: pick(pool),
      ...(random() < 0.5
        ? { action: "call_tool" as const, resource: { type: "Tool" as const, id: pick(["query", "drop_table"]), server: { id: pick(["prod-db", "docs", "hr"]) } } }
        : { action: "invoke_model" as const, resource: { type: "Model" as const, id: pick(["gpt-5", "gpt-secret"]), provider: { id: "openai", kind: "openai", consumer: false } } }),
      now: new Date(Date.UTC(2026, 10, 25, pick([7, 10, 22]))),
      sourceIp: pick([null, "10.1.2.3"]),
      findings: random() < 0.2 ? ["secret"] : [],
    });
    for (const [text, remembers] of [[clockless, true], [SET, false]] as const) {
      const cached = createEngine(cedar);
      const plain = createEngine(cedar, { cacheDecisions: false });
      const fast = cached.preparePolicySet(`org_memo_${remembers}`, 1, text);
      const slow = plain.preparePolicySet(`org_memo_plain_${remembers}`, 1, text);
      for (let i = 0; i < 1500; i++) {
        const request = requestOf();
        const a = cached.decide(fast, request);
        const b = plain.decide(slow, request);
        expect({ decision: a.decision, determining: [...a.determining].sort() }, `request ${i}: ${JSON.stringify(request)}`).toEqual({ decision: b.decision, determining: [...b.determining].sort() });
      }
      const remembered = pool.reduce((n, principal) => n + (fast.byPrincipal.get(principal)?.size ?? 0), 0);
      if (remembers) expect(remembered).toBeGreaterThan(0);
      // At most (6 tools + 2 models) × 2 addresses × 2 finding sets per principal can be told apart: most of the 1,500 were remembered.
      expect(remembered).toBeLessThanOrEqual(remembers ? 12 * 8 * 2 * 2 : 0);
    }
  });
});
