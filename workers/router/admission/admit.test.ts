import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { database, schema } from "../../../shared/db/index.ts";
import type { EventMessage } from "../../../shared/events.ts";
import type { Metric } from "../../../shared/limits/limits.ts";
import type { WindowKind } from "../../../shared/limits/windows.ts";
import type { ResourceDescriptor } from "../../../shared/policy.ts";
import { orgStateOf, type AdmitInput, type AdmitResult, type AuthRpc, type OrgStateRpc, type SettleInput } from "../../../shared/rpc.ts";
import { mintToken } from "../../../shared/tokens.ts";
import { admit, settle } from "./admit.ts";

// The router's admission against airlock-auth's real AuthService, OrgState and D1, many calls
// in flight at once inside workerd. It runs in the auth Worker's test project (vitest.config.ts),
// which has them all; what it checks is the router's side: authentication answers reused under
// airlock-auth's version lease, the policy decision, and reservations from an allowance lease.
const testEnv = env as unknown as { DB: D1Database; ORG_STATE: DurableObjectNamespace; EVENTS: Queue<EventMessage> };
const auth = (exports as unknown as { AuthService: AuthRpc }).AuthService;
const db = database(testEnv.DB);
const admissionEnv = { AUTH: auth, DB: testEnv.DB, ORG_STATE: testEnv.ORG_STATE, EVENTS: testEnv.EVENTS };
const waitUntil = (promise: Promise<unknown>) => void promise.catch(() => undefined);
const admitNow = (input: AdmitInput) => admit(admissionEnv, input, waitUntil);
const settleNow = (input: SettleInput) => settle(admissionEnv, input);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The OrgState as the router binds it, plus what airlock-auth's admin API reads from it (the counters). */
type Counter = { scope: string; scope_id: string; metric: Metric; win: WindowKind; used: number; reserved: number };
const orgState = (orgId: string) => orgStateOf(testEnv.ORG_STATE, orgId) as OrgStateRpc & { spend(): Promise<{ counters: Counter[] }> };
const reservationState = (orgId: string, requestId: string) =>
  runInDurableObject(testEnv.ORG_STATE.getByName(orgId), (_i: unknown, state) =>
    state.storage.sql.exec<{ state: string }>("SELECT state FROM limit_reservations WHERE request_id = ?", requestId).toArray()[0]?.state ?? null,
  );
/** The org's dollars-per-day counter at the OrgState. */
const costToday = async (orgId: string) => (await orgState(orgId).spend()).counters.find((c) => c.scope === "org" && c.metric === "cost_micros" && c.win === "day") ?? { used: 0, reserved: 0 };
const model = (id: string, consumer: boolean): ResourceDescriptor => ({ type: "Model", id, provider: { id: consumer ? "chatgpt-consumer" : "openai", kind: "openai", consumer } });

/** An org with an API key (a user's, with `user`), and admission inputs for that key. */
async function orgWithKey(prefix: string, options: { user?: boolean } = {}) {
  const unique = crypto.randomUUID().slice(0, 8);
  const now = Date.now();
  const org = { id: `org_${unique}`, slug: `${prefix}-${unique}`, name: prefix };
  await db.insert(schema.orgs).values({ ...org, createdAt: now });
  const userId = options.user ? `${org.id}_u1` : null;
  if (userId) await db.insert(schema.users).values({ id: userId, orgId: org.id, email: "ada@acme.test", createdAt: now, updatedAt: now });
  const key = await mintToken("api_key");
  await db.insert(schema.apiKeys).values({ id: key.id, orgId: org.id, name: "agent", secretHash: key.hash, hint: key.hint, createdAt: now, userId });
  /** A rule written as the admin API does: the row, then a config version bump. */
  const setRule = async (rule: Partial<typeof schema.limitRules.$inferInsert>) => {
    await db.insert(schema.limitRules).values({ id: `lr_${crypto.randomUUID()}`, orgId: org.id, scope: "org", scopeId: null, createdAt: now, updatedAt: now, ...rule });
    await orgState(org.id).bumpConfigVersion();
  };
  const input = (reserve?: AdmitInput["reserve"]): AdmitInput => ({
    host: { kind: "org", slug: org.slug },
    credential: key.token,
    userAgent: `${prefix}-test/1`,
    request_id: `${org.id}-${crypto.randomUUID()}`,
    action: "invoke_model",
    resource_entity: model("gpt-4o-mini", false),
    ...(reserve ? { reserve } : {}),
  });
  return { org, key, setRule, input };
}

