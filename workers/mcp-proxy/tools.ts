import type { Call } from "./call.ts";
import { authorize, blockedError, countFindings, deniedError, inspect, recordDecision, toolResource } from "./gate.ts";
import { RPC, type JsonRpcError, type JsonRpcResponse } from "./jsonrpc.ts";
import { usableTools, type Tool } from "./pins.ts";
import { pinKey } from "./registry.ts";
import { finalOf, post, type Member } from "./relay.ts";

export interface ListedTool {
  member: Member;
  tool: Tool;
}

/** The listed tools the principal may see: pinned and approved, then allowed by one policy decision call (gate.ts). */
export async function visibleTools(call: Call, listed: ListedTool[]): Promise<ListedTool[]> {
  const servers = new Map<string, ListedTool[]>();
  for (const entry of listed) servers.set(entry.member.server.id, [...(servers.get(entry.member.server.id) ?? []), entry]);
  const usable = new Map(
    await Promise.all([...servers.values()].map(async (entries) => [entries[0]!.member.server.id, await usableTools(call, entries[0]!.member.server, entries.map((e) => e.tool))] as const)),
  );
  const candidates = listed.filter((entry) => usable.get(entry.member.server.id)!.has(entry.tool.name));
  const verdicts = await authorize(call, "call_tool", candidates.map((entry) => toolResource(entry.member.server, entry.tool.name)));
  return candidates.filter((_, i) => verdicts.allowed[i]);
}

let internalIds = 0;
/** Ids of the gateway's own requests upstream; never seen by the client. */
export const internalId = (purpose: string) => `airlock-${purpose}-${Date.now().toString(36)}-${(internalIds++).toString(36)}`;

/** Every tool the upstream lists (all pages), for the gateway's own use. */
export async function listUpstreamTools(call: Call, member: Member): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const id = internalId("list");
    const answer = await finalOf(member.server.name, id, await post(call, member, { jsonrpc: "2.0", id, method: "tools/list", ...(cursor ? { params: { cursor } } : {}) }), call.timeoutMs);
    const result = answer.result as { tools?: Tool[]; nextCursor?: string } | undefined;
    tools.push(...(result?.tools ?? []));
    cursor = result?.nextCursor;
    if (!cursor) break;
  }
  return tools;
}

/**
 * A `tools/call` before it goes upstream: the tool must be pinned and approved (a tool
 * never listed is listed and pinned first), allowed by policy with its arguments as
 * facts, and its arguments must pass the guardrail (redacted ones are sent redacted).
 * Policy and inspection run in parallel.
 */
export async function gateToolCall(
  call: Call, member: Member, tool: string, exposedName: string, args: Record<string, unknown> | undefined,
): Promise<{ args: Record<string, unknown> | undefined } | { error: JsonRpcError }> {
  const { registry } = call;
  let pin = registry.pins.get(pinKey(member.server.id, tool));
  if (!pin) {
    await usableTools(call, member.server, await listUpstreamTools(call, member));
    pin = registry.pins.get(pinKey(member.server.id, tool));
  }
  if (!pin) return { error: { code: RPC.invalidParams, message: `Unknown tool: ${exposedName}` } };
  if (pin.status !== "approved") {
    call.attributes["airlock.decision"] = "deny";
    call.attributes["airlock.reason"] = "tool_quarantined";
    const why = pin.reason === "flagged" ? "its description was flagged by the guardrail" : "its definition changed since it was approved";
    return { error: { code: RPC.quarantined, message: `Tool ${exposedName} is quarantined: ${why}; an admin must approve it` } };
  }
  const hasArgs = args !== undefined && Object.keys(args).length > 0;
  const [verdicts, inspection] = await Promise.all([
    authorize(call, "call_tool", [toolResource(member.server, tool)], args ?? {}),
    hasArgs ? inspect(call, "tool_args", args) : undefined,
  ]);
  const decision = verdicts.decisions[0]!;
  recordDecision(call, decision);
  if (!verdicts.allowed[0]) {
    call.attributes["airlock.reason"] = "policy_denied";
    return { error: deniedError(`Tool ${exposedName}`, decision) };
  }
  if (inspection) {
    countFindings(call, inspection);
    if (inspection.action === "block") {
      call.attributes["airlock.reason"] = "guardrail_blocked";
      return { error: blockedError("tool call's arguments", inspection) };
    }
    if (inspection.redacted?.json !== undefined) return { args: inspection.redacted.json as Record<string, unknown> };
  }
  return { args };
}

/** A tool result before it reaches the client: blocked or redacted per the org's rules. */
export async function inspectToolResult(call: Call, message: JsonRpcResponse): Promise<JsonRpcResponse> {
  if (!message.result) return message;
  const inspection = await inspect(call, "tool_result", message.result);
  countFindings(call, inspection);
  if (inspection.action === "block") {
    call.attributes["airlock.reason"] = "guardrail_blocked";
    return { jsonrpc: "2.0", id: message.id, error: blockedError("tool result", inspection) };
  }
  if (inspection.redacted?.json !== undefined) return { ...message, result: inspection.redacted.json as Record<string, unknown> };
  return message;
}

/** Prompts and resources lists, filtered by one policy decision call each. */
export async function visiblePrompts<T extends { member: Member; name: string }>(call: Call, prompts: T[]): Promise<T[]> {
  const verdicts = await authorize(call, "get_prompt", prompts.map((p) => ({ type: "Prompt", id: p.name, server: { id: p.member.server.name, tags: p.member.server.tags } })));
  return prompts.filter((_, i) => verdicts.allowed[i]);
}

export async function visibleResources<T extends { member: Member; uri: string }>(call: Call, resources: T[]): Promise<T[]> {
  const verdicts = await authorize(call, "read_resource", resources.map((r) => ({ type: "Resource", uri: r.uri, server: { id: r.member.server.name, tags: r.member.server.tags } })));
  return resources.filter((_, i) => verdicts.allowed[i]);
}

/** `prompts/get` / `resources/read`: one decision; the error when denied. */
export async function gateOne(call: Call, member: Member, kind: "prompt" | "resource", id: string, shown: string): Promise<JsonRpcError | null> {
  const resource = kind === "prompt"
    ? { type: "Prompt" as const, id, server: { id: member.server.name, tags: member.server.tags } }
    : { type: "Resource" as const, uri: id, server: { id: member.server.name, tags: member.server.tags } };
  const verdicts = await authorize(call, kind === "prompt" ? "get_prompt" : "read_resource", [resource]);
  recordDecision(call, verdicts.decisions[0]);
  if (!verdicts.allowed[0]) call.attributes["airlock.reason"] = "policy_denied";
  return verdicts.allowed[0] ? null : deniedError(`${kind === "prompt" ? "Prompt" : "Resource"} ${shown}`, verdicts.decisions[0]!);
}
