import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database, schema } from "../../../shared/db/index.ts";
import type { ResourceDescriptor } from "../../../shared/policy.ts";
import type { Principal } from "../../../shared/principal.ts";
import type { AuthRpc } from "../../../shared/rpc.ts";
import { mintToken } from "../../../shared/tokens.ts";
import * as cedar from "../../../shared/policy-engine/cedar.ts";
import { createEngine, PolicySetInvalid } from "../../../shared/policy-engine/engine.ts";
import type { Env } from "../env.ts";
import { engineFor } from "../../../shared/policy-engine/authorize.ts";
import { starterPolicySet } from "./templates.ts";

const engine = engineFor();
const principal = (fields: Partial<Principal> = {}): Principal => ({
  kind: "api_key", org_id: "org_t", org_slug: "acme", credential_id: "key_1", user_id: "u_ada", email: "ada@acme.test",
  teams: [], roles: [], client: { name: "claude-code", version: "2.0.1" }, ...fields,
});
const sre = principal({ user_id: "u_sre", email: "sam@acme.test", teams: [{ id: "t1", name: "sre" }] });
const dev = principal({ teams: [{ id: "t2", name: "web" }] });

const prodDbTool = (id: string, tags: string[] = []): ResourceDescriptor => ({ type: "Tool", id, server: { id: "prod-db" }, tags });
const at = (hour: number) => new Date(Date.UTC(2026, 10, 25, hour, 30));
const model = (id: string, consumer: boolean): ResourceDescriptor => ({ type: "Model", id, provider: { id: consumer ? "chatgpt-consumer" : "openai", kind: "openai", consumer } });

// The issue's example: "only the sre team may call tools of the prod-db server, and never
// outside 08:00–18:00 UTC; nobody sends prompts to consumer models".
const EXAMPLE = `${starterPolicySet()}
@id("prod-db-sre-only")
forbid (principal, action == Airlock::Action::"call_tool", resource in Airlock::McpServer::"prod-db")
unless { principal in Airlock::Team::"sre" };

@id("prod-db-office-hours")
forbid (principal, action == Airlock::Action::"call_tool", resource in Airlock::McpServer::"prod-db")
unless { context.time.hour >= 8 && context.time.hour < 18 };
`;

