import type { VirtualMember } from "../../shared/db/tables/mcp.ts";
import type { Call } from "./call.ts";
import { jsonResponse, rpcError, RPC, type Classified, type JsonRpcId, type JsonRpcRequest, type JsonRpcResponse } from "./jsonrpc.ts";
import { prefixedName, unprefix } from "./names.ts";
import type { Tool } from "./pins.ts";
import { visibleTo, type VirtualServer } from "./registry.ts";
import { finalOf, post, relay, SessionGone, unavailable, type Member } from "./relay.ts";
import type { SessionState } from "./session.ts";
import { gateOne, gateToolCall, inspectToolResult, internalId, listUpstreamTools, visiblePrompts, visibleResources, visibleTools } from "./tools.ts";

/** A member of a virtual server: its upstream, this session's id there, and how it is exposed. */
export type VirtualUpstream = Member & { config: VirtualMember };

/** The members this principal may reach: a virtual server never widens a server's own team visibility. */
export function virtualMembers(call: Call, virtual: VirtualServer, session: SessionState | null): VirtualUpstream[] {
  const teams = call.principal.teams.map((t) => t.id);
  return virtual.members.flatMap((config) => {
    const server = call.registry.servers.get(config.server);
    return server && visibleTo(server, teams) ? [{ server, sessionId: session?.u[server.name] ?? null, init: session?.i ?? null, config }] : [];
  });
}

/** Server-to-client requests from several upstreams share one client: their ids carry the upstream's name. */
const RELAYED_ID = /^airlock:([^:]+):(.*)$/s;
const relayedId = (server: string, id: JsonRpcId) => `airlock:${server}:${JSON.stringify(id)}`;

function tagServerRequests(server: string) {
  return (message: unknown) => {
    const m = message as { id?: JsonRpcId; method?: string };
    return m && typeof m.method === "string" && m.id !== undefined ? { ...m, id: relayedId(server, m.id) } : message;
  };
}

const exposedTool = (member: VirtualUpstream, tool: string) => member.config.rename?.[tool] ?? prefixedName(member.server.name, tool);

function resolveTool(members: VirtualUpstream[], exposed: string): { member: VirtualUpstream; tool: string } | null {
  for (const member of members) {
    for (const [tool, name] of Object.entries(member.config.rename ?? {})) if (name === exposed) return { member, tool };
  }
  const found = unprefix(exposed, members.map((m) => m.server.name));
  const member = found && members.find((m) => m.server.name === found.server);
  if (!member || !found || member.config.rename?.[found.name]) return null;
  if (member.config.tools && !member.config.tools.includes(found.name)) return null;
  return { member, tool: found.name };
}

/** Per isolate: resource URI → the server that listed it, to route reads. */
const resourceServers = new Map<string, string>();

/** Runs one request on every member; a member that fails is left out (and logged), a lost session ends the request. */
async function fanOut<T>(call: Call, members: VirtualUpstream[], run: (member: VirtualUpstream) => Promise<T>): Promise<{ member: VirtualUpstream; value: T }[]> {
  const settled = await Promise.allSettled(members.map(run));
  const out: { member: VirtualUpstream; value: T }[] = [];
  settled.forEach((result, i) => {
    if (result.status === "fulfilled") out.push({ member: members[i]!, value: result.value });
    else if (result.reason instanceof SessionGone) throw result.reason;
    else console.error(JSON.stringify({ level: "error", worker: "mcp-proxy", request_id: call.requestId, server: members[i]!.server.name, error: String(result.reason) }));
  });
  return out;
}

async function listOf(call: Call, member: Member, method: string, key: string): Promise<Record<string, unknown>[]> {
  const id = internalId("fan");
  const answer = await finalOf(member.server.name, id, await post(call, member, { jsonrpc: "2.0", id, method }), call.timeoutMs);
  return (answer.result?.[key] as Record<string, unknown>[] | undefined) ?? [];
}

const result = (id: JsonRpcId, value: Record<string, unknown>) => jsonResponse({ jsonrpc: "2.0", id, result: value } satisfies JsonRpcResponse);

