import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../env.ts";
import { orgState } from "../org-state.ts";

// Config-version leases, the OrgState's side: a bump answers once no lease on the old version
// runs. The isolate's side is the router's (workers/router/admission/admit.test.ts).
const testEnv = env as unknown as Env;

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
