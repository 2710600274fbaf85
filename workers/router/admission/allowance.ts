import { amountOf, LIMITS, type ReservationRequest } from "../../../shared/limits/limits.ts";
import { refOf, type AllowanceGrant, type CounterAmount, type CounterRef, type LeasedHold } from "../../../shared/limits/protocol.ts";
import { windowStart } from "../../../shared/limits/windows.ts";
import { orgStateOf, type OrgStateEnv, type ReservationEstimate } from "../../../shared/rpc.ts";

type WaitUntil = (promise: Promise<unknown>) => void;

/** One counter of a lease: what the OrgState granted (0 when no limit applies), what was used, what local holds keep. */
interface Counter {
  ref: CounterRef;
  limited: boolean;
  granted: number;
  used: number;
  held: number;
}

/** A local hold: the counters it holds and how much on each. */
type Hold = { counter: Counter; amount: number }[];

/** Allowance leased from the org's OrgState for one set of scopes (a principal), spent here without a round trip. */
interface Lease {
  id: string;
  orgId: string;
  scopes: string;
  version: number;
  /** By this isolate's clock, from when it sent the call that got the lease. */
  until: number;
  ended: boolean;
  counters: Map<string, Counter>;
  holds: Map<string, Hold>;
  /** Settled here, so a repeated settle stays a no-op while the lease runs. */
  settled: Set<string>;
}

/** Org id → scope set → its lease. Values, not promises: workerd cannot hand one request's pending I/O to another. */
const leases = new Map<string, Map<string, Lease>>();
/** Request id → the lease holding it locally (until that lease ends). */
const holders = new Map<string, Lease>();
/** `orgId scopes` with a grant asked for and not yet answered: one at a time. */
const asking = new Set<string>();
const MAX_ORGS = 10_000;

const counterKey = (ref: readonly unknown[]) => ref.slice(0, 5).join("\u0000");
const scopesKey = (request: ReservationRequest) => request.scopes.map((s) => `${s.scope}:${s.scope_id}`).join(",");

/** The counters `request` adds to at `now`, and each one's amount. */
function countersOf(request: ReservationRequest, now: number): { key: string; limited: boolean; amount: number }[] {
  return request.scopes.flatMap((scope) =>
    LIMITS.map(({ limit, metric, window: win }) => ({
      key: counterKey([scope.scope, scope.scope_id, metric, win, windowStart(win, now)]),
      limited: scope.limits[limit] !== undefined,
      amount: amountOf(metric, request, 1),
    })),
  );
}

/**
 * The lease `request` could be admitted from at `version`, now, without taking it. A lease past
 * its time, at another version or in a rolled window is ended (given back off the critical path).
 */
function usable(env: OrgStateEnv, orgId: string, version: number, request: ReservationRequest, now: number, waitUntil: WaitUntil) {
  const lease = leases.get(orgId)?.get(scopesKey(request));
  if (!lease) return null;
  // A caller that decided at an older version than the lease's is about to learn the new one.
  if (lease.version > version) return null;
  const needs = countersOf(request, now);
  if (lease.version < version || now >= lease.until || needs.some((n) => !lease.counters.has(n.key))) {
    waitUntil(end(env, lease));
    return null;
  }
  const hold: Hold = needs.map((n) => ({ counter: lease.counters.get(n.key)!, amount: n.amount }));
  const fits = hold.every(({ counter, amount }) => !counter.limited || counter.granted - counter.used - counter.held >= amount);
  return fits ? { lease, hold } : null;
}

/** Whether this isolate's lease could admit `request` now at `version` (it is not taken). */
export function canAdmitLocally(env: OrgStateEnv, orgId: string, version: number, request: ReservationRequest, waitUntil: WaitUntil): boolean {
  return usable(env, orgId, version, request, Date.now(), waitUntil) !== null;
}

/** Admits `request` from this isolate's lease at `version`: a local hold under its request id. False when no lease covers it. */
export function admitLocally(env: OrgStateEnv, orgId: string, version: number, request: ReservationRequest, waitUntil: WaitUntil): boolean {
  const found = usable(env, orgId, version, request, Date.now(), waitUntil);
  if (!found) return false;
  const { lease, hold } = found;
  if (lease.holds.has(request.request_id) || lease.settled.has(request.request_id)) return true;
  for (const { counter, amount } of hold) counter.held += amount;
  lease.holds.set(request.request_id, hold);
  holders.set(request.request_id, lease);
  return true;
}

