import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../env.ts";
import { orgState, type OrgState } from "../org-state.ts";
import { HOLD_MS, Ledger, RECORD_MS } from "./ledger.ts";
import type { ReservationRequest, ScopeLimits } from "../../../shared/limits/limits.ts";

const testEnv = env as unknown as Env;
/** 2026-11-25 10:00:30 UTC: mid-minute, mid-day, mid-month. */
const T0 = Date.UTC(2026, 10, 25, 10, 0, 30);

/** A fresh OrgState (one per test: storage is shared by the tests of a file) and a ledger over its storage. */
async function withLedger<R>(run: (ledger: Ledger, state: DurableObjectState) => R | Promise<R>): Promise<R> {
  const stub = orgState(testEnv, `org_${crypto.randomUUID()}`);
  return runInDurableObject(stub, (_instance: OrgState, state) => run(new Ledger(state.storage), state));
}

let seq = 0;
const request = (scopes: ScopeLimits[], tokens = 100, cost_micros = 1_000, request_id = `req_${++seq}`): ReservationRequest => ({
  request_id, tokens, cost_micros, scopes,
});
const org = (limits: ScopeLimits["limits"]): ScopeLimits => ({ scope: "org", scope_id: "org_1", limits });
const counter = (ledger: Ledger, now: number, metric: string, win: string, scope = "org") =>
  ledger.current(now).find((c) => c.metric === metric && c.win === win && c.scope === scope);

