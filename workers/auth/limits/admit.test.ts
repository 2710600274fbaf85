import { env, exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { database, schema } from "../../../shared/db/index.ts";
import type { AdmitInput, AdmitResult, AuthRpc } from "../../../shared/rpc.ts";
import { mintToken } from "../../../shared/tokens.ts";
import type { Env } from "../env.ts";
import { orgState } from "../org-state.ts";

// AUTH.admit() and AUTH.settle() through the auth Worker's real entrypoint (RPC), with the
// real OrgState and D1, many calls in flight at once inside workerd. (From Node, the e2e
// harness's RPC proxy runs calls one at a time, so concurrency is proven here.)
const testEnv = env as unknown as Env;
const auth = (exports as unknown as { AuthService: AuthRpc }).AuthService;
const db = database(testEnv.DB);

async function seedOrg() {
  const unique = crypto.randomUUID().slice(0, 8);
  const now = Date.now();
  const org = { id: `org_${unique}`, slug: `limits-${unique}`, name: "Limits" };
  await db.insert(schema.orgs).values({ ...org, createdAt: now });
  const key = await mintToken("api_key");
  await db.insert(schema.apiKeys).values({ id: key.id, orgId: org.id, name: "agent", secretHash: key.hash, hint: key.hint, createdAt: now });
  /** A rule written as the admin API does: the row, then a config version bump. */
  const setRule = async (rule: Partial<typeof schema.limitRules.$inferInsert>) => {
    await db.insert(schema.limitRules).values({ id: `lr_${crypto.randomUUID()}`, orgId: org.id, scope: "org", scopeId: null, createdAt: now, updatedAt: now, ...rule });
    await orgState(testEnv, org.id).bumpConfigVersion();
  };
  let n = 0;
  const input = (reserve: AdmitInput["reserve"]): AdmitInput => ({
    host: { kind: "org", slug: org.slug },
    credential: key.token,
    userAgent: "limits-test/1",
    request_id: `${org.id}-req-${++n}`,
    action: "invoke_model",
    resource_entity: { type: "Model", id: "gpt-4o-mini", provider: { id: "openai", kind: "openai", consumer: false } },
    reserve,
  });
  return { org, key, setRule, input };
}

const admitted = (r: AdmitResult) => r.ok && r.decision.decision === "allow" && !r.limited;
const limited = (r: AdmitResult) => (r.ok ? r.limited : undefined);

describe("AUTH.admit() with reservations", () => {
  // Per-minute counts roll at each UTC minute: start well clear of the edge.
  beforeAll(async () => {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 15_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
  }, 20_000);

  it("admits exactly the 50 of 200 concurrent calls a budget fits, and settling lower frees the rest", async () => {
    const { org, setRule, input } = await seedOrg();
    // $0.10 a day; each call may cost $0.002: 50 fit.
    await setRule({ usdPerDayMicros: 100_000 });
    const estimate = { tokens: 1_000, cost_micros: 2_000 };

    const inputs = Array.from({ length: 200 }, () => input(estimate));
    const results = await Promise.all(inputs.map((i) => auth.admit(i)));
    const ok = inputs.filter((_, i) => admitted(results[i]!));
    expect(ok.length).toBe(50);
    expect(results.filter(limited).length).toBe(150);
    const refusal = results.map(limited).find(Boolean)!;
    expect(refusal).toMatchObject({ scope: "org", scope_id: org.id, limit: "usd_per_day" });
    expect(refusal.retry_after_s).toBeGreaterThan(0);
    expect(refusal.retry_after_s).toBeLessThanOrEqual(86_400);

    const day = async () => (await orgState(testEnv, org.id).spend()).counters.find((c) => c.scope === "org" && c.metric === "cost_micros" && c.win === "day")!;
    expect(await day()).toMatchObject({ used: 0, reserved: 100_000 });

    // Each call really cost half its estimate; settled (twice: the second is a no-op), half the budget is free again.
    await Promise.all(ok.map((i) => auth.settle({ org_id: org.id, request_id: i.request_id, tokens: 400, cost_micros: 1_000 })));
    await Promise.all(ok.map((i) => auth.settle({ org_id: org.id, request_id: i.request_id, tokens: 400, cost_micros: 1_000 })));
    // Calls admitted from the isolate's allowance lease reach the OrgState's counters when the lease ends.
    await vi.waitFor(async () => expect(await day()).toMatchObject({ used: 50_000, reserved: 0 }), { timeout: 5_000, interval: 100 });

    const moreInputs = Array.from({ length: 40 }, () => input(estimate));
    const more = await Promise.all(moreInputs.map((i) => auth.admit(i)));
    expect(more.filter(admitted).length).toBe(25);
    expect(more.filter(limited).length).toBe(15);
    // Each cost its whole estimate: once every lease is back, exactly the budget is spent.
    await Promise.all(moreInputs.filter((_, i) => admitted(more[i]!)).map((i) => auth.settle({ org_id: org.id, request_id: i.request_id, tokens: 1_000, cost_micros: 2_000 })));
    await vi.waitFor(async () => expect(await day()).toMatchObject({ used: 100_000, reserved: 0 }), { timeout: 5_000, interval: 100 });
  }, 20_000);

  it("decides again when an admin write lands between the isolate's last look and the reservation", async () => {
    const { org, key, setRule, input } = await seedOrg();
    await setRule({ requestsPerMinute: 100 });
    // This isolate now knows the org's config version.
    expect(admitted(await auth.admit(input({ tokens: 1, cost_micros: 1 })))).toBe(true);
    // Revoke the key behind the isolate's back, as the admin API does (row, then bump).
    await db.update(schema.apiKeys).set({ revokedAt: Date.now() }).where(eq(schema.apiKeys.id, key.id));
    await orgState(testEnv, org.id).bumpConfigVersion();
    const revoked = await auth.admit(input({ tokens: 1, cost_micros: 1 }));
    expect(revoked).toMatchObject({ ok: false, code: "credential_revoked" });
    // Nothing was held for the refused call.
    const minute = (await orgState(testEnv, org.id).spend()).counters.find((c) => c.metric === "requests" && c.win === "minute")!;
    expect(minute.reserved).toBe(1);
  });

  it("a tightened limit applies to the very next call", async () => {
    const { org, setRule, input } = await seedOrg();
    await setRule({ scope: "key", scopeId: (await db.query.apiKeys.findFirst({ where: eq(schema.apiKeys.orgId, org.id) }))!.id, tokensPerMinute: 1_000 });
    expect(admitted(await auth.admit(input({ tokens: 600, cost_micros: 1 })))).toBe(true);
    await db.update(schema.limitRules).set({ tokensPerMinute: 500 }).where(eq(schema.limitRules.orgId, org.id));
    await orgState(testEnv, org.id).bumpConfigVersion();
    expect(limited(await auth.admit(input({ tokens: 1, cost_micros: 1 })))).toMatchObject({ scope: "key", limit: "tokens_per_minute", retry_after_s: expect.any(Number) });
  });

  it("says when it held something, so the caller can skip settling calls no limit applies to", async () => {
    const { org, key, setRule, input } = await seedOrg();
    const estimate = { tokens: 10, cost_micros: 10 };
    const free = await auth.admit(input(estimate));
    expect(admitted(free) && free.ok && free.reserved).toBeUndefined();
    await setRule({ scope: "key", scopeId: key.id, requestsPerMinute: 5 });
    const held = await auth.admit(input(estimate));
    expect(held).toMatchObject({ ok: true, reserved: true });
    const unasked = await auth.admit(input(undefined));
    expect(admitted(unasked) && unasked.ok && unasked.reserved).toBeUndefined();
    const minute = (await orgState(testEnv, org.id).spend()).counters.find((c) => c.metric === "requests" && c.win === "minute")!;
    expect(minute.reserved).toBe(1);
  });

  it("ignores a settle for a request it never reserved", async () => {
    const { org, setRule } = await seedOrg();
    await setRule({ requestsPerMinute: 10 });
    await auth.settle({ org_id: org.id, request_id: "never-admitted", tokens: 10, cost_micros: 10 });
    expect((await orgState(testEnv, org.id).spend()).counters).toEqual([]);
  });
});