/**
 * Whether the OrgState call reserving `request` should also ask for a lease: none is being
 * asked for its scopes. A lease still running for them cannot fit the call (the caller tried
 * it first): it is given back, so a busy principal moves on to a fresh slice. Marks it asked;
 * `asked()` clears the mark.
 */
export function shouldAsk(env: OrgStateEnv, orgId: string, request: ReservationRequest, waitUntil: WaitUntil): boolean {
  const key = `${orgId} ${scopesKey(request)}`;
  if (asking.has(key)) return false;
  const current = leases.get(orgId)?.get(scopesKey(request));
  if (current) waitUntil(end(env, current));
  asking.add(key);
  return true;
}

export function asked(orgId: string, request: ReservationRequest): void {
  asking.delete(`${orgId} ${scopesKey(request)}`);
}

/** Keeps a grant the OrgState made with `request`'s reservation (`request` itself is held there), and gives it back when it runs out. */
export function install(env: OrgStateEnv, orgId: string, version: number, request: ReservationRequest, grant: AllowanceGrant, sentAt: number, waitUntil: WaitUntil): void {
  let byScopes = leases.get(orgId);
  if (!byScopes) {
    if (leases.size >= MAX_ORGS) return void waitUntil(orgStateOf(env.ORG_STATE, orgId).returnLease(grant.lease_id, [], []));
    leases.set(orgId, (byScopes = new Map()));
  }
  const limited = new Set(countersOf(request, sentAt).filter((n) => n.limited).map((n) => n.key));
  const lease: Lease = {
    id: grant.lease_id, orgId, scopes: scopesKey(request), version, until: sentAt + grant.lease_ms, ended: false,
    counters: new Map(
      grant.counters.map(refOf).map((ref) => [counterKey(ref), { ref, limited: limited.has(counterKey(ref)), granted: ref[5], used: 0, held: 0 }]),
    ),
    holds: new Map(), settled: new Set(),
  };
  const previous = byScopes.get(lease.scopes);
  if (previous) waitUntil(end(env, previous));
  byScopes.set(lease.scopes, lease);
  waitUntil(new Promise((resolve) => setTimeout(resolve, Math.max(0, lease.until - Date.now()))).then(() => end(env, lease)));
}

/** Ends every lease of the org granted at another version (an admin write changed its rules). */
export function versionSeen(env: OrgStateEnv, orgId: string, version: number, waitUntil: WaitUntil): void {
  for (const lease of leases.get(orgId)?.values() ?? []) if (lease.version !== version) waitUntil(end(env, lease));
}

/** Settles a hold this isolate's lease keeps: the difference returns to the allowance. False when the hold is not here. */
export function settleLocally(requestId: string, actual: ReservationEstimate): boolean {
  const lease = holders.get(requestId);
  if (!lease) return false;
  const hold = lease.holds.get(requestId);
  if (!hold) return true;
  const release = actual.tokens === 0 && actual.cost_micros === 0;
  for (const { counter, amount } of hold) {
    counter.held -= amount;
    if (!release) counter.used += amountOf(counter.ref[2], actual, 1);
  }
  lease.holds.delete(requestId);
  lease.settled.add(requestId);
  return true;
}

/** Gives a lease back to the OrgState: what was used, and the holds still out (it takes them over). Once. */
async function end(env: OrgStateEnv, lease: Lease): Promise<void> {
  if (lease.ended) return;
  lease.ended = true;
  const byScopes = leases.get(lease.orgId);
  if (byScopes?.get(lease.scopes) === lease) byScopes.delete(lease.scopes);
  if (byScopes?.size === 0) leases.delete(lease.orgId);
  for (const id of [...lease.holds.keys(), ...lease.settled]) holders.delete(id);
  const at = ([scope, scope_id, metric, win, window_start]: CounterRef, amount: number): CounterAmount => ({ scope, scope_id, metric, win, window_start, amount });
  const used = [...lease.counters.values()].filter((c) => c.used > 0).map((c) => at(c.ref, c.used));
  const holds = [...lease.holds].map(([request_id, hold]): LeasedHold => ({ request_id, counters: hold.map(({ counter, amount }) => at(counter.ref, amount)) }));
  await orgStateOf(env.ORG_STATE, lease.orgId).returnLease(lease.id, used, holds);
}
