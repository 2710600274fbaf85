import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PolicyDecision, ResourceDescriptor } from "../../shared/policy.ts";
import { gatewayOrg } from "../fixtures/providers/org.ts";
import { startProviderFixture, USAGE } from "../fixtures/providers/server.ts";
import { startMesh, type Mesh } from "./mesh.ts";

// Rate limits and budgets (issue 6): the admin API, and AUTH.admit()/settle() over the
// router's own service binding, as the model gateway calls them. The harness's RPC proxy
// makes each such call synchronously (it blocks Node until the answer), so calls here are
// sequential and each first yields to the event loop (back-to-back blocking calls stalled the
// harness); the 200-concurrent-calls proof runs inside workerd: workers/auth/limits/admit.test.ts.
/** The AUTH RPC methods this file calls (shared/rpc.ts needs the Workers types, not loaded in Node). */
interface AdmitInput {
  host: { kind: "org"; slug: string };
  credential: string;
  userAgent: string;
  request_id: string;
  action: "invoke_model";
  resource_entity: ResourceDescriptor;
  reserve?: { tokens: number; cost_micros: number };
}
interface LimitRefusal { scope: string; scope_id: string; limit: string; retry_after_s: number; detail: string }
type AdmitResult = { ok: true; decision: PolicyDecision; limited?: LimitRefusal; reserved?: true } | { ok: false; code: string; detail: string };
interface SettleInput { org_id: string; request_id: string; tokens: number; cost_micros: number }
interface AuthRpc {
  admit(input: AdmitInput): Promise<AdmitResult>;
  settle(input: SettleInput): Promise<void>;
}

let mesh: Mesh;
let org: Awaited<ReturnType<Mesh["createOrg"]>>;
let auth: AuthRpc;
type Answer = { status: number; json(): Promise<unknown> };
const json = async <T = any>(res: Answer | Promise<Answer>) => (await (await res).json()) as T;

let fixture: Awaited<ReturnType<typeof startProviderFixture>>;

beforeAll(async () => {
  [mesh, fixture] = await Promise.all([startMesh(), startProviderFixture()]);
  org = await mesh.createOrg("budgets");
  auth = ((await mesh.server.getWorker("airlock-router").getEnv()) as unknown as { AUTH: AuthRpc }).AUTH;
});
afterAll(async () => {
  await Promise.all([mesh?.close(), fixture?.close()]);
});

async function agentKey(email: string) {
  const user = await json(org.api("/users", { method: "POST", json: { email } }));
  const key = await json(org.api("/api-keys", { method: "POST", json: { name: email, user_id: user.id } }));
  return { userId: user.id as string, keyId: key.id as string, secret: key.secret as string };
}

let requests = 0;
const admitInput = (credential: string, reserve: AdmitInput["reserve"]): AdmitInput => ({
  host: { kind: "org", slug: org.slug },
  credential,
  userAgent: "budgets-e2e/1",
  request_id: `req-${++requests}-${crypto.randomUUID()}`,
  action: "invoke_model",
  resource_entity: { type: "Model", id: "gpt-4o-mini", provider: { id: "openai", kind: "openai", consumer: false } },
  reserve,
});
/** One admission, after a turn of the event loop (see the note at the top). */
const admit = async (input: AdmitInput) => {
  await new Promise((resolve) => setImmediate(resolve));
  return auth.admit(input);
};
const settle = async (input: SettleInput) => {
  await new Promise((resolve) => setImmediate(resolve));
  return auth.settle(input);
};
const admitted = (r: AdmitResult) => r.ok && r.decision.decision === "allow" && !r.limited;
const limitedBy = (r: AdmitResult) => (r.ok ? r.limited : undefined);