describe("Ledger (OrgState storage)", () => {
  it("holds estimates until a limit would be overrun, then refuses with the first overrun and holds nothing", () =>
    withLedger((ledger) => {
      const scopes = [{ scope: "key", scope_id: "key_1", limits: { requests_per_minute: 100 } } as const, org({ usd_per_day: 2_500 })];
      expect(ledger.reserve(request(scopes), T0)).toBeNull();
      expect(ledger.reserve(request(scopes), T0)).toBeNull();
      const refusal = ledger.reserve(request(scopes), T0);
      expect(refusal).toMatchObject({ scope: "org", scope_id: "org_1", limit: "usd_per_day" });
      expect(refusal!.detail).toContain("budget of $0.0025 per day; $0.002 spent or reserved today (UTC) and this request may cost $0.001");
      // Until the next UTC midnight: 13 h 59 min 30 s.
      expect(refusal!.retry_after_s).toBe(13 * 3600 + 59 * 60 + 30);
      expect(counter(ledger, T0, "cost_micros", "day")).toMatchObject({ used: 0, reserved: 2_000 });
      expect(counter(ledger, T0, "requests", "minute", "key")).toMatchObject({ reserved: 2 });
    }));

  it("checks scopes narrowest first and reports the key before the org", () =>
    withLedger((ledger) => {
      const scopes = [{ scope: "key", scope_id: "key_1", limits: { tokens_per_minute: 150 } } as const, org({ tokens_per_minute: 150 })];
      expect(ledger.reserve(request(scopes), T0)).toBeNull();
      const refusal = ledger.reserve(request(scopes), T0);
      expect(refusal).toMatchObject({ scope: "key", scope_id: "key_1", limit: "tokens_per_minute", retry_after_s: 30 });
    }));

  it("rolls minute, day and month windows", () =>
    withLedger((ledger) => {
      const scopes = [org({ requests_per_minute: 1, usd_per_day: 1_000, usd_per_month: 2_000 })];
      expect(ledger.reserve(request(scopes), T0)).toBeNull();
      expect(ledger.reserve(request(scopes), T0 + 29_000)?.limit).toBe("requests_per_minute");
      // Next minute: the request count is fresh but today's dollars are spent.
      expect(ledger.reserve(request(scopes), T0 + 30_000)?.limit).toBe("usd_per_day");
      // Next day: the day is fresh; the month still has room for one.
      const tomorrow = T0 + 86_400_000;
      expect(ledger.reserve(request(scopes), tomorrow)).toBeNull();
      const refusal = ledger.reserve(request(scopes), tomorrow + 60_000);
      expect(refusal).toMatchObject({ limit: "usd_per_day" });
      const dayAfter = tomorrow + 86_400_000;
      expect(ledger.reserve(request(scopes), dayAfter)).toMatchObject({ limit: "usd_per_month" });
      // December: a new month.
      expect(ledger.reserve(request(scopes), Date.UTC(2026, 11, 1, 0, 0, 1))).toBeNull();
    }));

  it("settles to the actual figure, and zeros release the whole hold", () =>
    withLedger((ledger) => {
      const scopes = [org({ usd_per_day: 10_000, tokens_per_minute: 1_000 })];
      const a = request(scopes, 500, 5_000);
      const b = request(scopes, 500, 5_000);
      expect(ledger.reserve(a, T0)).toBeNull();
      expect(ledger.reserve(b, T0)).toBeNull();
      expect(ledger.reserve(request(scopes, 1, 1), T0)?.limit).toBe("tokens_per_minute");

      expect(ledger.settle(a.request_id, { tokens: 120, cost_micros: 1_200 })).toBe(true);
      expect(counter(ledger, T0, "cost_micros", "day")).toMatchObject({ used: 1_200, reserved: 5_000 });
      expect(counter(ledger, T0, "tokens", "minute")).toMatchObject({ used: 120, reserved: 500 });
      expect(ledger.settle(b.request_id, { tokens: 0, cost_micros: 0 })).toBe(true);
      expect(counter(ledger, T0, "cost_micros", "day")).toMatchObject({ used: 1_200, reserved: 0 });
      expect(counter(ledger, T0, "requests", "minute")).toMatchObject({ used: 1, reserved: 0 });
      // The freed allowance is usable again.
      expect(ledger.reserve(request(scopes, 880, 8_800), T0)).toBeNull();
      expect(ledger.reserve(request(scopes, 1, 1), T0)?.limit).toBe("tokens_per_minute");
    }));

  it("is idempotent per request id: a repeated reserve answers the same, a repeated or unknown settle does nothing", () =>
    withLedger((ledger) => {
      const scopes = [org({ requests_per_minute: 1 })];
      const first = request(scopes);
      expect(ledger.reserve(first, T0)).toBeNull();
      expect(ledger.reserve(first, T0)).toBeNull();
      expect(counter(ledger, T0, "requests", "minute")).toMatchObject({ reserved: 1 });
      const refused = request(scopes);
      const refusal = ledger.reserve(refused, T0);
      expect(refusal?.limit).toBe("requests_per_minute");
      ledger.settle(first.request_id, { tokens: 0, cost_micros: 0 });
      // The same id keeps its refusal even though there is room now; a new id gets in.
      expect(ledger.reserve(refused, T0)).toEqual(refusal);
      expect(ledger.reserve(request(scopes), T0)).toBeNull();

      expect(ledger.settle(first.request_id, { tokens: 10, cost_micros: 10 })).toBe(false);
      expect(ledger.settle(refused.request_id, { tokens: 10, cost_micros: 10 })).toBe(false);
      expect(ledger.settle("never-reserved", { tokens: 10, cost_micros: 10 })).toBe(false);
      expect(counter(ledger, T0, "tokens", "minute")).toMatchObject({ used: 0 });
    }));

  it("releases holds nobody settled after HOLD_MS, never before, and still counts a late settle", () =>
    withLedger((ledger) => {
      const scopes = [org({ usd_per_month: 10_000 })];
      const crashed = request(scopes, 10, 10_000);
      expect(ledger.reserve(crashed, T0)).toBeNull();
      expect(ledger.releaseExpired(T0 + HOLD_MS - 1)).toBe(0);
      expect(ledger.reserve(request(scopes, 10, 1), T0 + HOLD_MS - 1)?.limit).toBe("usd_per_month");
      expect(ledger.releaseExpired(T0 + HOLD_MS)).toBe(1);
      expect(counter(ledger, T0 + HOLD_MS, "cost_micros", "month")).toMatchObject({ used: 0, reserved: 0 });
      // The caller was only slow: its real usage still counts.
      expect(ledger.settle(crashed.request_id, { tokens: 10, cost_micros: 4_000 })).toBe(true);
      expect(counter(ledger, T0 + HOLD_MS, "cost_micros", "month")).toMatchObject({ used: 4_000, reserved: 0 });
      expect(ledger.settle(crashed.request_id, { tokens: 10, cost_micros: 4_000 })).toBe(false);
    }));

  it("refuses an estimate larger than the whole limit and says so", () =>
    withLedger((ledger) => {
      const refusal = ledger.reserve(request([org({ tokens_per_minute: 100 })], 101), T0);
      expect(refusal?.detail).toContain("this request alone exceeds the limit");
    }));

  it("prunes past windows and old records, keeping holds", () =>
    withLedger((ledger) => {
      const scopes = [org({ requests_per_minute: 100 })];
      const settled = request(scopes);
      ledger.reserve(settled, T0);
      ledger.settle(settled.request_id, { tokens: 1, cost_micros: 1 });
      const later = T0 + RECORD_MS + 1;
      ledger.reserve(request(scopes), later);
      ledger.prune(later);
      expect(ledger.nextDue()).toBe(later + HOLD_MS);
      // The old minute's counters are gone (the day's and month's are still current); the new minute's stay.
      expect(ledger.current(T0).filter((c) => c.win === "minute")).toEqual([]);
      expect(counter(ledger, later, "requests", "minute")).toMatchObject({ reserved: 1 });
      // The settled record was pruned: a settle for it is an unknown id.
      expect(ledger.settle(settled.request_id, { tokens: 1, cost_micros: 1 })).toBe(false);
    }));
});

