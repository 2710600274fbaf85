// The auth Worker's side of policy: the org's active policy set from D1, cached per isolate
// by the org's config version (every admin write bumps it), so the hot path reads no D1 row,
// and the decisions of `admit()` and `authorizeMany()` under it (shared/policy-engine/).
import { database, orgScope, type Db } from "../../../shared/db/index.ts";
import type { AirlockEvent, EventMessage } from "../../../shared/events.ts";
import { orgVersionCache } from "../../../shared/org-cache.ts";
import { authorizeWith, prepare, type Prepared } from "../../../shared/policy-engine/authorize.ts";
import { decisionEvent, emitDecision, type DecisionInput } from "../../../shared/policy-engine/decision-event.ts";
import type { PolicyAction, RequestFacts, ResourceDescriptor } from "../../../shared/policy.ts";
import type { Principal } from "../../../shared/principal.ts";
import type { AdmitDecision, AuthorizeManyInput, AuthorizeManyResult } from "../../../shared/rpc.ts";
import { readActive, type ActivePolicySet } from "./store.ts";

const activeAt = orgVersionCache<ActivePolicySet>();

/** The org's active policy set (version 0, the starter templates, until the org activates one). */
export function activePolicySet(db: Db, orgId: string, configVersion: number): Promise<ActivePolicySet> {
  return activeAt(orgId, configVersion, () => readActive(orgScope(db, orgId)));
}

/** The org's active set, prepared once per isolate per version, and how its decisions apply. */
export async function activePrepared(db: Db, orgId: string, configVersion: number): Promise<Prepared> {
  return prepare(orgId, await activePolicySet(db, orgId, configVersion));
}

interface Recorder {
  waitUntil(promise: Promise<unknown>): void;
}

/** The event is built, logged and sent when the isolate's event batch goes, after the answer (kept alive by waitUntil). */
function afterAnswer(ctx: Recorder, queue: Queue<EventMessage>, event: () => AirlockEvent) {
  ctx.waitUntil(emitDecision(queue, event));
}

/** What `admit()` decided, for its event: kept until the admission is final. */
const pendingRecords = new WeakMap<AdmitDecision, { input: DecisionInput; resource: ResourceDescriptor }>();

/**
 * `admit()`'s decision under the org's active set. Not recorded yet: admission may decide
 * again (an admin write landed meanwhile), so `recordAdmission` records the one returned.
 */
export async function admitDecision(
  db: D1Database,
  input: { requestId: string; org: { id: string; slug: string }; configVersion: number; principal: Principal; action: PolicyAction; resource: ResourceDescriptor; facts?: RequestFacts },
): Promise<AdmitDecision> {
  const { engine, set, mode } = await activePrepared(database(db), input.org.id, input.configVersion);
  const facts = { ...input.facts, now: input.facts?.now ?? new Date() };
  const decision = engine.decide(set, { ...facts, principal: input.principal, action: input.action, resource: input.resource });
  const admitted: AdmitDecision = { ...decision, policy_version: set.version, mode };
  const record = { requestId: input.requestId, org: input.org, principal: input.principal, action: input.action, facts, version: set.version, mode, inputAttributes: engine.inputAttributes };
  pendingRecords.set(admitted, { input: record, resource: input.resource });
  return admitted;
}

/** Records the decision `admit()` returns, off the critical path. */
export function recordAdmission(queue: Queue<EventMessage>, ctx: Recorder) {
  return <R extends { ok: boolean; decision?: AdmitDecision }>(result: R): R => {
    const pending = result.ok && result.decision ? pendingRecords.get(result.decision) : undefined;
    if (pending) afterAnswer(ctx, queue, () => decisionEvent(pending.input, pending.resource, result.decision!));
    return result;
  };
}

/** `authorizeMany()`: one decision per resource, one event for the call. */
export async function authorizeMany(env: { DB: D1Database; EVENTS: Queue<EventMessage> }, ctx: Recorder, input: AuthorizeManyInput): Promise<AuthorizeManyResult> {
  const prepared = await activePrepared(database(env.DB), input.org_id, input.configVersion);
  return authorizeWith(prepared, input, { events: env.EVENTS, waitUntil: (promise) => ctx.waitUntil(promise) });
}