describe("limit rules (admin API)", () => {
  it("validates rules with clear 422s and one rule per scope", async () => {
    const bad = async (body: unknown, path: string, message: RegExp) => {
      const res = await org.api("/limits", { method: "POST", json: body });
      expect(res.status).toBe(422);
      const problem = await json(res);
      expect(problem.code).toBe("validation_failed");
      expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path, message: expect.stringMatching(message) })]));
    };
    await bad({ scope: "team", usd_per_day: 5 }, "scope_id", /required for the team scope/);
    await bad({ scope: "org", scope_id: "x", usd_per_day: 5 }, "scope_id", /null or absent/);
    await bad({ scope: "org" }, "(body)", /at least one of/);
    await bad({ scope: "org", usd_per_day: -1 }, "usd_per_day", /.+/);
    await bad({ scope: "org", requests_per_minute: 1.5 }, "requests_per_minute", /.+/);
    await bad({ scope: "org", usd_per_day: 5, burst: 3 }, "(body)", /burst/);
    await bad({ scope: "team", scope_id: "01NOPE", usd_per_day: 5 }, "scope_id", /no team with this id/);

    const team = await json(org.api("/teams", { method: "POST", json: { name: "limited" } }));
    const rule = await json(org.api("/limits", { method: "POST", json: { scope: "team", scope_id: team.id, usd_per_day: 12.5, requests_per_minute: 100 } }));
    expect(rule).toMatchObject({ scope: "team", scope_id: team.id, usd_per_day: 12.5, requests_per_minute: 100, tokens_per_minute: null, usd_per_month: null });
    const again = await org.api("/limits", { method: "POST", json: { scope: "team", scope_id: team.id, usd_per_month: 1 } });
    expect(again.status).toBe(409);

    expect(await json(org.api(`/limits/${rule.id}`, { method: "PATCH", json: { usd_per_day: null, usd_per_month: 300 } }))).toMatchObject({ usd_per_day: null, usd_per_month: 300, requests_per_minute: 100 });
    const emptied = await org.api(`/limits/${rule.id}`, { method: "PATCH", json: { usd_per_month: null, requests_per_minute: null } });
    expect(emptied.status).toBe(422);
    expect(await json(org.api("/limits"))).toMatchObject({ data: [expect.objectContaining({ id: rule.id })] });

    // Auditors read limits and spend, and cannot change them.
    const auditor = await json(org.api("/admin-tokens", { method: "POST", json: { name: "audit", role: "auditor" } }));
    expect((await mesh.request(org.host, "/api/v1/limits/spend", { token: auditor.secret })).status).toBe(200);
    expect((await mesh.request(org.host, `/api/v1/limits/${rule.id}`, { method: "DELETE", token: auditor.secret })).status).toBe(403);

    expect((await org.api(`/limits/${rule.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await org.api(`/limits/${rule.id}`)).status).toBe(404);
  });
});

describe("limit rules go with the key, user or team they limit", () => {
  const ruleOn = async (scope: string, scopeId: string) => {
    const res = await org.api("/limits", { method: "POST", json: { scope, scope_id: scopeId, requests_per_minute: 10 } });
    expect(res.status).toBe(201);
    return (await json(res)).id as string;
  };
  const ruleIds = async () => (await json<{ data: { id: string }[] }>(org.api("/limits?limit=200"))).data.map((r) => r.id);
  const scim = (path: string, init: { method?: string; json?: unknown } = {}) =>
    mesh.request(org.host, path, { token: scimToken, ...init, headers: { "content-type": "application/scim+json" } });
  let scimToken: string;
  beforeAll(async () => {
    scimToken = (await json(org.api("/scim-token", { method: "POST" }))).secret;
  });

  it("deletes a key's rules when the key is revoked, and refuses new ones on it", async () => {
    const revoked = await agentKey("revoked@budgets.test");
    const kept = await agentKey("kept-key@budgets.test");
    const [gone, stays] = [await ruleOn("key", revoked.keyId), await ruleOn("key", kept.keyId)];
    expect((await org.api(`/api-keys/${revoked.keyId}`, { method: "DELETE" })).status).toBe(204);
    const left = await ruleIds();
    expect(left).not.toContain(gone);
    expect(left).toContain(stays);
    const again = await org.api("/limits", { method: "POST", json: { scope: "key", scope_id: revoked.keyId, requests_per_minute: 1 } });
    expect(again.status).toBe(422);
    expect((await json(again)).errors).toEqual([expect.objectContaining({ path: "scope_id", message: "this API key is revoked" })]);
  });

  it("deletes a team's rules with the team (admin API and SCIM DELETE Group)", async () => {
    const team = await json(org.api("/teams", { method: "POST", json: { name: "doomed" } }));
    const other = await json(org.api("/teams", { method: "POST", json: { name: "spared" } }));
    const group = await json(scim("/scim/v2/Groups", { method: "POST", json: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: "Pushed Group" } }));
    const [teamRule, otherRule, groupRule] = [await ruleOn("team", team.id), await ruleOn("team", other.id), await ruleOn("team", group.id)];
    expect((await org.api(`/teams/${team.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await scim(`/scim/v2/Groups/${group.id}`, { method: "DELETE" })).status).toBe(204);
    const left = await ruleIds();
    expect(left).not.toContain(teamRule);
    expect(left).not.toContain(groupRule);
    expect(left).toContain(otherRule);
  });

  it("keeps a deactivated user's rules and deletes a deleted user's, with their keys' (admin API and SCIM)", async () => {
    const created = await json(scim("/scim/v2/Users", { method: "POST", json: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "leaver@budgets.test", active: true } }));
    const key = await json(org.api("/api-keys", { method: "POST", json: { name: "leaver", user_id: created.id } }));
    const [userRule, keyRule] = [await ruleOn("user", created.id), await ruleOn("key", key.id)];
    const deactivate = { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", value: { active: false } }] };
    expect((await json(scim(`/scim/v2/Users/${created.id}`, { method: "PATCH", json: deactivate }))).active).toBe(false);
    expect(await ruleIds()).toEqual(expect.arrayContaining([userRule, keyRule]));
    expect((await scim(`/scim/v2/Users/${created.id}`, { method: "DELETE" })).status).toBe(204);
    const afterScim = await ruleIds();
    expect(afterScim).not.toContain(userRule);
    expect(afterScim).not.toContain(keyRule);

    const admin = await agentKey("removed@budgets.test");
    const kept = await agentKey("kept-user@budgets.test");
    const rules = [await ruleOn("user", admin.userId), await ruleOn("key", admin.keyId)];
    const keptRules = [await ruleOn("user", kept.userId), await ruleOn("key", kept.keyId)];
    expect((await org.api(`/users/${admin.userId}`, { method: "PATCH", json: { status: "deactivated" } })).status).toBe(200);
    expect(await ruleIds()).toEqual(expect.arrayContaining(rules));
    expect((await org.api(`/users/${admin.userId}`, { method: "DELETE" })).status).toBe(204);
    const left = await ruleIds();
    for (const id of rules) expect(left).not.toContain(id);
    expect(left).toEqual(expect.arrayContaining(keptRules));
  });
});

