// Issue 5's story: a security lead writes "only the sre team may call tools of the prod-db
// server, and never outside 08:00–18:00 UTC; nobody sends prompts to consumer models" in
// Cedar, tests it, simulates it against recorded traffic, ships it as a new version that
// the model gateway and authorizeMany() honour at once, and rolls back in one call.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PolicyAction, PolicyDecision, RequestFacts, ResourceDescriptor } from "../../shared/policy.ts";
import type { Principal } from "../../shared/principal.ts";
import { callEventOf } from "../fixtures/providers/org.ts";
import { startMesh, type Mesh } from "./mesh.ts";

type MeshResponse = Awaited<ReturnType<Mesh["request"]>>;
/** The AUTH RPC methods this story calls (shared/rpc.ts's AuthRpc needs the Workers types, not loaded in Node). */
interface AuthRpc {
  authenticate(input: { host: { kind: "org"; slug: string }; credential: string; userAgent: string | null }): Promise<
    { ok: true; principal: Principal; configVersion: number } | { ok: false; detail: string }
  >;
  authorizeMany(input: {
    request_id: string; org_id: string; configVersion: number; principal: Principal; action: PolicyAction; resources: ResourceDescriptor[]; facts?: RequestFacts;
  }): Promise<{ policy_version: number; mode: string; decisions: PolicyDecision[] }>;
}

let mesh: Mesh;
let acme: Awaited<ReturnType<Mesh["createOrg"]>>;
let auth: AuthRpc;
const keys: Record<"sam" | "dev", string> = { sam: "", dev: "" };

const STARTER = "allow-catalog"; // the starter template that permits the catalog
const POLICY = `@id("allow-catalog")
permit (principal, action in [Airlock::Action::"invoke_model", Airlock::Action::"list_tools", Airlock::Action::"call_tool"], resource);

@id("prod-db-sre-only")
forbid (principal, action == Airlock::Action::"call_tool", resource in Airlock::McpServer::"prod-db")
unless { principal in Airlock::Team::"sre" };

@id("prod-db-office-hours")
forbid (principal, action == Airlock::Action::"call_tool", resource in Airlock::McpServer::"prod-db")
unless { context.time.hour >= 8 && context.time.hour < 18 };

@id("no-consumer-models")
forbid (principal, action == Airlock::Action::"invoke_model", resource)
when { resource.consumer };
`;
const query: ResourceDescriptor = { type: "Tool", id: "query", server: { id: "prod-db" } };
const search: ResourceDescriptor = { type: "Tool", id: "search", server: { id: "docs" } };
const consumer: ResourceDescriptor = { type: "Model", id: "gpt-5", provider: { id: "chatgpt", kind: "openai", consumer: true } };
const at = (hour: number) => `2026-11-25T${String(hour).padStart(2, "0")}:30:00.000Z`;
const test = (name: string, principal: object, resource: ResourceDescriptor, expect: "allow" | "deny", hour = 10) => ({
  name, expect,
  request: { principal, action: resource.type === "Model" ? "invoke_model" : "call_tool", resource, context: { now: at(hour) } },
});
const SAM = { type: "User", id: "u_sam", teams: ["sre"] };
const DEV = { type: "User", id: "u_dev", teams: ["web"] };
const TESTS = [
  test("sre may query prod-db in office hours", SAM, query, "allow"),
  test("sre may not query prod-db at night", SAM, query, "deny", 22),
  test("web may not query prod-db", DEV, query, "deny"),
  test("web may search docs", DEV, search, "allow"),
  test("nobody prompts consumer models", SAM, consumer, "deny"),
];

async function json<T = any>(res: MeshResponse, status: number): Promise<T> {
  const body = await res.text();
  expect(res.status, body).toBe(status);
  return JSON.parse(body) as T;
}

async function activeEtag() {
  return (await acme.api("/policies/active")).headers.get("etag")!;
}

