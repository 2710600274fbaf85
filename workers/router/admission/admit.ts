import { database } from "../../../shared/db/index.ts";
import type { ReservationRequest } from "../../../shared/limits/limits.ts";
import { limitRulesOf, scopesFor } from "../../../shared/limits/rules.ts";
import { decideOne } from "../../../shared/policy-engine/client.ts";
import { orgStateOf, type AdmitInput, type AdmitResult, type AuthRpc, type ReservationEstimate, type SettleInput } from "../../../shared/rpc.ts";
import { authenticateCached } from "../auth-cache.ts";
import * as allowance from "./allowance.ts";

/** Each attempt but the first follows an admin write that landed mid-admission; more than a few means something is wrong. */
const MAX_ATTEMPTS = 4;

export interface AdmissionEnv {
  AUTH: AuthRpc;
  DB: D1Database;
  ORG_STATE: DurableObjectNamespace;
}

type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * A model call's admission, in the router's isolate: no RPC in steady state. The caller is
 * authenticated through the isolate's cache of airlock-auth's answers (auth-cache.ts), which
 * hold while airlock-auth's lease on the org's config version runs; the policy decision is made
 * here under the org's active set at that version (shared/policy-engine/client.ts) and recorded
 * in the call's own event (`policy`); a reservation is taken from this isolate's allowance lease
 * (allowance.ts) when the version is leased and the allowance covers it. Otherwise one OrgState call confirms the version and, in
 * the same atomic step, reserves (and may lease allowance for the next calls). If an admin write
 * bumped the version meanwhile, nothing was reserved and the whole decision is made again at the
 * new version, so a revoked key or a tightened limit is never honoured late.
 *
 * This used to be `AUTH.admit()`, one RPC per call; its round trip cost more than everything it
 * decided (the MCP gateway already decided policy in its own isolate for the same reason).
 */
export async function admit(env: AdmissionEnv, input: AdmitInput, waitUntil: WaitUntil): Promise<AdmitResult> {
  const { request_id, reserve, action, resource_entity, facts, ...credentials } = input;
  let newer: number | undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const auth = await authenticateCached(env.AUTH, newer === undefined ? credentials : { ...credentials, min_config_version: newer }, waitUntil);
    if (!auth.ok) return auth;
    if (!auth.org) return { ok: false, org: null, code: "forbidden", detail: "The operator is not subject to an org's policies; admission is for org hosts" };
    const org = auth.org;
    const version = auth.configVersion;
    const decided = await decideOne(
      { auth: env.AUTH },
      { requestId: request_id, org, configVersion: version, principal: auth.principal, action, resource: resource_entity, ...(facts ? { facts } : {}) },
    );
    const result: AdmitResult = { ...auth, decision: decided.decision, policy: decided.policy };
    // airlock-auth's answer holds while its lease on `version` runs: no admin write has been answered since.
    const leased = auth.fresh_until !== undefined && Date.now() < auth.fresh_until;
    const reservation = await reservationFor(env, input, result, version);
    if (leased) {
      if (!reservation) return result;
      if (allowance.admitLocally(env, org.id, version, reservation, waitUntil)) return { ...result, reserved: true };
    }
    // The lease ran out but the allowance covers the call: confirm the version only, then take it here.
    const local = reservation !== null && allowance.canAdmitLocally(env, org.id, version, reservation, waitUntil);
    const wantAllowance = reservation !== null && !local && allowance.shouldAsk(env, org.id, reservation, waitUntil);
    const sentAt = Date.now();
    let answer;
    try {
      answer = await orgStateOf(env.ORG_STATE, org.id).admit(version, local ? null : reservation, wantAllowance);
    } finally {
      if (wantAllowance && reservation) allowance.asked(org.id, reservation);
    }
    allowance.versionSeen(env, org.id, answer.configVersion, waitUntil);
    if (answer.stale) {
      newer = answer.configVersion;
      continue;
    }
    if (!reservation) return result;
    if (answer.allowance) allowance.install(env, org.id, version, reservation, answer.allowance, sentAt, waitUntil);
    // Taken here, or refused at the OrgState while this isolate's own new lease holds what it needs.
    if ((local || answer.refusal) && allowance.admitLocally(env, org.id, version, reservation, waitUntil)) return { ...result, reserved: true };
    if (local) continue;
    return answer.refusal ? { ...result, limited: answer.refusal } : { ...result, reserved: true };
  }
  throw new Error(`admit ${request_id}: the org's config changed on each of ${MAX_ATTEMPTS} attempts`);
}

/**
 * What to hold for an admitted model call: only when one was asked, the decision lets the
 * call through (an allow, or any decision of a log_only set) and some rule applies to the
 * principal; otherwise nothing is written at all.
 */
async function reservationFor(env: AdmissionEnv, input: AdmitInput, result: AdmitResult, version: number): Promise<ReservationRequest | null> {
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
 * The request's real usage replaces its estimate (zeros release it): here when this isolate's
 * allowance lease holds it, otherwise in the org's OrgState. For `waitUntil`: it never rejects;
 * a failure is reported (the hold is then released at its expiry).
 */
export async function settle(env: Pick<AdmissionEnv, "ORG_STATE">, input: SettleInput): Promise<void> {
  try {
    const actual = usage(input);
    if (allowance.settleLocally(input.request_id, actual)) return;
    await orgStateOf(env.ORG_STATE, input.org_id).settle(input.request_id, actual.tokens, actual.cost_micros);
  } catch (error) {
    console.error(JSON.stringify({ level: "error", worker: "router", error: "settling a reservation failed", request_id: input.request_id, detail: String(error) }));
  }
}