/** Per-minute counts roll at each UTC minute; tests that count within one start well clear of the edge. */
async function clearOfMinuteEdge() {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 15_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

describe("admission under limits", () => {
  beforeAll(clearOfMinuteEdge, 20_000);

  it("admits what a budget fits, reports spend, frees allowance on settle and applies a raised budget at once", async () => {
    const agent = await agentKey("spender@budgets.test");
    // $0.01 a day for the org; each call may cost $0.002: 5 fit.
    const rule = await json(org.api("/limits", { method: "POST", json: { scope: "org", usd_per_day: 0.01 } }));
    const estimate = { tokens: 1_000, cost_micros: 2_000 };

    const inputs = Array.from({ length: 8 }, () => admitInput(agent.secret, estimate));
    const results: AdmitResult[] = [];
    for (const input of inputs) results.push(await admit(input));
    const ok = inputs.filter((_, i) => admitted(results[i]!));
    expect(ok.length).toBe(5);
    expect(results.slice(5).map((r) => limitedBy(r)?.limit)).toEqual(["usd_per_day", "usd_per_day", "usd_per_day"]);
    const refusal = limitedBy(results[5]!)!;
    expect(refusal).toMatchObject({ scope: "org", scope_id: org.id });
    expect(refusal.retry_after_s).toBeGreaterThan(0);
    expect(refusal.retry_after_s).toBeLessThanOrEqual(86_400);
    expect(refusal.detail).toContain("budget of $0.01 per day");

    const spendOf = async () => (await json(org.api("/limits/spend"))).data.find((s: { rule_id: string }) => s.rule_id === rule.id);
    let spend = await spendOf();
    expect(spend.usd_per_day).toMatchObject({ limit: 0.01, used: 0, reserved: 0.01 });
    expect(spend.requests_per_minute).toMatchObject({ limit: null, used: 0, reserved: 5 });
    expect(Date.parse(spend.usd_per_day.resets_at) - Date.now()).toBeLessThanOrEqual(86_400_000);

    // Each call really cost half its estimate; settling twice changes nothing.
    for (const input of ok) await settle({ org_id: org.id, request_id: input.request_id, tokens: 400, cost_micros: 1_000 });
    await settle({ org_id: org.id, request_id: ok[0]!.request_id, tokens: 400, cost_micros: 1_000 });
    spend = await spendOf();
    expect(spend.usd_per_day).toMatchObject({ used: 0.005, reserved: 0 });
    expect(spend.tokens_per_minute).toMatchObject({ used: 2_000, reserved: 0 });
    expect(spend.requests_per_minute).toMatchObject({ used: 5, reserved: 0 });

    // $0.005 left: two more fit at $0.002.
    const more: AdmitResult[] = [];
    for (let i = 0; i < 3; i++) more.push(await admit(admitInput(agent.secret, estimate)));
    expect(more.map(admitted)).toEqual([true, true, false]);

    // A retried admission with the same request id gets the same answer and holds nothing more.
    const repeat = admitInput(agent.secret, estimate);
    const first = await admit(repeat);
    expect(limitedBy(first)?.limit).toBe("usd_per_day");
    expect(limitedBy(await admit(repeat))).toEqual(limitedBy(first));

    // Raising the budget applies to the very next call (the write bumps the config version).
    expect((await org.api(`/limits/${rule.id}`, { method: "PATCH", json: { usd_per_day: 1 } })).status).toBe(200);
    expect(admitted(await admit(admitInput(agent.secret, estimate)))).toBe(true);
    expect((await org.api(`/limits/${rule.id}`, { method: "DELETE" })).status).toBe(204);
  });

  it("limits a key's requests per minute, releases a failed call, and leaves other keys and unreserved calls alone", async () => {
    const limited = await agentKey("limited@budgets.test");
    const other = await agentKey("other@budgets.test");
    await json(org.api("/limits", { method: "POST", json: { scope: "key", scope_id: limited.keyId, requests_per_minute: 2 } }));
    const estimate = { tokens: 10, cost_micros: 10 };

    const a = admitInput(limited.secret, estimate);
    expect(await admit(a)).toMatchObject({ ok: true, reserved: true });
    expect(admitted(await admit(admitInput(limited.secret, estimate)))).toBe(true);
    const third = await admit(admitInput(limited.secret, estimate));
    expect(limitedBy(third)).toMatchObject({ scope: "key", scope_id: limited.keyId, limit: "requests_per_minute" });
    expect(limitedBy(third)!.retry_after_s).toBeLessThanOrEqual(60);
    expect(limitedBy(third)!.detail).toContain("allows 2 requests per minute");

    // The first call failed upstream: zeros release its slot.
    await settle({ org_id: org.id, request_id: a.request_id, tokens: 0, cost_micros: 0 });
    expect(admitted(await admit(admitInput(limited.secret, estimate)))).toBe(true);

    // Another key has no rule; a call that asks no reservation (e.g. an MCP tool call) is not counted.
    for (let i = 0; i < 3; i++) {
      const free = await admit(admitInput(other.secret, estimate));
      expect(admitted(free)).toBe(true);
      expect(free.ok && free.reserved).toBeUndefined();
    }
    expect(admitted(await admit(admitInput(limited.secret, undefined)))).toBe(true);
  });

  it("reserves nothing for a request the policy denies", async () => {
    const agent = await agentKey("denied@budgets.test");
    await json(org.api("/limits", { method: "POST", json: { scope: "user", scope_id: agent.userId, requests_per_minute: 1 } }));
    const consumer = { ...admitInput(agent.secret, { tokens: 1, cost_micros: 1 }), resource_entity: { type: "Model", id: "chatgpt", provider: { id: "chatgpt", kind: "openai", consumer: true }, consumer: true } } as AdmitInput;
    const denied = await admit(consumer);
    expect(denied.ok && denied.decision.decision).toBe("deny");
    expect(limitedBy(denied)).toBeUndefined();
    // The user's one request per minute is still there.
    expect(admitted(await admit(admitInput(agent.secret, { tokens: 1, cost_micros: 1 })))).toBe(true);
    expect(limitedBy(await admit(admitInput(agent.secret, { tokens: 1, cost_micros: 1 })))?.scope).toBe("user");
  });
});

describe("config-version leases", () => {
  it("refuse a key revoked through the admin API on the next call, though the key was busy just before", async () => {
    const agent = await agentKey("busy@budgets.test");
    // Traffic right before the revoke: the auth isolate holds a lease on the org's config version.
    for (let i = 0; i < 5; i++) expect(admitted(await admit(admitInput(agent.secret, undefined)))).toBe(true);
    expect((await mesh.request(org.host, "/api/v1/me", { token: agent.secret })).status).toBe(200);
    expect((await org.api(`/api-keys/${agent.keyId}`, { method: "DELETE" })).status).toBe(204);
    // The admin API answered only once no isolate could still decide at the old version.
    expect(await admit(admitInput(agent.secret, undefined))).toMatchObject({ ok: false, code: "credential_revoked" });
    const after = await mesh.request(org.host, "/api/v1/me", { token: agent.secret });
    expect(after.status).toBe(401);
  });
});

describe("the model gateway under a budget", () => {
  it("answers exactly the 50 of 200 parallel calls a day's budget fits, 429s the rest, and settles within the budget", async () => {
    const gw = await gatewayOrg(mesh, "budgets-gw", fixture.url);
    const provider = await gw.provider("openai", "openai", "sk-fixture-openai-0123456789");
    // Input free and $1 per million output tokens (1 micro-dollar a token), with max_tokens equal to
    // what the fixture answers with: each call reserves exactly what it will cost, so an answer that
    // settles early frees nothing and exactly 50 fit whatever the order.
    await gw.model("gpt-4o-mini", [{ provider_id: provider.id, model: "gpt-4o-mini" }], { price: { input: 0, output: 1 } });
    const perCall = USAGE.output;
    const rule = await json(gw.api("/limits", { method: "POST", json: { scope: "org", usd_per_day: (50 * perCall) / 1e6 } }));
    const call = () =>
      mesh.request(gw.host, "/llm/openai/v1/chat/completions", {
        method: "POST", token: gw.apiKey, json: { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], max_tokens: perCall },
      });

    const before = fixture.requests.length;
    const answers = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const answer = await call();
        return { status: answer.status, retryAfter: answer.headers.get("retry-after"), body: await answer.text() };
      }),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200).length).toBe(50);
    expect(statuses.filter((s) => s === 429).length).toBe(150);
    expect(fixture.requests.length - before).toBe(50);
    const refused = answers.find((a) => a.status === 429)!;
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(refused.body).toContain("usd_per_day");

    // Settled after the answers (waitUntil): the real cost replaces the estimates and the budget is spent, not overrun.
    const spendOf = async () => (await json(gw.api("/limits/spend"))).data.find((s: { rule_id: string }) => s.rule_id === rule.id).usd_per_day;
    let spend = await spendOf();
    for (let i = 0; i < 50 && spend.reserved > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      spend = await spendOf();
    }
    expect(spend).toMatchObject({ used: (50 * perCall) / 1e6, reserved: 0 });
    expect((await call()).status).toBe(429);
  });
});