export async function initializeVirtual(call: Call, virtual: VirtualServer, request: JsonRpcRequest): Promise<{ response: Response; sessions?: Record<string, string | null> }> {
  const members = virtualMembers(call, virtual, null);
  try {
    const answers = await Promise.all(members.map(async (member) => {
      const upstream = await post(call, member, request);
      const session = upstream.headers.get("mcp-session-id");
      return { member, session, answer: await finalOf(member.server.name, request.id, upstream, call.timeoutMs) };
    }));
    const failed = answers.find((a) => a.answer.error);
    if (failed) return { response: rpcError(request.id, failed.answer.error!.code, `MCP server '${failed.member.server.name}': ${failed.answer.error!.message}`) };
    const results = answers.map((a) => a.answer.result as { protocolVersion?: string; capabilities?: Record<string, object> });
    const capabilities: Record<string, object> = {};
    for (const r of results) for (const [key, value] of Object.entries(r.capabilities ?? {})) capabilities[key] = { ...capabilities[key], ...value };
    const protocolVersion = results.every((r) => r.protocolVersion === results[0]?.protocolVersion) ? results[0]?.protocolVersion : (request.params?.protocolVersion as string);
    return {
      response: result(request.id, { protocolVersion, capabilities, serverInfo: { name: virtual.name, version: "1.0.0" } }),
      sessions: Object.fromEntries(answers.map((a) => [a.member.server.name, a.session])),
    };
  } catch (error) {
    return { response: unavailable(request.id, virtual.name, error) };
  }
}