const admitted = (r: AdmitResult) => r.ok && r.decision.decision === "allow" && !r.limited;
const limited = (r: AdmitResult) => (r.ok ? r.limited : undefined);

describe("admission with reservations", () => {
  // Per-minute counts roll at each UTC minute: start well clear of the edge.
  beforeAll(async () => {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 15_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
  }, 20_000);

  it("admits exactly the 50 of 200 concurrent calls a budget fits, and settling lower frees the rest", async () => {
    const { org, setRule, input } = await orgWithKey("limits");
    // $0.10 a day; each call may cost $0.002: 50 fit.
    await setRule({ usdPerDayMicros: 100_000 });
    const estimate = { tokens: 1_000, cost_micros: 2_000 };

    const inputs = Array.from({ length: 200 }, () => input(estimate));
    const results = await Promise.all(inputs.map((i) => admitNow(i)));
    const ok = inputs.filter((_, i) => admitted(results[i]!));
    expect(ok.length).toBe(50);
    expect(results.filter(limited).length).toBe(150);
    const refusal = results.map(limited).find(Boolean)!;
    expect(refusal).toMatchObject({ scope: "org", scope_id: org.id, limit: "usd_per_day" });
    expect(refusal.retry_after_s).toBeGreaterThan(0);
    expect(refusal.retry_after_s).toBeLessThanOrEqual(86_400);

    const day = async () => (await orgState(org.id).spend()).counters.find((c) => c.scope === "org" && c.metric === "cost_micros" && c.win === "day")!;
    expect(await day()).toMatchObject({ used: 0, reserved: 100_000 });

    // Each call really cost half its estimate; settled (twice: the second is a no-op), half the budget is free again.
    await Promise.all(ok.map((i) => settleNow({ org_id: org.id, request_id: i.request_id, tokens: 400, cost_micros: 1_000 })));
    await Promise.all(ok.map((i) => settleNow({ org_id: org.id, request_id: i.request_id, tokens: 400, cost_micros: 1_000 })));
    // Calls admitted from the isolate's allowance lease reach the OrgState's counters when the lease ends.
    await vi.waitFor(async () => expect(await day()).toMatchObject({ used: 50_000, reserved: 0 }), { timeout: 5_000, interval: 100 });

    const moreInputs = Array.from({ length: 40 }, () => input(estimate));
    const more = await Promise.all(moreInputs.map((i) => admitNow(i)));
    expect(more.filter(admitted).length).toBe(25);
    expect(more.filter(limited).length).toBe(15);
    // Each cost its whole estimate: once every lease is back, exactly the budget is spent.
    await Promise.all(moreInputs.filter((_, i) => admitted(more[i]!)).map((i) => settleNow({ org_id: org.id, request_id: i.request_id, tokens: 1_000, cost_micros: 2_000 })));
    await vi.waitFor(async () => expect(await day()).toMatchObject({ used: 100_000, reserved: 0 }), { timeout: 5_000, interval: 100 });
  }, 20_000);

  it("decides again when an admin write lands between the isolate's last look and the reservation", async () => {
    const { org, key, setRule, input } = await orgWithKey("limits");
    await setRule({ requestsPerMinute: 100 });
    // This isolate now knows the org's config version.
    expect(admitted(await admitNow(input({ tokens: 1, cost_micros: 1 })))).toBe(true);
    // Revoke the key behind the isolate's back, as the admin API does (row, then bump).
    await db.update(schema.apiKeys).set({ revokedAt: Date.now() }).where(eq(schema.apiKeys.id, key.id));
    await orgState(org.id).bumpConfigVersion();
    const revoked = await admitNow(input({ tokens: 1, cost_micros: 1 }));
    expect(revoked).toMatchObject({ ok: false, code: "credential_revoked" });
    // Nothing was held for the refused call: once the allowance lease the first call took is
    // back (it ends with its time: a refused caller never reaches the OrgState), only that call is.
    const minute = async () => (await orgState(org.id).spend()).counters.find((c) => c.metric === "requests" && c.win === "minute")!;
    await vi.waitFor(async () => expect((await minute()).reserved).toBe(1), { timeout: 5_000, interval: 50 });
  });

  it("a tightened limit applies to the very next call", async () => {
    const { org, setRule, input } = await orgWithKey("limits");
    await setRule({ scope: "key", scopeId: (await db.query.apiKeys.findFirst({ where: eq(schema.apiKeys.orgId, org.id) }))!.id, tokensPerMinute: 1_000 });
    expect(admitted(await admitNow(input({ tokens: 600, cost_micros: 1 })))).toBe(true);
    await db.update(schema.limitRules).set({ tokensPerMinute: 500 }).where(eq(schema.limitRules.orgId, org.id));
    await orgState(org.id).bumpConfigVersion();
    expect(limited(await admitNow(input({ tokens: 1, cost_micros: 1 })))).toMatchObject({ scope: "key", limit: "tokens_per_minute", retry_after_s: expect.any(Number) });
  });

  it("says when it held something, so the caller can skip settling calls no limit applies to", async () => {
    const { org, key, setRule, input } = await orgWithKey("limits");
    const estimate = { tokens: 10, cost_micros: 10 };
    const free = await admitNow(input(estimate));
    expect(admitted(free) && free.ok && free.reserved).toBeUndefined();
    await setRule({ scope: "key", scopeId: key.id, requestsPerMinute: 5 });
    const held = await admitNow(input(estimate));
    expect(held).toMatchObject({ ok: true, reserved: true });
    const unasked = await admitNow(input(undefined));
    expect(admitted(unasked) && unasked.ok && unasked.reserved).toBeUndefined();
    const minute = (await orgState(org.id).spend()).counters.find((c) => c.metric === "requests" && c.win === "minute")!;
    expect(minute.reserved).toBe(1);
  });

  it("ignores a settle for a request it never reserved", async () => {
    const { org, setRule } = await orgWithKey("limits");
    await setRule({ requestsPerMinute: 10 });
    await settleNow({ org_id: org.id, request_id: "never-admitted", tokens: 10, cost_micros: 10 });
    expect((await orgState(org.id).spend()).counters).toEqual([]);
  });
});

