import { orgStateOf, type OrgStateEnv } from "../../../shared/rpc.ts";
import type { VersionLease } from "../../../shared/limits/protocol.ts";

// The org's config version as this isolate may decide at it, leased from the OrgState
// (shared/limits/protocol.ts). The router reuses airlock-auth's answers while it runs (fresh_until).

/**
 * Org id → the version last leased to this isolate, and until when by this isolate's clock.
 * The lease runs from when the call was sent (before the OrgState granted it), so clock
 * offsets between machines cannot stretch it past the OrgState's own reckoning.
 */
const leases = new Map<string, { version: number; until: number; ms: number }>();
const MAX_LEASES = 10_000;
/** Orgs whose lease is being renewed in the background (one call at a time). */
const renewing = new Set<string>();

/** The leased version while the lease runs; null when there is none or it ran out. */
export function leasedVersion(orgId: string, now = Date.now()): number | null {
  const lease = leases.get(orgId);
  return lease && now < lease.until ? lease.version : null;
}

/** When the isolate's lease on `version` runs out (epoch ms); null when it holds none on it. */
export function leaseEnd(orgId: string, version: number): number | null {
  const lease = leases.get(orgId);
  return lease && lease.version === version ? lease.until : null;
}

/** Remembers a lease granted by a call sent at `sentAt`. */
export function recordLease(orgId: string, lease: VersionLease, sentAt: number): void {
  if (leases.size >= MAX_LEASES && !leases.has(orgId)) leases.clear();
  leases.set(orgId, { version: lease.version, until: sentAt + lease.lease_ms, ms: lease.lease_ms });
}

/**
 * Renews a lease in its second half off the critical path (`waitUntil`), so a steadily busy
 * isolate never waits for the OrgState; an idle one lets it run out and asks on its next call.
 */
export function renewSoon(env: OrgStateEnv, orgId: string, waitUntil: (promise: Promise<unknown>) => void, now = Date.now()): void {
  const lease = leases.get(orgId);
  if (!lease || renewing.has(orgId) || now >= lease.until || lease.until - now > lease.ms / 2) return;
  renewing.add(orgId);
  const sentAt = now;
  waitUntil(
    orgStateOf(env.ORG_STATE, orgId)
      .configLease()
      .then((renewed) => recordLease(orgId, renewed, sentAt))
      .finally(() => renewing.delete(orgId)),
  );
}

/**
 * The org's current config version: the leased one (renewed ahead when `waitUntil` is given),
 * or (one OrgState round trip) a new lease, also when a caller has seen a newer one (`atLeast`).
 */
export async function currentVersion(env: OrgStateEnv, orgId: string, waitUntil?: (promise: Promise<unknown>) => void, atLeast = 0): Promise<number> {
  const leased = leasedVersion(orgId);
  if (leased !== null && leased >= atLeast) {
    if (waitUntil) renewSoon(env, orgId, waitUntil);
    return leased;
  }
  const sentAt = Date.now();
  const lease = await orgStateOf(env.ORG_STATE, orgId).configLease();
  recordLease(orgId, lease, sentAt);
  return lease.version;
}