/** One decision for one resource, as a gateway makes it: the caller authenticated, then decided under the org's active set. */
async function decide(who: "sam" | "dev", resource: ResourceDescriptor, hour = 10, extra: { requestId?: string; input?: Record<string, unknown> } = {}) {
  const caller = await auth.authenticate({ host: { kind: "org", slug: "acme" }, credential: keys[who], userAgent: "claude-cli/2.0.1 (external, cli)" });
  if (!caller.ok) throw new Error(caller.detail);
  const facts: RequestFacts = { now: new Date(at(hour)), ...(extra.input ? { input: extra.input } : {}) };
  const result = await auth.authorizeMany({
    request_id: extra.requestId ?? `req_${crypto.randomUUID()}`, org_id: acme.id, configVersion: caller.configVersion, principal: caller.principal,
    action: resource.type === "Model" ? "invoke_model" : "call_tool", resources: [resource], facts,
  });
  return { decision: { ...result.decisions[0]!, policy_version: result.policy_version, mode: result.mode } };
}

beforeAll(async () => {
  mesh = await startMesh();
  acme = await mesh.createOrg("acme");
  auth = ((await mesh.server.getWorker("airlock-router").getEnv()) as unknown as { AUTH: AuthRpc }).AUTH;
  // `consumer` in the org's catalog: the starter templates refuse it before any provider is asked (nothing listens here).
  const chatgpt = await json(await acme.api("/providers", { method: "POST", json: { name: "chatgpt", kind: "openai", base_url: "http://127.0.0.1:9", credential: "sk-never-used-0123456789", consumer: true } }), 201);
  await json(await acme.api("/models", { method: "POST", json: { name: "gpt-5", deployments: [{ provider_id: chatgpt.id, model: "gpt-5" }] } }), 201);
  const sre = await json(await acme.api("/teams", { method: "POST", json: { name: "sre" } }), 201);
  const web = await json(await acme.api("/teams", { method: "POST", json: { name: "web" } }), 201);
  for (const [who, team] of [["sam", sre], ["dev", web]] as const) {
    const user = await json(await acme.api("/users", { method: "POST", json: { email: `${who}@acme.test` } }), 201);
    await json(await acme.api(`/teams/${team.id}/members/${user.id}`, { method: "PUT" }), 200);
    keys[who] = (await json(await acme.api("/api-keys", { method: "POST", json: { name: who, user_id: user.id } }), 201)).secret;
  }
});
afterAll(() => mesh?.close());

