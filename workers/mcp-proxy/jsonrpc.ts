/** JSON-RPC 2.0 as MCP uses it: message shapes, the error codes the spec names, and error responses. */

export type JsonRpcId = string | number;
export interface JsonRpcRequest { jsonrpc: "2.0"; id: JsonRpcId; method: string; params?: Record<string, unknown> }
export interface JsonRpcNotification { jsonrpc: "2.0"; method: string; params?: Record<string, unknown> }
export interface JsonRpcError { code: number; message: string; data?: unknown }
export interface JsonRpcResponse { jsonrpc: "2.0"; id: JsonRpcId | null; result?: Record<string, unknown>; error?: JsonRpcError }

export type Classified =
  | { kind: "request"; message: JsonRpcRequest }
  | { kind: "notification"; message: JsonRpcNotification }
  | { kind: "response"; message: JsonRpcResponse };

export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** Implementation-defined server errors (-32000…-32099). */
  badRequest: -32000,
  serverNotFound: -32001,
  upstreamUnavailable: -32002,
  denied: -32003,
  quarantined: -32004,
  blocked: -32005,
  /** Per-user upstream OAuth: the user must connect their upstream account (`error.data.connect_url`). */
  connectRequired: -32006,
  /** Protocol 2026-07-28: `Mcp-Method` / `Mcp-Name` headers that disagree with the body (HTTP 400). */
  headerMismatch: -32020,
} as const;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const isId = (value: unknown): value is JsonRpcId => typeof value === "string" || (typeof value === "number" && Number.isFinite(value));

/** What a parsed JSON value is as a JSON-RPC 2.0 message, or null when it is not one. */
export function classify(value: unknown): Classified | null {
  if (!isObject(value) || value.jsonrpc !== "2.0") return null;
  if (value.params !== undefined && !isObject(value.params) && !Array.isArray(value.params)) return null;
  if (typeof value.method === "string") {
    if (value.id === undefined) return { kind: "notification", message: value as unknown as JsonRpcNotification };
    return isId(value.id) ? { kind: "request", message: value as unknown as JsonRpcRequest } : null;
  }
  if ((value.id === null || isId(value.id)) && ("result" in value) !== ("error" in value)) {
    if ("error" in value && !(isObject(value.error) && typeof value.error.code === "number")) return null;
    return { kind: "response", message: value as unknown as JsonRpcResponse };
  }
  return null;
}

export const errorMessage = (id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcResponse => ({
  jsonrpc: "2.0",
  id,
  error: { code, message, ...(data !== undefined ? { data } : {}) },
});

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

export function rpcError(id: JsonRpcId | null, code: number, message: string, status = 200, data?: unknown, headers: Record<string, string> = {}): Response {
  return jsonResponse(errorMessage(id, code, message, data), status, headers);
}