describe("admission and settlement from an allowance lease", () => {
  /** A day's budget for the org; each call may cost $0.01. */
  async function seedOrg(usdPerDayMicros: number) {
    const { org, setRule, input } = await orgWithKey("allowance");
    await setRule({ usdPerDayMicros });
    return { org, input: () => input({ tokens: 100, cost_micros: 10_000 }) };
  }
  const reserved = (r: AdmitResult) => r.ok && r.reserved === true && !r.limited;

  it("admits and settles without writing to the OrgState, and gives the lease back with its holds", async () => {
    // $1.60 a day: slices of $0.10, ten calls of $0.01.
    const { org, input } = await seedOrg(1_600_000);
    const first = input();
    expect(reserved(await admitNow(first))).toBe(true);
    expect(await costToday(org.id)).toMatchObject({ used: 0, reserved: 10_000 + 100_000 });

    const local = Array.from({ length: 5 }, input);
    for (const call of local) expect(reserved(await admitNow(call))).toBe(true);
    for (const call of local.slice(0, 3)) await settleNow({ org_id: org.id, request_id: call.request_id, tokens: 40, cost_micros: 4_000 });
    // Five admissions and three settlements, and the OrgState's counter has not moved.
    expect(await costToday(org.id)).toMatchObject({ used: 0, reserved: 110_000 });
    expect(await reservationState(org.id, local[0]!.request_id)).toBeNull();

    // The lease runs out: the three settled count as used, the two still out become reservations.
    await vi.waitFor(async () => expect(await costToday(org.id)).toMatchObject({ used: 12_000, reserved: 10_000 + 20_000 }), { timeout: 5_000, interval: 100 });
    expect(await reservationState(org.id, local[3]!.request_id)).toBe("held");
    for (const call of [first, ...local.slice(3)]) await settleNow({ org_id: org.id, request_id: call.request_id, tokens: 40, cost_micros: 4_000 });
    expect(await costToday(org.id)).toMatchObject({ used: 24_000, reserved: 0 });
  }, 15_000);

  it("gives a lease back as soon as the org's config version changes", async () => {
    const { org, input } = await seedOrg(1_600_000);
    expect(reserved(await admitNow(input()))).toBe(true);
    const out = input();
    expect(reserved(await admitNow(out))).toBe(true);
    await orgState(org.id).bumpConfigVersion();
    expect(reserved(await admitNow(input()))).toBe(true);
    // Well before the lease's own end (8 version leases), the hold it kept is the OrgState's.
    await vi.waitFor(async () => expect(await reservationState(org.id, out.request_id)).toBe("held"), { timeout: 1_000, interval: 20 });
  });
});