export async function serveVirtual(call: Call, virtual: VirtualServer, members: VirtualUpstream[], classified: Classified): Promise<Response> {
  if (classified.kind === "notification") {
    call.attributes["mcp.method.name"] = classified.message.method;
    await Promise.allSettled(members.map(async (m) => (await post(call, m, classified.message)).body?.cancel()));
    return new Response(null, { status: 202 });
  }
  if (classified.kind === "response") {
    const routed = typeof classified.message.id === "string" ? RELAYED_ID.exec(classified.message.id) : null;
    const member = routed && members.find((m) => m.server.name === routed[1]);
    if (!member) return new Response(null, { status: 202 });
    try {
      return await relay(call, member.server.name, null, await post(call, member, { ...classified.message, id: JSON.parse(routed![2]!) }));
    } catch (error) {
      return unavailable(null, member.server.name, error);
    }
  }
  const request = classified.message;
  const { id, method } = request;
  const params = request.params ?? {};
  try {
    switch (method) {
      case "ping":
        return result(id, {});
      case "tools/list": {
        const listed = await fanOut(call, members, (m) => listUpstreamTools(call, m));
        const entries = listed.flatMap(({ member, value }) =>
          value.filter((tool) => !member.config.tools || member.config.tools.includes(tool.name)).map((tool) => ({ member, tool })));
        const visible = await visibleTools(call, entries);
        const tools = visible.map(({ member, tool }) => {
          const m = member as VirtualUpstream;
          const description = m.config.descriptions?.[tool.name];
          return { ...tool, name: exposedTool(m, tool.name), ...(description !== undefined ? { description } : {}) } satisfies Tool;
        });
        return result(id, { tools });
      }
      case "tools/call": {
        const exposed = params.name;
        if (typeof exposed !== "string") return rpcError(id, RPC.invalidParams, "tools/call needs params.name");
        call.attributes["gen_ai.tool.name"] = exposed;
        const target = resolveTool(members, exposed);
        if (!target) return rpcError(id, RPC.invalidParams, `Unknown tool: ${exposed}`);
        const args = params.arguments as Record<string, unknown> | undefined;
        const gate = await gateToolCall(call, target.member, target.tool, exposed, args);
        if ("error" in gate) return rpcError(id, gate.error.code, gate.error.message, 200, gate.error.data);
        const sent = { ...request, params: { ...params, name: target.tool, ...(gate.args !== undefined ? { arguments: gate.args } : {}) } };
        const tag = tagServerRequests(target.member.server.name);
        return await relay(call, target.member.server.name, id, await post(call, target.member, sent), async (message) => {
          const m = message as JsonRpcResponse;
          return m.id === id && !("method" in m) ? inspectToolResult(call, m) : tag(message);
        });
      }
      case "prompts/list": {
        const listed = await fanOut(call, members, (m) => listOf(call, m, "prompts/list", "prompts"));
        const entries = listed.flatMap(({ member, value }) => value.map((p) => ({ ...p, name: String(p.name), member })));
        const visible = await visiblePrompts(call, entries);
        return result(id, { prompts: visible.map(({ member, ...p }) => ({ ...p, name: prefixedName(member.server.name, p.name) })) });
      }
      case "prompts/get": {
        const exposed = params.name;
        const found = typeof exposed === "string" ? unprefix(exposed, members.map((m) => m.server.name)) : null;
        const member = found && members.find((m) => m.server.name === found.server);
        if (!found || !member) return rpcError(id, RPC.invalidParams, `Unknown prompt: ${String(exposed)}`);
        const denied = await gateOne(call, member, "prompt", found.name, String(exposed));
        if (denied) return rpcError(id, denied.code, denied.message, 200, denied.data);
        return await relay(call, member.server.name, id, await post(call, member, { ...request, params: { ...params, name: found.name } }), tagServerRequests(member.server.name));
      }
      case "resources/list": {
        const listed = await fanOut(call, members, (m) => listOf(call, m, "resources/list", "resources"));
        const entries = listed.flatMap(({ member, value }) => value.map((r) => ({ ...r, uri: String(r.uri), member })));
        const visible = await visibleResources(call, entries);
        if (resourceServers.size > 10_000) resourceServers.clear();
        for (const r of visible) resourceServers.set(r.uri, r.member.server.name);
        return result(id, { resources: visible.map(({ member: _, ...r }) => r) });
      }
      case "resources/templates/list": {
        const listed = await fanOut(call, members, (m) => listOf(call, m, "resources/templates/list", "resourceTemplates"));
        return result(id, { resourceTemplates: listed.flatMap(({ value }) => value) });
      }
      case "resources/read":
      case "resources/subscribe":
      case "resources/unsubscribe": {
        const uri = params.uri;
        if (typeof uri !== "string") return rpcError(id, RPC.invalidParams, `${method} needs params.uri`);
        // A URI no list named here (a template's, or listed by another isolate) goes to the first member.
        const member = members.find((m) => m.server.name === resourceServers.get(uri)) ?? members[0];
        if (!member) return rpcError(id, RPC.invalidParams, `Unknown resource: ${uri}`);
        if (method === "resources/read") {
          const denied = await gateOne(call, member, "resource", uri, uri);
          if (denied) return rpcError(id, denied.code, denied.message, 200, denied.data);
        }
        return await relay(call, member.server.name, id, await post(call, member, request));
      }
      case "logging/setLevel":
        await fanOut(call, members, async (m) => (await post(call, m, request)).body?.cancel());
        return result(id, {});
      case "completion/complete": {
        const ref = params.ref as { type?: string; name?: string; uri?: string } | undefined;
        const found = ref?.type === "ref/prompt" && ref.name ? unprefix(ref.name, members.map((m) => m.server.name)) : null;
        const member = found ? members.find((m) => m.server.name === found.server) : members.find((m) => m.server.name === resourceServers.get(ref?.uri ?? ""));
        if (!member) return rpcError(id, RPC.invalidParams, "completion/complete: the ref names no prompt or resource of this server");
        const sent = found ? { ...request, params: { ...params, ref: { ...ref, name: found.name } } } : request;
        return await relay(call, member.server.name, id, await post(call, member, sent));
      }
      default:
        return rpcError(id, RPC.methodNotFound, `Method not found: ${method}`);
    }
  } catch (error) {
    return unavailable(id, virtual.name, error);
  }
}
