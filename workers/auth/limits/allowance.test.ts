import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { ReservationRequest, ScopeLimits } from "../../../shared/limits/limits.ts";
import type { CounterAmount } from "../../../shared/limits/protocol.ts";
import { windowStart } from "../../../shared/limits/windows.ts";
import type { Env } from "../env.ts";
import { orgState, type OrgState } from "../org-state.ts";

// Allowance leases, the OrgState's side: grant, give back, early settlements, leases never
// given back. The isolate's side is the router's (workers/router/admission/admit.test.ts).
const testEnv = env as unknown as Env;

// A lease covers the current minute's counters too (tracked, unlimited here): start clear of the minute's edge.
beforeAll(async () => {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 8_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}, 10_000);

const orgScope = (orgId: string, limits: ScopeLimits["limits"]): ScopeLimits => ({ scope: "org", scope_id: orgId, limits });
const request = (scopes: ScopeLimits[], cost_micros: number, request_id = `req_${crypto.randomUUID()}`): ReservationRequest => ({
  request_id, tokens: 10, cost_micros, scopes,
});
/** The org's dollars-per-day counter at the OrgState. */
const costToday = async (orgId: string) => {
  const { counters } = await orgState(testEnv, orgId).spend();
  return counters.find((c) => c.scope === "org" && c.metric === "cost_micros" && c.win === "day") ?? { used: 0, reserved: 0 };
};
const dayCounter = (orgId: string, amount: number): CounterAmount => ({
  scope: "org", scope_id: orgId, metric: "cost_micros", win: "day", window_start: windowStart("day", Date.now()), amount,
});
const reservationState = (orgId: string, requestId: string) =>
  runInDurableObject(orgState(testEnv, orgId), (_i: OrgState, state) =>
    state.storage.sql.exec<{ state: string }>("SELECT state FROM limit_reservations WHERE request_id = ?", requestId).toArray()[0]?.state ?? null,
  );

describe("OrgState allowance leases", () => {
  it("grants a slice with a reservation, debited as reserved, and never when little is left", async () => {
    const orgId = `org_${crypto.randomUUID()}`;
    const stub = orgState(testEnv, orgId);
    const version = await stub.configVersion();
    // $0.16 a day: a slice is a sixteenth, $0.01, in whole requests of $0.001.
    const scopes = [orgScope(orgId, { usd_per_day: 160_000 })];
    const { refusal, allowance } = await stub.admit(version, request(scopes, 1_000), true);
    expect(refusal).toBeNull();
    expect(allowance?.counters).toContainEqual(dayCounter(orgId, 10_000));
    // Counters no limit applies to are only tracked.
    expect(allowance?.counters.filter((c) => c.amount > 0)).toHaveLength(1);
    expect(await costToday(orgId)).toMatchObject({ used: 0, reserved: 11_000 });
    // Not asked: none. Less than two slices left after the reservation: none.
    expect((await stub.admit(version, request(scopes, 1_000), false)).allowance).toBeUndefined();
    expect((await stub.admit(version, request(scopes, 130_000), true)).allowance).toBeUndefined();
    // A limit too small to slice: none.
    expect((await stub.admit(version, request([orgScope(orgId, { requests_per_minute: 5 })], 1), true)).allowance).toBeUndefined();
  });

  it("takes back a lease: the use is counted, unsettled holds become reservations, and a settlement that came first is applied", async () => {
    const orgId = `org_${crypto.randomUUID()}`;
    const stub = orgState(testEnv, orgId);
    const version = await stub.configVersion();
    const scopes = [orgScope(orgId, { usd_per_day: 160_000 })];
    const first = request(scopes, 1_000);
    const { allowance } = await stub.admit(version, first, true);
    // The isolate admitted five from the lease: three settled there ($0.0006 each), two still out,
    // and the second of those was settled at the OrgState before the lease came back.
    await stub.settle("held-b", 10, 500);
    expect(await costToday(orgId)).toMatchObject({ used: 0, reserved: 11_000 });
    const hold = (request_id: string) => ({ request_id, counters: [dayCounter(orgId, 1_000)] });
    await stub.returnLease(allowance!.lease_id, [dayCounter(orgId, 1_800)], [hold("held-a"), hold("held-b")]);
    expect(await costToday(orgId)).toMatchObject({ used: 1_800 + 500, reserved: 1_000 + 1_000 });
    expect(await reservationState(orgId, "held-a")).toBe("held");
    expect(await reservationState(orgId, "held-b")).toBe("settled");
    // Given back twice: nothing changes. The taken-over hold settles like any other.
    await stub.returnLease(allowance!.lease_id, [dayCounter(orgId, 1_800)], [hold("held-a"), hold("held-b")]);
    await stub.settle("held-a", 10, 700);
    await stub.settle(first.request_id, 10, 1_000);
    expect(await costToday(orgId)).toMatchObject({ used: 1_800 + 500 + 700 + 1_000, reserved: 0 });
  });

  it("takes over holds it refused but the caller then admitted from its own lease, with a settlement that came first", async () => {
    const orgId = `org_${crypto.randomUUID()}`;
    const stub = orgState(testEnv, orgId);
    const version = await stub.configVersion();
    const scopes = [orgScope(orgId, { usd_per_day: 160_000 })];
    const { allowance } = await stub.admit(version, request(scopes, 1_000), true);
    expect((await stub.admit(version, request(scopes, 149_000))).refusal).toBeNull();
    // The budget is all held (the lease's slice with it): these two are refused here…
    const [x, y] = [request(scopes, 1_000, "refused-x"), request(scopes, 1_000, "refused-y")];
    expect((await stub.admit(version, x)).refusal).toMatchObject({ limit: "usd_per_day" });
    expect((await stub.admit(version, y)).refusal).toMatchObject({ limit: "usd_per_day" });
    // … and the caller admits them from its lease; x settles at the OrgState before the lease is back.
    await stub.settle(x.request_id, 10, 600);
    const hold = (request_id: string) => ({ request_id, counters: [dayCounter(orgId, 1_000)] });
    await stub.returnLease(allowance!.lease_id, [], [hold(x.request_id), hold(y.request_id)]);
    expect(await reservationState(orgId, x.request_id)).toBe("settled");
    expect(await reservationState(orgId, y.request_id)).toBe("held");
    expect(await costToday(orgId)).toMatchObject({ used: 600, reserved: 1_000 + 149_000 + 1_000 });
  });

  it("counts a lease never given back as wholly used, and the real figures if it comes back late", async () => {
    const orgId = `org_${crypto.randomUUID()}`;
    const stub = orgState(testEnv, orgId);
    const version = await stub.configVersion();
    const { allowance } = await stub.admit(version, request([orgScope(orgId, { usd_per_day: 160_000 })], 1_000), true);
    // Its isolate died: past the lease's expiry the alarm ends it.
    await runInDurableObject(stub, async (_i: OrgState, state) => {
      state.storage.sql.exec("UPDATE limit_leases SET expires_at = ? WHERE lease_id = ?", Date.now() - 1, allowance!.lease_id);
      await state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await costToday(orgId)).toMatchObject({ used: 10_000, reserved: 1_000 });
    await stub.returnLease(allowance!.lease_id, [dayCounter(orgId, 2_000)], []);
    expect(await costToday(orgId)).toMatchObject({ used: 2_000, reserved: 1_000 });
  });
});