describe("admission and authenticate() under a version lease", () => {
  const seedOrg = () => orgWithKey("lease");

  it("decides without calling the OrgState while the lease runs, and asks again once it ran out", async () => {
    const { org, key, input } = await seedOrg();
    const stub = orgState(org.id);
    const { lease_ms } = await stub.configLease();
    expect(await admitNow(input())).toMatchObject({ ok: true });
    // Revoke and bump the version straight in storage, skipping the bump's wait: an isolate
    // that asked the OrgState would see the new version and refuse the key.
    await db.update(schema.apiKeys).set({ revokedAt: Date.now() }).where(eq(schema.apiKeys.id, key.id));
    await runInDurableObject(testEnv.ORG_STATE.getByName(org.id), (_i: unknown, state) => {
      state.storage.sql.exec("UPDATE config SET version = version + 1 WHERE id = 1");
    });
    const leased = Date.now();
    expect(await admitNow(input())).toMatchObject({ ok: true });
    expect(await auth.authenticate(input())).toMatchObject({ ok: true });
    // Only if the two calls above ran within the lease do they prove anything.
    expect(Date.now() - leased).toBeLessThan(lease_ms);
    await sleep(lease_ms);
    expect(await admitNow(input())).toMatchObject({ ok: false, code: "credential_revoked" });
    expect(await auth.authenticate(input())).toMatchObject({ ok: false, code: "credential_revoked" });
  });

  it("renews the lease of a busy isolate ahead of its end, off the critical path", async () => {
    const { org, key, input } = await seedOrg();
    const stub = orgState(org.id);
    const { lease_ms } = await stub.configLease();
    // Warm the isolate's caches, then let its lease run out: the next call takes a fresh one.
    expect(await admitNow(input())).toMatchObject({ ok: true });
    await sleep(lease_ms);
    const start = Date.now();
    expect(await admitNow(input())).toMatchObject({ ok: true });
    // In the lease's second half, a call renews it in the background (its waitUntil).
    await sleep(lease_ms * 0.55);
    expect(await admitNow(input())).toMatchObject({ ok: true });
    await sleep(lease_ms * 0.1);
    // Now behind the OrgState's back (no wait), as in the test above.
    await db.update(schema.apiKeys).set({ revokedAt: Date.now() }).where(eq(schema.apiKeys.id, key.id));
    await runInDurableObject(testEnv.ORG_STATE.getByName(org.id), (_i: unknown, state) => {
      state.storage.sql.exec("UPDATE config SET version = version + 1 WHERE id = 1");
    });
    // Past the lease taken at `start`, within the renewed one: still decided without asking.
    await sleep(Math.max(0, start + lease_ms * 1.25 - Date.now()));
    expect(await admitNow(input())).toMatchObject({ ok: true });
    expect(Date.now() - start).toBeLessThan(lease_ms * 1.5);
    await sleep(lease_ms);
    expect(await admitNow(input())).toMatchObject({ ok: false, code: "credential_revoked" });
  });

  it("refuses a key revoked through a real bump on the very next call, lease or not", async () => {
    const { org, key, input } = await seedOrg();
    for (let i = 0; i < 3; i++) expect(await admitNow(input())).toMatchObject({ ok: true });
    await db.update(schema.apiKeys).set({ revokedAt: Date.now() }).where(eq(schema.apiKeys.id, key.id));
    await orgState(org.id).bumpConfigVersion();
    expect(await auth.authenticate(input())).toMatchObject({ ok: false, code: "credential_revoked" });
    expect(await admitNow(input())).toMatchObject({ ok: false, code: "credential_revoked" });
  });
});

describe("the policy decision", () => {
  it("authenticates and decides under the org's active set (the starter templates)", async () => {
    const { org, key } = await orgWithKey("acme", { user: true });
    const base = { request_id: "req_admit", host: { kind: "org" as const, slug: org.slug }, credential: key.token, userAgent: "claude-cli/2.0.1 (external, cli)" };
    const allowed = await admitNow({ ...base, action: "invoke_model", resource_entity: model("claude", false) });
    expect(allowed).toMatchObject({ ok: true, principal: { user_id: `${org.id}_u1` }, decision: { decision: "allow", determining: ["allow-catalog"], policy_version: 0 } });
    const denied = await admitNow({ ...base, action: "invoke_model", resource_entity: model("chatgpt", true) });
    expect(denied).toMatchObject({ ok: true, decision: { decision: "deny", determining: ["forbid-consumer-providers"] } });
    const anonymous = await admitNow({ ...base, credential: null, action: "invoke_model", resource_entity: model("claude", false) });
    expect(anonymous).toMatchObject({ ok: false, code: "unauthenticated" });
  });

});
