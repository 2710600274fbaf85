import { database } from "../../../shared/db/index.ts";
import type { AdmitInput, AdmitResult, ReservationEstimate, SettleInput } from "../../../shared/rpc.ts";
import type { Env } from "../env.ts";
import { orgState } from "../org-state.ts";
import type { ReservationRequest } from "./limits.ts";
import * as allowance from "./allowance.ts";
import { limitRulesOf, scopesFor } from "./rules.ts";
import { currentVersion, lastVersion, leasedVersion, recordLease, renewSoon } from "./version-lease.ts";

/** Each attempt but the first follows an admin write that landed mid-admission; more than a few means something is wrong. */
const MAX_ATTEMPTS = 4;

/** The config version to authenticate and decide at, for the org the credential addresses. */
type VersionOf = (orgId: string) => Promise<number>;

type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * `admit()` with no OrgState call in steady state, and one at most. Authentication, the policy
 * decision and the limit rules are all worked out at the org's config version as this isolate
 * knows it (its caches are keyed by it). While the OrgState's lease on that version runs
 * (limits/version-lease.ts) the decision stands as it is, and a reservation is taken from the
 * isolate's allowance lease when it has one that covers it (limits/allowance.ts). Otherwise one
 * OrgState call confirms the version (renewing the lease) and, in the same atomic step,
 * reserves the estimate (and may lease allowance for the next ones). If an admin write bumped
 * the version meanwhile, nothing was reserved and the whole decision is made again at the new
 * version, so a revoked key or a tightened limit is never honoured late. An isolate's first
 * admission for an org asks for the version first (two round trips, once).
 */
export async function admitWithLimits(
  env: Env, input: AdmitInput, waitUntil: WaitUntil, decide: (versionOf: VersionOf) => Promise<AdmitResult>,
): Promise<AdmitResult> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const asked: { orgId?: string; version?: number; leased?: boolean } = {};
    const result = await decide(async (orgId) => {
      asked.orgId = orgId;
      const leased = leasedVersion(orgId);
      asked.leased = leased !== null;
      if (asked.leased) renewSoon(env, orgId, waitUntil);
      asked.version = leased ?? lastVersion(orgId) ?? (await currentVersion(env, orgId));
      return asked.version;
    });
    // No org version was involved (no credential, unknown host, operator): nothing to confirm.
    if (asked.orgId === undefined || asked.version === undefined) return result;
    const { orgId, version } = asked;

    const reservation = await reservationFor(env, input, result, version);
    if (asked.leased) {
      if (!reservation || !result.ok) return result;
      if (allowance.admitLocally(env, orgId, version, reservation, waitUntil)) return { ...result, reserved: true };
    }
    // The version lease ran out but the allowance lease covers the call: confirm the version only, then take it here.
    const local = reservation !== null && allowance.canAdmitLocally(env, orgId, version, reservation, waitUntil);
    const wantAllowance = reservation !== null && !local && allowance.shouldAsk(env, orgId, reservation, waitUntil);
    const sentAt = Date.now();
    let answer;
    try {
      answer = await orgState(env, orgId).admit(version, local ? null : reservation, wantAllowance);
    } finally {
      if (wantAllowance) allowance.asked(orgId, reservation);
    }
    recordLease(orgId, { version: answer.configVersion, lease_ms: answer.lease_ms }, sentAt);
    allowance.versionSeen(env, orgId, answer.configVersion, waitUntil);
    if (answer.stale) continue;
    if (!result.ok || !reservation) return result;
    if (answer.allowance) allowance.install(env, orgId, version, reservation, answer.allowance, sentAt, waitUntil);
    // Taken here, or refused at the OrgState while this isolate's own new lease holds what it needs.
    if ((local || answer.refusal) && allowance.admitLocally(env, orgId, version, reservation, waitUntil)) return { ...result, reserved: true };
    if (local) continue;
    return answer.refusal ? { ...result, limited: answer.refusal } : { ...result, reserved: true };
  }
  throw new Error(`admit ${input.request_id}: the org's config changed on each of ${MAX_ATTEMPTS} attempts`);
}

/**
 * What to hold for an admitted model call: only when one was asked, the decision lets the
 * call through (an allow, or any decision of a log_only set) and some rule applies to the
 * principal; otherwise nothing is written at all.
 */
async function reservationFor(env: Env, input: AdmitInput, result: AdmitResult, version: number): Promise<ReservationRequest | null> {
  if (!input.reserve || !result.ok || !result.org) return null;
  if (result.decision.decision !== "allow" && result.decision.mode !== "log_only") return null;
  const rules = await limitRulesOf(database(env.DB), result.org.id, version);
  const scopes = scopesFor(rules, result.principal, result.org.id);
  if (scopes.length === 0) return null;
  return { request_id: input.request_id, ...usage(input.reserve), scopes };
}

/** Tokens and micro-dollars as whole non-negative numbers; anything else is a caller bug. */
function usage(value: ReservationEstimate): ReservationEstimate {
  const whole = (n: number, name: string) => {
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, not ${n}`);
    return Math.ceil(n);
  };
  return { tokens: whole(value.tokens, "tokens"), cost_micros: whole(value.cost_micros, "cost_micros") };
}

/**
 * `AUTH.settle()`: the request's real usage replaces its estimate (zeros release it), here when
 * this isolate's allowance lease holds it, otherwise in the org's OrgState.
 */
export async function settleReservation(env: Env, input: SettleInput): Promise<void> {
  const actual = usage(input);
  if (allowance.settleLocally(input.request_id, actual)) return;
  await orgState(env, input.org_id).settle(input.request_id, actual.tokens, actual.cost_micros);
}
