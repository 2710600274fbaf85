import { database } from "../../../shared/db/index.ts";
import type { AdmitInput, AdmitResult, ReservationEstimate, SettleInput } from "../../../shared/rpc.ts";
import type { Env } from "../env.ts";
import { orgState } from "../org-state.ts";
import type { ReservationRequest } from "./limits.ts";
import { limitRulesOf, scopesFor } from "./rules.ts";

/** Org id → the config version its OrgState last reported to this isolate. */
const knownVersions = new Map<string, number>();
const MAX_KNOWN = 10_000;
/** Each attempt but the first follows an admin write that landed mid-admission; more than a few means something is wrong. */
const MAX_ATTEMPTS = 4;

/** The config version to authenticate and decide at, for the org the credential addresses. */
type VersionOf = (orgId: string) => Promise<number>;

/**
 * `admit()` in one OrgState round trip. Authentication, the policy decision and the limit
 * rules are all worked out at the config version this isolate last saw (its caches are keyed
 * by it), then one OrgState call confirms that version is still current and, in the same
 * atomic step, reserves the estimate. If an admin write bumped the version meanwhile, nothing
 * was reserved and the whole decision is made again at the new version, so a revoked key or
 * a tightened limit is never honoured late. An isolate's first admission for an org asks for
 * the version first (two round trips, once).
 */
export async function admitWithLimits(env: Env, input: AdmitInput, decide: (versionOf: VersionOf) => Promise<AdmitResult>): Promise<AdmitResult> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const asked: { orgId?: string; version?: number } = {};
    const result = await decide(async (orgId) => {
      asked.orgId = orgId;
      asked.version = knownVersions.get(orgId) ?? (await orgState(env, orgId).configVersion());
      return asked.version;
    });
    // No org version was involved (no credential, unknown host, operator): nothing to confirm.
    if (asked.orgId === undefined || asked.version === undefined) return result;

    const reservation = await reservationFor(env, input, result, asked.version);
    const answer = await orgState(env, asked.orgId).admit(asked.version, reservation);
    if (knownVersions.size >= MAX_KNOWN) knownVersions.clear();
    knownVersions.set(asked.orgId, answer.configVersion);
    if (answer.stale) continue;
    if (!result.ok || !reservation) return result;
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

/** `AUTH.settle()`: the request's real usage replaces its estimate in the org's OrgState (zeros release it). */
export async function settleReservation(env: Env, input: SettleInput): Promise<void> {
  const actual = usage(input);
  await orgState(env, input.org_id).settle(input.request_id, actual.tokens, actual.cost_micros);
}