describe("OrgState admission", () => {
  const reservation = (scopes: ScopeLimits[]) => request(scopes);

  it("reserves only at the current config version, in the same call that reports it", async () => {
    const stub = orgState(testEnv, `org_${crypto.randomUUID()}`);
    const version = await stub.configVersion();
    const scopes = [org({ requests_per_minute: 1 })];
    const lease_ms = expect.any(Number);
    expect(await stub.admit(null, reservation(scopes))).toEqual({ configVersion: version, lease_ms, stale: true, refusal: null });
    expect(await stub.admit(version, reservation(scopes))).toEqual({ configVersion: version, lease_ms, stale: false, refusal: null });
    const bumped = await stub.bumpConfigVersion();
    expect(await stub.admit(version, reservation(scopes))).toEqual({ configVersion: bumped, lease_ms, stale: true, refusal: null });
    const refused = await stub.admit(bumped, reservation(scopes));
    expect(refused.refusal).toMatchObject({ limit: "requests_per_minute" });
  });

  it("schedules pruning even when it only ever refuses", async () => {
    const stub = orgState(testEnv, `org_${crypto.randomUUID()}`);
    const version = await stub.configVersion();
    const before = Date.now();
    expect((await stub.admit(version, request([org({ tokens_per_minute: 1 })], 2))).refusal).toMatchObject({ limit: "tokens_per_minute" });
    const alarm = await runInDurableObject(stub, (_i: OrgState, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual(before + RECORD_MS);
  });

  it("its alarm releases expired holds, keeps fresh ones and comes back for them", async () => {
    const stub = orgState(testEnv, `org_${crypto.randomUUID()}`);
    const version = await stub.configVersion();
    const scopes = [org({ requests_per_minute: 5 })];
    const fresh = reservation(scopes);
    const admittedAt = Date.now();
    expect((await stub.admit(version, fresh)).refusal).toBeNull();
    // A hold from a caller that crashed more than HOLD_MS ago, and the alarm made due now.
    const crashed = reservation(scopes);
    await runInDurableObject(stub, async (_i: OrgState, state) => {
      new Ledger(state.storage).reserve(crashed, Date.now() - HOLD_MS - 1_000);
      await state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const { states, alarm } = await runInDurableObject(stub, async (_i: OrgState, state) => ({
      states: Object.fromEntries(
        state.storage.sql.exec<{ request_id: string; state: string }>("SELECT request_id, state FROM limit_reservations").toArray().map((r) => [r.request_id, r.state]),
      ),
      alarm: await state.storage.getAlarm(),
    }));
    expect(states).toEqual({ [fresh.request_id]: "held", [crashed.request_id]: "expired" });
    expect(alarm).toBeGreaterThanOrEqual(admittedAt + HOLD_MS);
    expect(alarm).toBeLessThanOrEqual(Date.now() + HOLD_MS);

    await stub.settle(fresh.request_id, 1, 1);
    const minute = (await stub.spend()).counters.filter((c) => c.metric === "requests" && c.win === "minute");
    expect(minute.reduce((sum, c) => sum + c.reserved, 0)).toBe(0);
  });
});