describe("validatePolicySet", () => {
  it("accepts the starter templates and the issue's example", () => {
    expect(engine.validatePolicySet(starterPolicySet())).toMatchObject({ ok: true });
    expect(engine.validatePolicySet(EXAMPLE)).toMatchObject({ ok: true });
  });

  it("returns parse errors with Cedar's positions", () => {
    const text = `@id("broken")\npermit (principal, action, resource) when { principal.email == };`;
    const result = engine.validatePolicySet(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const [error] = result.errors;
    expect(error!.message).toMatch(/unexpected token/);
    expect(error!.start).toBeGreaterThan(text.indexOf("when"));
    expect(error!.end).toBeLessThanOrEqual(text.length);
  });

  it("returns schema errors with the policy's @id and the span of the offending expression", () => {
    const text = `@id("ok")\npermit (principal, action == Airlock::Action::"invoke_model", resource);\n@id("typo")\npermit (principal in Airlock::Teem::"sre", action, resource) when { principal.email like "*@acme.test" };\n@id("bad-attr")\nforbid (principal, action == Airlock::Action::"call_tool", resource) when { resource.colour == "red" };`;
    const result = engine.validatePolicySet(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const typo = result.errors.find((e) => e.policyId === "typo")!;
    expect(typo.message).toMatch(/unrecognized entity type `Airlock::Teem`/);
    expect(text.slice(typo.start, typo.end)).toContain("Airlock::Teem");
    const attr = result.errors.find((e) => e.policyId === "bad-attr")!;
    expect(attr.message).toMatch(/colour/);
    expect(text.slice(attr.start, attr.end)).toContain("resource.colour");
  });

  it("refuses two policies with one @id", () => {
    const text = `@id("a")\npermit (principal, action, resource);\n@id("a")\nforbid (principal, action, resource);`;
    expect(engine.validatePolicySet(text)).toMatchObject({ ok: false, errors: [{ message: 'two policies have @id("a")', policyId: "a" }] });
  });

  it("refuses to prepare a set that does not validate", () => {
    expect(() => engine.preparePolicySet("org_bad", 1, `permit (principal is Airlock::Robot, action, resource);`)).toThrow(PolicySetInvalid);
  });
});

describe("decide", () => {
  const set = engine.preparePolicySet("org_example", 7, EXAMPLE);

  it("lets the sre team call prod-db tools in office hours, naming the determining policy", () => {
    const d = engine.decide(set, { principal: sre, action: "call_tool", resource: prodDbTool("query"), now: at(10) });
    expect(d).toEqual({ decision: "allow", determining: ["allow-catalog"], errors: [] });
  });

  it("denies prod-db to other teams, and to sre outside 08:00–18:00 UTC", () => {
    expect(engine.decide(set, { principal: dev, action: "call_tool", resource: prodDbTool("query"), now: at(10) })).toEqual({
      decision: "deny", determining: ["prod-db-sre-only"], errors: [],
    });
    expect(engine.decide(set, { principal: sre, action: "call_tool", resource: prodDbTool("query"), now: at(18) })).toEqual({
      decision: "deny", determining: ["prod-db-office-hours"], errors: [],
    });
    const both = engine.decide(set, { principal: dev, action: "call_tool", resource: prodDbTool("query"), now: at(7) });
    expect(both.decision).toBe("deny");
    expect(both.determining.sort()).toEqual(["prod-db-office-hours", "prod-db-sre-only"]);
  });

  it("leaves other servers' tools to the catalog rule, and forbids destructive tools outside the team", () => {
    const docs: ResourceDescriptor = { type: "Tool", id: "search", server: { id: "docs" } };
    expect(engine.decide(set, { principal: dev, action: "call_tool", resource: docs, now: at(3) }).decision).toBe("allow");
    const drop: ResourceDescriptor = { type: "Tool", id: "drop", server: { id: "docs" }, tags: ["destructive"] };
    expect(engine.decide(set, { principal: dev, action: "call_tool", resource: drop }).determining).toEqual(["forbid-destructive-tools"]);
    const admin = principal({ teams: [{ id: "t9", name: "admins" }] });
    expect(engine.decide(set, { principal: admin, action: "call_tool", resource: drop }).decision).toBe("allow");
  });

  it("denies every prompt to consumer models", () => {
    expect(engine.decide(set, { principal: sre, action: "invoke_model", resource: model("gpt-5", false) }).decision).toBe("allow");
    expect(engine.decide(set, { principal: sre, action: "invoke_model", resource: model("gpt-5", true) })).toEqual({
      decision: "deny", determining: ["forbid-consumer-providers"], errors: [],
    });
  });

  it("denies by default, with no determining policy", () => {
    const d = engine.decide(set, { principal: sre, action: "admin_write", resource: { type: "Org", slug: "acme" } });
    expect(d).toEqual({ decision: "deny", determining: [], errors: [] });
  });

  it("refuses a resource type the action does not apply to (deny, with Cedar's error)", () => {
    const d = engine.decide(set, { principal: sre, action: "invoke_model", resource: prodDbTool("query") });
    expect(d.decision).toBe("deny");
    expect(d.errors.join()).toMatch(/Airlock::Tool/);
  });

  it("refuses entity types the schema does not know", () => {
    const d = engine.decide(set, { principal: sre, action: "call_tool", resource: { type: "Robot", id: "r2" } as unknown as ResourceDescriptor });
    expect(d.decision).toBe("deny");
    expect(d.errors.join()).toMatch(/Robot/);
  });

  it("reads the client, source IP, findings and time from the context", () => {
    const text = `@id("all") permit (principal, action, resource);
@id("no-cursor") forbid (principal, action, resource) when { context.agent == Airlock::Agent::"cursor" };
@id("vpn-only") forbid (principal, action == Airlock::Action::"invoke_model", resource) unless { context has source_ip && context.source_ip.isInRange(ip("10.0.0.0/8")) };
@id("no-secrets") forbid (principal, action, resource) when { context.findings.contains("secret") };
@id("weekend") forbid (principal, action, resource) when { context.now.toTime() < duration("1h") || context.time.weekday == 0 };`;
    const ctx = engine.preparePolicySet("org_ctx", 1, text);
    const ask = (facts: object, who = sre) => engine.decide(ctx, { principal: who, action: "invoke_model", resource: model("m", false), now: at(10), sourceIp: "10.1.2.3", ...facts });
    expect(ask({}).decision).toBe("allow");
    expect(ask({}, principal({ client: { name: "cursor" } })).determining).toEqual(["no-cursor"]);
    expect(ask({ sourceIp: "203.0.113.9" }).determining).toEqual(["vpn-only"]);
    expect(ask({ findings: ["secret"] }).determining).toEqual(["no-secrets"]);
    expect(ask({ now: new Date(Date.UTC(2026, 10, 25, 0, 30)) }).determining).toEqual(["weekend"]);
    expect(ask({ now: new Date(Date.UTC(2026, 10, 29, 12)) }).determining).toEqual(["weekend"]); // a Sunday
  });

  it("looks inside context.input when the schema declares its attributes, and fails closed on the wrong type", () => {
    const withInput = createEngine(cedar, { input: { sql: "String" } });
    const text = `@id("all") permit (principal, action, resource);
@id("no-drop") forbid (principal, action == Airlock::Action::"call_tool", resource) when { context has input && context.input has sql && context.input.sql like "*DROP*" };`;
    const s = withInput.preparePolicySet("org_input", 1, text);
    const call = (input: Record<string, unknown>) => withInput.decide(s, { principal: sre, action: "call_tool", resource: prodDbTool("query"), input });
    expect(call({ sql: "SELECT 1", limit: 5 }).decision).toBe("allow");
    expect(call({ sql: "DROP TABLE users" }).determining).toEqual(["no-drop"]);
    expect(call({ sql: ["DROP TABLE users"] }).decision).toBe("deny");
  });

  it("keeps versions apart when a caller still holds an older one", () => {
    const v1 = engine.preparePolicySet("org_versions", 1, `@id("v1") permit (principal, action, resource);`);
    const v2 = engine.preparePolicySet("org_versions", 2, `@id("v2") forbid (principal, action, resource);`);
    const req = { principal: sre, action: "list_tools" as const, resource: { type: "McpServer" as const, id: "docs" } };
    expect(engine.decide(v2, req).determining).toEqual(["v2"]);
    expect(engine.decide(v1, req).determining).toEqual(["v1"]);
    expect(engine.decide(v2, req).determining).toEqual(["v2"]);
    expect(engine.preparePolicySet("org_versions", 2, "ignored: the version is cached")).toBe(v2);
  });
});

describe("compile", () => {
  it("stores what preparing needs, so a fresh isolate prepares without parsing policy by policy, to the same set", () => {
    const { validation, compiled } = engine.compile(EXAMPLE);
    expect(validation.ok).toBe(true);
    expect(compiled!.policyIds).toEqual(["allow-catalog", "forbid-destructive-tools", "forbid-consumer-providers", "prod-db-sre-only", "prod-db-office-hours"]);
    const fresh = createEngine(cedar);
    const fast = fresh.preparePolicySet("org_compiled", 1, EXAMPLE, compiled);
    const slow = createEngine(cedar).preparePolicySet("org_parsed", 1, EXAMPLE);
    expect(fast.policies).toEqual(slow.policies);
    expect([...fast.observed.literals].sort()).toEqual([...slow.observed.literals].sort());
    expect(fresh.decide(fast, { principal: dev, action: "call_tool", resource: prodDbTool("query"), now: at(10) }).determining).toEqual(["prod-db-sre-only"]);
    // A compiled form that does not match the text is ignored, not trusted.
    const other = fresh.preparePolicySet("org_mismatch", 1, starterPolicySet(), compiled);
    expect(other.policyIds).toEqual(["allow-catalog", "forbid-destructive-tools", "forbid-consumer-providers"]);
    expect(engine.compile("permit (principal is Airlock::Robot, action, resource);").compiled).toBeUndefined();
  });
});

describe("decideMany", () => {
  it("decides 200 tools of one principal in order", () => {
    const set = engine.preparePolicySet("org_many", 1, EXAMPLE);
    const tools: ResourceDescriptor[] = Array.from({ length: 200 }, (_, i) =>
      i % 2 === 0 ? prodDbTool(`t${i}`) : { type: "Tool", id: `t${i}`, server: { id: "docs" }, tags: i % 5 === 0 ? ["destructive"] : [] },
    );
    const decisions = engine.decideMany(set, { principal: dev, action: "call_tool", resources: tools, now: at(10) });
    expect(decisions).toHaveLength(200);
    decisions.forEach((d, i) => {
      const expected = i % 2 === 0 ? ["prod-db-sre-only"] : i % 5 === 0 ? ["forbid-destructive-tools"] : ["allow-catalog"];
      expect(d.determining, `tool ${i}`).toEqual(expected);
      expect(d.decision).toBe(expected[0] === "allow-catalog" ? "allow" : "deny");
    });
  });
});

describe("AuthService RPC", () => {
  const auth = (exports as unknown as { AuthService: AuthRpc }).AuthService;
  const db = database((env as unknown as Env).DB);

  async function seed() {
    const unique = crypto.randomUUID().slice(0, 8);
    const org = { id: `org_${unique}`, slug: `acme-${unique}`, name: "acme" };
    const now = Date.now();
    await db.insert(schema.orgs).values({ ...org, createdAt: now });
    await db.insert(schema.users).values({ id: `${org.id}_u1`, orgId: org.id, email: "ada@acme.test", createdAt: now, updatedAt: now });
    const key = await mintToken("api_key");
    await db.insert(schema.apiKeys).values({ id: key.id, orgId: org.id, name: "agent", secretHash: key.hash, hint: key.hint, createdAt: now, userId: `${org.id}_u1` });
    return { org, key };
  }

  it("authorizeMany decides a tools/list in one call", async () => {
    const { org, key } = await seed();
    const who = await auth.authenticate({ host: { kind: "org", slug: org.slug }, credential: key.token, userAgent: null });
    if (!who.ok) throw new Error(who.detail);
    const tools: ResourceDescriptor[] = [
      { type: "Tool", id: "search", server: { id: "docs" } },
      { type: "Tool", id: "rm", server: { id: "docs" }, tags: ["destructive"] },
    ];
    const result = await auth.authorizeMany({ request_id: "req_many", org_id: org.id, configVersion: who.configVersion, principal: who.principal, action: "call_tool", resources: tools });
    expect(result.policy_version).toBe(0);
    expect(result.decisions.map((d) => d.decision)).toEqual(["allow", "deny"]);
  });
});