describe("policies", () => {
  it("starts on the starter templates (version 0) and records every decision", async () => {
    const active = await json(await acme.api("/policies/active"), 200);
    expect(active).toMatchObject({ version: 0, mode: "enforce", activated_at: null });
    const decided = await decide("dev", query);
    expect(decided).toMatchObject({ decision: { decision: "allow", determining: [STARTER], policy_version: 0, mode: "enforce" } });
    // A model call through the gateway: refused before any provider is asked, and its decision recorded.
    const refused = await mesh.request(acme.host, "/llm/chatgpt/v1/chat/completions", {
      method: "POST", token: keys.dev, headers: { "user-agent": "cursor/1.7" }, json: { model: "gpt-5", messages: [{ role: "user", content: "hi" }] },
    });
    expect(refused.status).toBe(403);
    const requestId = refused.headers.get("x-request-id")!;
    // The call's one event carries its decision, with what a replay needs.
    const event = await callEventOf(acme, requestId);
    expect(event).toMatchObject({
      class_uid: 6003, metadata: { correlation_uid: requestId },
      airlock: {
        decision: "deny",
        reason: "policy_denied",
        policy: { decision: "deny", version: 0, mode: "enforce", enforced: true, action: "invoke_model", determining: ["forbid-consumer-providers"], replay: { resource: consumer } },
      },
    });
    const page = await json(await acme.api(`/audit-events?request_id=${requestId}`), 200);
    expect(page.data.map((e: { class_uid: number }) => e.class_uid)).toEqual([6003]);
    // Simulation replays it from there: a draft that permits everything would have let it through.
    const permitAll = '@id("all")\npermit (principal, action, resource);\n';
    const replay = await json(await acme.api("/policies/simulate", { method: "POST", json: { text: permitAll, from: new Date(Date.now() - 60_000).toISOString() } }), 200);
    expect(replay).toMatchObject({ changed: 1, by_resource: [{ action: "invoke_model", resource: "Model chatgpt/gpt-5", deny_to_allow: 1, allow_to_deny: 0 }] });
  });

  it("refuses a policy that does not validate: 422 with Cedar's errors at line and column", async () => {
    const text = `@id("typo")\npermit (principal in Airlock::Teem::"sre", action, resource);\n`;
    const problem = await json(await acme.api("/policies", { method: "POST", json: { text, message: "typo" } }), 422);
    expect(problem).toMatchObject({ code: "validation_failed", errors: [{ path: "text", policy_id: "typo", line: 2, message: expect.stringMatching(/Airlock::Teem/) }] });
    expect(problem.errors[0].column).toBeGreaterThan(1);
    const parse = await json(await acme.api("/policies", { method: "POST", json: { text: "permit (principal, action, resource) when { 1 + };", message: "x" } }), 422);
    expect(parse.errors[0]).toMatchObject({ path: "text", line: 1, column: expect.any(Number) });
    const badTest = { ...TESTS[0], request: { ...TESTS[0]!.request, principal: { type: "Robot", id: "r2" } } };
    const unknownType = await json(await acme.api("/policies", { method: "POST", json: { text: POLICY, message: "x", tests: [badTest] } }), 422);
    expect(unknownType.errors[0].path).toMatch(/^tests\.0\.request\.principal/);
  });

  it("tests a draft, simulates it against recorded traffic, then ships it", async () => {
    const run = await json(await acme.api("/policies/test", { method: "POST", json: { text: POLICY, tests: TESTS } }), 200);
    expect(run).toMatchObject({ version: null, passed: 5, failed: 0 });
    expect(run.results[2]).toMatchObject({ name: "web may not query prod-db", decision: "deny", determining: ["prod-db-sre-only"], passed: true });

    // Traffic under the starter templates: dev queried prod-db (allowed then), listed tools.
    await decide("dev", query);
    const dev = await auth.authenticate({ host: { kind: "org", slug: "acme" }, credential: keys.dev, userAgent: null });
    if (!dev.ok) throw new Error(dev.detail);
    const tools: ResourceDescriptor[] = [query, search, { type: "Tool", id: "migrate", server: { id: "prod-db" } }];
    const listed = await auth.authorizeMany({ request_id: "req_list_1", org_id: acme.id, configVersion: dev.configVersion, principal: dev.principal, action: "call_tool", resources: tools, facts: { now: new Date(at(10)) } });
    expect(listed.decisions.map((d) => d.decision)).toEqual(["allow", "allow", "allow"]);
    const listEvent = await mesh.auditEventOf(acme, "req_list_1");
    expect(listEvent.airlock.policy).toMatchObject({ allowed: 3, denied: 0, replay: { total: 3, servers: [{ id: "prod-db" }, { id: "docs" }] } });

    const from = new Date(Date.now() - 10 * 60_000).toISOString();
    const sim = await json(await acme.api("/policies/simulate", { method: "POST", json: { text: POLICY, from } }), 200);
    expect(sim.version).toBeNull();
    expect(sim.truncated).toBe(false);
    // dev's prod-db calls (two calls, two tools of the list) flip; the consumer model was already denied.
    expect(sim.changed).toBeGreaterThanOrEqual(4);
    expect(sim.by_action).toContainEqual({ action: "call_tool", allow_to_deny: sim.changed, deny_to_allow: 0 });
    expect(sim.by_resource).toContainEqual(expect.objectContaining({ resource: "Tool prod-db/query", allow_to_deny: 3 }));
    expect(sim.samples[0]).toMatchObject({ before: { decision: "allow", version: 0 }, after: { decision: "deny", determining: ["prod-db-sre-only"] } });

    const created = await json(await acme.api("/policies", { method: "POST", json: { text: POLICY, message: "prod-db for sre in office hours; no consumer models", tests: TESTS } }), 201);
    expect(created).toMatchObject({ version: 1, parent_version: 0, active: false, mode: "enforce", author: { email: null } });
    expect(created.diff).toMatch(/^--- v0\n\+\+\+ v1\n@@ /);
    expect(created.diff).toContain('+@id("prod-db-sre-only")');
    expect(created.diff).toContain('-@id("forbid-destructive-tools")');

    // Activation needs the active pointer's ETag.
    const missing = await json(await acme.api("/policies/1/activate", { method: "POST" }), 428);
    expect(missing.code).toBe("precondition_required");
    const stale = await json(await acme.api("/policies/1/activate", { method: "POST", headers: { "if-match": '"v0-stale"' } }), 412);
    expect(stale.code).toBe("precondition_failed");
    const etag = await activeEtag();
    const activated = await acme.api("/policies/1/activate", { method: "POST", headers: { "if-match": etag } });
    const pointer = await json(activated, 200);
    expect(pointer).toMatchObject({ version: 1, mode: "enforce", activated_by: expect.any(String), activated_at: expect.any(String) });
    expect(activated.headers.get("etag")).toBe(pointer.etag);
    expect(pointer.etag).not.toBe(etag);
    // The old ETag is stale now: a second admin acting on what they read loses.
    expect((await acme.api("/policies/0/activate", { method: "POST", headers: { "if-match": etag } })).status).toBe(412);

    // Decisions honour it on the next request.
    expect(await decide("sam", query)).toMatchObject({ decision: { decision: "allow", policy_version: 1 } });
    expect(await decide("sam", query, 22)).toMatchObject({ decision: { decision: "deny", determining: ["prod-db-office-hours"] } });
    expect(await decide("dev", query)).toMatchObject({ decision: { decision: "deny", determining: ["prod-db-sre-only"], mode: "enforce" } });
    expect(await decide("sam", consumer)).toMatchObject({ decision: { decision: "deny", determining: ["no-consumer-models"] } });
    const many = await auth.authorizeMany({ request_id: "req_list_2", org_id: acme.id, configVersion: (await auth.authenticate({ host: { kind: "org", slug: "acme" }, credential: keys.dev, userAgent: null }) as { configVersion: number }).configVersion, principal: dev.principal, action: "call_tool", resources: tools, facts: { now: new Date(at(10)) } });
    expect(many).toMatchObject({ policy_version: 1, mode: "enforce" });
    expect(many.decisions.map((d) => d.decision)).toEqual(["deny", "allow", "deny"]);
  });

  it("refuses to activate a version whose tests fail (409 with the failures)", async () => {
    const wrong = [...TESTS, test("web may query prod-db (wrong)", DEV, query, "allow")];
    const created = await json(await acme.api("/policies", { method: "POST", json: { text: POLICY, message: "a wrong expectation", tests: wrong } }), 201);
    const run = await json(await acme.api("/policies/test", { method: "POST", json: { version: created.version } }), 200);
    expect(run).toMatchObject({ version: created.version, passed: 5, failed: 1 });
    const refused = await json(await acme.api(`/policies/${created.version}/activate`, { method: "POST", headers: { "if-match": await activeEtag() } }), 409);
    expect(refused).toMatchObject({ code: "policy_tests_failed", errors: [{ path: "tests.5", message: expect.stringMatching(/expected allow, got deny \(determining: prod-db-sre-only\)/) }] });
    expect((await json(await acme.api("/policies/active"), 200)).version).toBe(1);
  });

  it("log_only records the real decision and blocks nothing; rollback is one call", async () => {
    const logOnly = await json(await acme.api("/policies", { method: "POST", json: { text: POLICY, message: "trial run", tests: TESTS, mode: "log_only" } }), 201);
    expect(logOnly.diff).toBe("");
    await json(await acme.api(`/policies/${logOnly.version}/activate`, { method: "POST", headers: { "if-match": await activeEtag() } }), 200);
    expect(await decide("dev", query)).toMatchObject({ decision: { decision: "deny", determining: ["prod-db-sre-only"], mode: "log_only", policy_version: logOnly.version } });

    // Roll back to the starter templates: dev may query prod-db again.
    await json(await acme.api("/policies/0/activate", { method: "POST", headers: { "if-match": await activeEtag() } }), 200);
    expect(await decide("dev", query)).toMatchObject({ decision: { decision: "allow", policy_version: 0, mode: "enforce" } });

    const list = await json(await acme.api("/policies?limit=2"), 200);
    expect(list.data.map((v: { version: number }) => v.version)).toEqual([logOnly.version, logOnly.version - 1]);
    expect(list.next_cursor).not.toBeNull();
    const rest = await json(await acme.api(`/policies?limit=2&cursor=${list.next_cursor}`), 200);
    expect(rest.data.map((v: { version: number }) => v.version)).toEqual([1]);
    const v1 = await json(await acme.api("/policies/1"), 200);
    expect(v1).toMatchObject({ version: 1, text: POLICY, tests: TESTS.map((t) => expect.objectContaining({ name: t.name })), active: false });
    expect((await acme.api("/policies/99")).status).toBe(404);
  });

  it("lets policies read declared tool arguments, and records only those", async () => {
    const text = `${POLICY}
@id("no-drop")
forbid (principal, action == Airlock::Action::"call_tool", resource)
when { context has input && context.input has sql && context.input.sql like "*DROP*" };
`;
    const dropTest = { name: "nobody drops", expect: "deny", request: { principal: SAM, action: "call_tool", resource: query, context: { now: at(10), input: { sql: "DROP TABLE users" } } } };
    // Undeclared, the argument is not in the request Cedar sees (`context.input has sql` is false).
    const undeclared = await json(await acme.api("/policies/test", { method: "POST", json: { text, tests: [dropTest] } }), 200);
    expect(undeclared).toMatchObject({ passed: 0, failed: 1 });
    const declared = await json(await acme.api("/policies/test", { method: "POST", json: { text, tests: [dropTest], input: { sql: "String" } } }), 200);
    expect(declared).toMatchObject({ passed: 1, results: [{ determining: ["no-drop"] }] });
    const created = await json(await acme.api("/policies", { method: "POST", json: { text, message: "no drops", tests: [dropTest], input: { sql: "String" } } }), 201);
    expect(created.input).toEqual({ sql: "String" });
    await json(await acme.api(`/policies/${created.version}/activate`, { method: "POST", headers: { "if-match": await activeEtag() } }), 200);
    const requestId = `req_${crypto.randomUUID()}`;
    const dropped = await decide("sam", query, 10, { requestId, input: { sql: "DROP TABLE users", password: "hunter2" } });
    expect(dropped).toMatchObject({ decision: { decision: "deny", determining: ["no-drop"], policy_version: created.version } });
    const event = await mesh.auditEventOf(acme, requestId);
    expect(event.airlock.policy.replay.facts.input).toEqual({ sql: "DROP TABLE users" });
    expect(JSON.stringify(event)).not.toContain("hunter2");
    expect(await decide("sam", query)).toMatchObject({ decision: { decision: "allow" } });
  });

  it("lets auditors read, test and simulate, and not write", async () => {
    const minted = await json(await acme.api("/admin-tokens", { method: "POST", json: { name: "auditor", role: "auditor" } }), 201);
    const read = await acme.api("/policies", { token: minted.secret });
    expect(read.status).toBe(200);
    const tested = await acme.api("/policies/test", { token: minted.secret, method: "POST", json: { version: 0 } });
    expect(tested.status).toBe(200);
    const write = await acme.api("/policies", { token: minted.secret, method: "POST", json: { text: POLICY, message: "no" } });
    expect(write.status).toBe(403);
  });
});
