import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database, schema } from "../../../shared/db/index.ts";
import type { AdmitInput, AuthRpc } from "../../../shared/rpc.ts";
import { mintToken } from "../../../shared/tokens.ts";
import type { Env } from "../env.ts";
import { orgState, type OrgState } from "../org-state.ts";

// Config-version leases: the OrgState's side (a bump answers once no lease on the old version
// runs) and the isolate's (no OrgState call while its lease runs).
const testEnv = env as unknown as Env;
const auth = (exports as unknown as { AuthService: AuthRpc }).AuthService;
const db = database(testEnv.DB);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("OrgState config-version leases", () => {
  it("a bump answers only once the leases on the old version have run out, and leases the new one meanwhile", async () => {
    const stub = orgState(testEnv, `org_${crypto.randomUUID()}`);
    const sentAt = Date.now();
    const old = await stub.configLease();
    expect(old.lease_ms).toBeGreaterThan(0);
    let answered = false;
    const bump = stub.bumpConfigVersion().then((version) => {
      answered = true;
      return { version, at: Date.now() };
    });
    // While the bump waits, the object serves: new leases carry the new version.
    const during = await stub.configLease();
    expect(during.version).toBe(old.version + 1);
    expect(answered).toBe(false);
    const done = await bump;
    expect(done.version).toBe(old.version + 1);
    // Granted after `sentAt`, the old lease ran until at least sentAt + lease_ms.
    expect(done.at - sentAt).toBeGreaterThanOrEqual(old.lease_ms);
  });

  it("after it starts, assumes a lease from its previous run may still be out", async () => {
    const sentAt = Date.now();
    const stub = orgState(testEnv, `org_${crypto.randomUUID()}`);
    // configVersion() leases nothing: only the object's start makes this bump wait.
    await stub.configVersion();
    await stub.bumpConfigVersion();
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(Number(testEnv.CONFIG_LEASE_MS));
  });
});

describe("AUTH.admit() and authenticate() under a version lease", () => {
  async function seedOrg() {
    const unique = crypto.randomUUID().slice(0, 8);
    const now = Date.now();
    const org = { id: `org_${unique}`, slug: `lease-${unique}`, name: "Lease" };
    await db.insert(schema.orgs).values({ ...org, createdAt: now });
    const key = await mintToken("api_key");
    await db.insert(schema.apiKeys).values({ id: key.id, orgId: org.id, name: "agent", secretHash: key.hash, hint: key.hint, createdAt: now });
    const input = (): AdmitInput => ({
      host: { kind: "org", slug: org.slug },
      credential: key.token,
      userAgent: "lease-test/1",
      request_id: `${org.id}-${crypto.randomUUID()}`,
      action: "invoke_model",
      resource_entity: { type: "Model", id: "gpt-4o-mini", provider: { id: "openai", kind: "openai", consumer: false } },
    });
    return { org, key, input };
  }

  it("decides without calling the OrgState while the lease runs, and asks again once it ran out", async () => {
    const { org, key, input } = await seedOrg();
    const stub = orgState(testEnv, org.id);
    const { lease_ms } = await stub.configLease();
    expect(await auth.admit(input())).toMatchObject({ ok: true });
    // Revoke and bump the version straight in storage, skipping the bump's wait: an isolate
    // that asked the OrgState would see the new version and refuse the key.
    await db.update(schema.apiKeys).set({ revokedAt: Date.now() }).where(eq(schema.apiKeys.id, key.id));
    await runInDurableObject(stub, (_i: OrgState, state) => {
      state.storage.sql.exec("UPDATE config SET version = version + 1 WHERE id = 1");
    });
    const leased = Date.now();
    expect(await auth.admit(input())).toMatchObject({ ok: true });
    expect(await auth.authenticate(input())).toMatchObject({ ok: true });
    // Only if the two calls above ran within the lease do they prove anything.
    expect(Date.now() - leased).toBeLessThan(lease_ms);
    await sleep(lease_ms);
    expect(await auth.admit(input())).toMatchObject({ ok: false, code: "credential_revoked" });
    expect(await auth.authenticate(input())).toMatchObject({ ok: false, code: "credential_revoked" });
  });

  it("renews the lease of a busy isolate ahead of its end, off the critical path", async () => {
    const { org, key, input } = await seedOrg();
    const stub = orgState(testEnv, org.id);
    const { lease_ms } = await stub.configLease();
    // Warm the isolate's caches, then let its lease run out: the next call takes a fresh one.
    expect(await auth.admit(input())).toMatchObject({ ok: true });
    await sleep(lease_ms);
    const start = Date.now();
    expect(await auth.admit(input())).toMatchObject({ ok: true });
    // In the lease's second half, a call renews it in the background (its waitUntil).
    await sleep(lease_ms * 0.55);
    expect(await auth.admit(input())).toMatchObject({ ok: true });
    await sleep(lease_ms * 0.1);
    // Now behind the OrgState's back (no wait), as in the test above.
    await db.update(schema.apiKeys).set({ revokedAt: Date.now() }).where(eq(schema.apiKeys.id, key.id));
    await runInDurableObject(stub, (_i: OrgState, state) => {
      state.storage.sql.exec("UPDATE config SET version = version + 1 WHERE id = 1");
    });
    // Past the lease taken at `start`, within the renewed one: still decided without asking.
    await sleep(Math.max(0, start + lease_ms * 1.25 - Date.now()));
    expect(await auth.admit(input())).toMatchObject({ ok: true });
    expect(Date.now() - start).toBeLessThan(lease_ms * 1.5);
    await sleep(lease_ms);
    expect(await auth.admit(input())).toMatchObject({ ok: false, code: "credential_revoked" });
  });

  it("refuses a key revoked through a real bump on the very next call, lease or not", async () => {
    const { org, key, input } = await seedOrg();
    for (let i = 0; i < 3; i++) expect(await auth.admit(input())).toMatchObject({ ok: true });
    await db.update(schema.apiKeys).set({ revokedAt: Date.now() }).where(eq(schema.apiKeys.id, key.id));
    await orgState(testEnv, org.id).bumpConfigVersion();
    expect(await auth.authenticate(input())).toMatchObject({ ok: false, code: "credential_revoked" });
    expect(await auth.admit(input())).toMatchObject({ ok: false, code: "credential_revoked" });
  });
});
