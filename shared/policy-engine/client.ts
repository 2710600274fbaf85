import { orgVersionCache } from "../org-cache.ts";
import type { PolicyAction, RequestFacts, ResourceDescriptor } from "../policy.ts";
import type { Principal } from "../principal.ts";
import type { AdmitDecision, AuthRpc, AuthorizeManyInput, AuthorizeManyResult } from "../rpc.ts";
import { authorizeWith, prepare, type ActivePolicy, type DecisionRecorder } from "./authorize.ts";
import type { AirlockEvent } from "../events.ts";
import { decisionEvent, singleDecision, type PolicyDecisionAttributes } from "./decision-event.ts";

/**
 * Policy where the request is. The MCP gateway decides its lists and calls, and the router its
 * model calls, in their own isolates: a round trip to airlock-auth per request cost more than
 * the decision. airlock-auth still owns the policies: it hands out an org's active set once per
 * config version (`AUTH.activePolicy`). A list's decisions are one decision event; a single
 * decision rides in its request's own event (`decideOne`).
 */
export interface PolicyContext extends DecisionRecorder {
  auth: Pick<AuthRpc, "activePolicy">;
}

const activeAt = orgVersionCache<ActivePolicy>();

/** `AUTH.authorizeMany()`'s answer, decided here under the org's active set. */
export async function authorize(ctx: PolicyContext, input: AuthorizeManyInput): Promise<AuthorizeManyResult> {
  const { org_id: orgId, configVersion } = input;
  const active = await activeAt(orgId, configVersion, () => ctx.auth.activePolicy(orgId, configVersion));
  return authorizeWith(prepare(orgId, active), input, ctx);
}

/**
 * One decision on one resource, and how to record it: `policy` builds what the request's own
 * event carries of it (`airlock.policy`), `event` a decision event of its own for when no call
 * event can carry it.
 */
export interface SingleDecision {
  decision: AdmitDecision;
  policy: () => PolicyDecisionAttributes;
  event: () => AirlockEvent;
}

/** One action on one resource (a model call's admission, an MCP tool call), decided here under the org's active set. */
export async function decideOne(
  ctx: Pick<PolicyContext, "auth">,
  input: { requestId: string; org: { id: string; slug: string }; configVersion: number; principal: Principal; action: PolicyAction; resource: ResourceDescriptor; facts?: RequestFacts },
): Promise<SingleDecision> {
  const active = await activeAt(input.org.id, input.configVersion, () => ctx.auth.activePolicy(input.org.id, input.configVersion));
  const { engine, set, mode } = prepare(input.org.id, active);
  const facts = { ...input.facts, now: input.facts?.now ?? new Date() };
  const decided = engine.decide(set, { ...facts, principal: input.principal, action: input.action, resource: input.resource });
  const record = { requestId: input.requestId, org: input.org, principal: input.principal, action: input.action, facts, version: set.version, mode, inputAttributes: engine.inputAttributes };
  return {
    decision: { ...decided, policy_version: set.version, mode },
    policy: () => singleDecision(record, input.resource, decided),
    event: () => decisionEvent(record, input.resource, decided),
  };
}
