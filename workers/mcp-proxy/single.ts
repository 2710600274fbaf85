import type { Call } from "./call.ts";
import { rpcError, RPC, type Classified, type JsonRpcRequest, type JsonRpcResponse } from "./jsonrpc.ts";
import type { Tool } from "./pins.ts";
import { post, relay, unavailable, type Member } from "./relay.ts";
import { gateOne, gateToolCall, inspectToolResult, visiblePrompts, visibleResources, visibleTools } from "./tools.ts";

/** Methods relayed as they are (the upstream answers; nothing in them needs policy or inspection). */
const PASS_THROUGH = new Set([
  "ping", "logging/setLevel", "completion/complete", "resources/templates/list", "resources/subscribe", "resources/unsubscribe",
  "tasks/get", "tasks/list", "tasks/result", "tasks/cancel",
]);

const isAnswerTo = (message: unknown, id: JsonRpcRequest["id"]): message is JsonRpcResponse =>
  typeof message === "object" && message !== null && (message as { id?: unknown }).id === id && !("method" in message);

/** Rewrites only the answer to `id`; progress, logs and server-to-client requests pass untouched. */
const onAnswer = (id: JsonRpcRequest["id"], rewrite: (message: JsonRpcResponse) => Promise<JsonRpcResponse>) => (message: unknown) =>
  isAnswerTo(message, id) ? rewrite(message) : message;

/** One client message to one upstream server, after the session is established. */
export async function serveSingle(call: Call, member: Member, classified: Classified): Promise<Response> {
  const name = member.server.name;
  if (classified.kind !== "request") {
    if (classified.kind === "notification") call.attributes["mcp.method.name"] = classified.message.method;
    try {
      return await relay(call, name, null, await post(call, member, classified.message));
    } catch (error) {
      return unavailable(null, name, error);
    }
  }
  const request = classified.message;
  const { id, method } = request;
  const params = request.params ?? {};
  try {
    switch (method) {
      case "tools/list":
        return await relay(call, name, id, await post(call, member, request), onAnswer(id, async (answer) => {
          const tools = (answer.result?.tools as Tool[] | undefined) ?? [];
          const visible = await visibleTools(call, tools.map((tool) => ({ member, tool })));
          return { ...answer, result: { ...answer.result, tools: visible.map((v) => v.tool) } };
        }));
      case "tools/call": {
        const tool = params.name;
        if (typeof tool !== "string") return rpcError(id, RPC.invalidParams, "tools/call needs params.name");
        call.attributes["gen_ai.tool.name"] = tool;
        const args = params.arguments as Record<string, unknown> | undefined;
        const gate = await gateToolCall(call, member, tool, tool, args);
        if ("error" in gate) return rpcError(id, gate.error.code, gate.error.message, 200, gate.error.data);
        const sent = { ...request, params: { ...params, ...(gate.args !== undefined ? { arguments: gate.args } : {}) } };
        return await relay(call, name, id, await post(call, member, sent), onAnswer(id, (answer) => inspectToolResult(call, answer)));
      }
      case "prompts/list":
        return await relay(call, name, id, await post(call, member, request), onAnswer(id, async (answer) => {
          const prompts = ((answer.result?.prompts as { name: string }[] | undefined) ?? []).map((p) => ({ ...p, member }));
          const visible = await visiblePrompts(call, prompts);
          return { ...answer, result: { ...answer.result, prompts: visible.map(({ member: _, ...p }) => p) } };
        }));
      case "resources/list":
        return await relay(call, name, id, await post(call, member, request), onAnswer(id, async (answer) => {
          const resources = ((answer.result?.resources as { uri: string }[] | undefined) ?? []).map((r) => ({ ...r, member }));
          const visible = await visibleResources(call, resources);
          return { ...answer, result: { ...answer.result, resources: visible.map(({ member: _, ...r }) => r) } };
        }));
      case "prompts/get":
      case "resources/read": {
        const kind = method === "prompts/get" ? "prompt" : "resource";
        const target = kind === "prompt" ? params.name : params.uri;
        if (typeof target !== "string") return rpcError(id, RPC.invalidParams, `${method} needs params.${kind === "prompt" ? "name" : "uri"}`);
        const denied = await gateOne(call, member, kind, target, target);
        if (denied) return rpcError(id, denied.code, denied.message, 200, denied.data);
        return await relay(call, name, id, await post(call, member, request));
      }
      default:
        if (!PASS_THROUGH.has(method)) return rpcError(id, RPC.methodNotFound, `Method not found: ${method}`);
        return await relay(call, name, id, await post(call, member, request));
    }
  } catch (error) {
    return unavailable(id, name, error);
  }
}
