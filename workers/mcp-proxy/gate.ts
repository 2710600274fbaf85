import type { InspectResult } from "../../shared/guardrail.ts";
import { inspect as inspectHere } from "../../shared/guardrail-engine/client.ts";
import { authorize as authorizeHere, decideOne } from "../../shared/policy-engine/client.ts";
import type { PolicyAction, PolicyDecision, ResourceDescriptor } from "../../shared/policy.ts";
import { actorOf, type Call } from "./call.ts";
import { RPC, type JsonRpcError } from "./jsonrpc.ts";
import type { Tool } from "./pins.ts";
import type { UpstreamServer } from "./registry.ts";

/** A tool's policy entity: tags from the server, the registry's per-tool tags, and an explicit `destructiveHint`. */
export function toolResource(server: UpstreamServer, tool: string, annotations?: Tool["annotations"]): ResourceDescriptor {
  const tags = new Set([...server.tags, ...(server.toolTags[tool] ?? [])]);
  if (annotations?.destructiveHint === true) tags.add("destructive");
  return { type: "Tool", id: tool, server: { id: server.name, tags: server.tags }, tags: [...tags] };
}

export interface Verdicts {
  /** Per resource: may it be used (a deny counts only under `enforce`). */
  allowed: boolean[];
  decisions: PolicyDecision[];
}

/**
 * One decision under the org's active policy set, in this isolate, for a whole list or a single
 * call. A list's decision is an event of its own; a single resource's rides in the request's
 * event (serve.ts), so a tool call writes one event, not two.
 */
export async function authorize(call: Call, action: PolicyAction, resources: ResourceDescriptor[], input?: Record<string, unknown>): Promise<Verdicts> {
  if (resources.length === 0) return { allowed: [], decisions: [] };
  if (resources.length === 1) {
    const one = await decideOne({ auth: call.env.AUTH }, {
      requestId: call.requestId, org: call.org, configVersion: call.configVersion, principal: call.principal,
      action, resource: resources[0]!, ...(input ? { facts: { input } } : {}),
    });
    call.decisions.push(one);
    return { allowed: [one.decision.decision === "allow" || one.decision.mode !== "enforce"], decisions: [one.decision] };
  }
  const result = await authorizeHere({ auth: call.env.AUTH, events: call.env.EVENTS, waitUntil: (p) => call.waitUntil(p) }, {
    request_id: call.requestId, org_id: call.org.id, configVersion: call.configVersion, principal: call.principal,
    action, resources, ...(input ? { facts: { input } } : {}),
  });
  const enforce = result.mode === "enforce";
  return { allowed: result.decisions.map((d) => d.decision === "allow" || !enforce), decisions: result.decisions };
}

/** The JSON-RPC error for a denied call, naming the policies that decided it. */
export function deniedError(what: string, decision: PolicyDecision): JsonRpcError {
  const policies = decision.determining;
  const why = policies.length > 0 ? `denied by policy ${policies.join(", ")}` : "not permitted by any policy (default deny)";
  return { code: RPC.denied, message: `${what} is ${why}`, data: { policy_ids: policies } };
}

export function recordDecision(call: Call, decision: PolicyDecision | undefined) {
  if (!decision) return;
  call.attributes["airlock.decision"] = decision.decision;
  if (decision.determining.length > 0) call.attributes["airlock.policy_ids"] = decision.determining.join(",");
}

/** Tool arguments and results pass the org's guardrails in this isolate (policy from airlock-guardrail, findings recorded there). */
export function inspect(call: Call, direction: "tool_args" | "tool_result", json: unknown): Promise<InspectResult> {
  return inspectHere(
    { guardrail: call.env.GUARDRAIL, waitUntil: (p) => call.waitUntil(p), worker: "mcp-proxy" },
    { org_id: call.org.id, config_version: call.configVersion, request_id: call.requestId, actor: actorOf(call) },
    direction,
    { json },
  );
}

export function countFindings(call: Call, result: InspectResult) {
  const before = Number(call.attributes["airlock.findings"] ?? 0);
  call.attributes["airlock.findings"] = before + result.findings.length;
}

/** A guardrail `block` as a JSON-RPC error: which detectors, never what they matched. */
export function blockedError(where: string, result: InspectResult): JsonRpcError {
  const detectors = [...new Set(result.findings.filter((f) => f.action === "block").map((f) => f.detector))];
  const reason = result.error ? `inspection failed (${result.error.code}) and the org fails closed` : `blocked by guardrail ${detectors.join(", ")}`;
  return { code: RPC.blocked, message: `The ${where} was ${reason}`, data: { detectors } };
}
