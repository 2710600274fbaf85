import type { SingleDecision } from "../../shared/policy-engine/client.ts";
import { emitDecision } from "../../shared/policy-engine/decision-event.ts";
import { MCP_ATTRIBUTES_HEADER, MCP_POLICY_ATTRIBUTE, type McpRequestContext } from "../../shared/rpc.ts";
import { principalKey, type Call, type McpAttributes } from "./call.ts";
import { BATCH_VERSION, serveBatch } from "./batch.ts";
import type { Env } from "./env.ts";
import { classify, rpcError, RPC, type Classified, type JsonRpcId } from "./jsonrpc.ts";
import { headerMismatch } from "./mcp-headers.ts";
import { registryOf, visibleTo } from "./registry.ts";
import { idleMsOf, post, relay, unavailable } from "./relay.ts";
import { carriedInit, MAX_CARRIED_INIT_CHARS, openSession, sealSession, sessionTag, type SessionState } from "./session.ts";
import { serveSingle } from "./single.ts";
import { discover, serveStateless, STATELESS_VERSION } from "./stateless.ts";
import { exchange } from "./upstream/streamable-http.ts";
import { connectedRegistry } from "./upstream-oauth/connect.ts";
import { virtualMembers, serveVirtual, initializeVirtual } from "./virtual.ts";

export const PROTOCOL_VERSIONS = ["2025-03-26", "2025-06-18", "2025-11-25", STATELESS_VERSION];
const SESSION_HEADER = "mcp-session-id";

const DEFAULT_MAX_MESSAGE_BYTES = 512 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

/** `/mcp/<name>` for an authenticated principal: a registered server or a virtual server. */
export async function serve(env: Env, waitUntil: Call["waitUntil"], request: Request, context: McpRequestContext): Promise<Response> {
  const attributes: McpAttributes = {};
  const decisions: SingleDecision[] = [];
  const started = performance.now();
  let response: Response;
  try {
    response = await handle(env, waitUntil, request, context, attributes, decisions);
  } catch (error) {
    console.error(JSON.stringify({ level: "error", worker: "mcp-proxy", request_id: context.requestId, error: error instanceof Error ? error.message : String(error) }));
    response = rpcError(null, RPC.internalError, `The gateway failed; quote request id ${context.requestId} to support`, 500);
  }
  attributes["airlock.gateway_ms"] = Math.round((performance.now() - started) * 1000) / 1000;
  // Every answer is a Response the gateway built (relay.ts and jsonrpc.ts), so its headers are set in place, not copied.
  response.headers.set(MCP_ATTRIBUTES_HEADER, attributesHeader(env, waitUntil, attributes, decisions));
  return response;
}

/** Past this, a decision's record goes as an event of its own rather than in a header (declared tool arguments can be long). */
const MAX_HEADER_CHARS = 16 * 1024;

/**
 * The request's attributes for its event (the router's), with its one decision when it made
 * exactly one; a batch's several decisions, or one too long for a header, are recorded as
 * decision events of their own.
 */
function attributesHeader(env: Env, waitUntil: Call["waitUntil"], attributes: McpAttributes, decisions: SingleDecision[]): string {
  if (decisions.length === 1) {
    const header = JSON.stringify({ ...attributes, [MCP_POLICY_ATTRIBUTE]: decisions[0]!.policy() });
    if (header.length <= MAX_HEADER_CHARS) return header;
  }
  for (const decision of decisions) waitUntil(emitDecision(env.EVENTS, decision.event));
  return JSON.stringify(attributes);
}

async function handle(
  env: Env, waitUntil: Call["waitUntil"], request: Request, context: McpRequestContext, attributes: McpAttributes, decisions: SingleDecision[],
): Promise<Response> {
  const { org, principal } = context;
  const match = /^\/mcp\/([^/]+)\/?$/.exec(new URL(request.url).pathname);
  if (!match) return rpcError(null, RPC.serverNotFound, "Address an MCP server as /mcp/<server>", 404);
  const name = match[1]!;
  attributes["airlock.mcp.server"] = name;

  const message = request.method === "POST" ? await parseMessage(env, request, attributes) : null;
  const id = message && !(message instanceof Response) && !Array.isArray(message) && message.kind !== "response" && "id" in message.message ? message.message.id : null;
  const registry = await registryOf(env, org.id, context.configVersion);
  const teams = principal.teams.map((t) => t.id);
  const listed = registry.servers.get(name);
  const virtual = listed ? undefined : registry.virtuals.get(name);
  const target = listed ?? virtual;
  if (!target || !visibleTo(target, teams)) {
    return rpcError(id, RPC.serverNotFound, `No MCP server named '${name}' is registered in org ${org.slug}`, 404);
  }

  const version = request.headers.get("mcp-protocol-version");
  if (version !== null && !PROTOCOL_VERSIONS.includes(version)) {
    return rpcError(id, RPC.badRequest, `Bad Request: unsupported MCP-Protocol-Version ${version} (supported: ${PROTOCOL_VERSIONS.join(", ")})`, 400);
  }
  // Per-user upstream OAuth: its servers carry this user's own token, or the request stops with connect required.
  const connected = await connectedRegistry(env, context, registry, target, id, new URL(request.url).origin, attributes);
  if (connected instanceof Response) return connected;
  const server = listed ? connected.servers.get(name) : undefined;
  const call: Call = {
    env, waitUntil, org, principal, requestId: context.requestId, configVersion: context.configVersion,
    registry: connected,
    protocolVersion: version, accept: request.headers.get("accept"), lastEventId: request.headers.get("last-event-id"),
    timeoutMs: Number(env.UPSTREAM_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS, attributes, decisions,
  };

  const opened = async (answering: JsonRpcId | null): Promise<SessionState | Response> => {
    const header = request.headers.get(SESSION_HEADER);
    if (!header) return rpcError(answering, RPC.badRequest, "Bad Request: Mcp-Session-Id header is required (initialize first)", 400);
    const session = await openSession(env.MASTER_KEY, org.id, header);
    attributes["mcp.session.id"] = session?.tag ?? (await sessionTag(header));
    if (!session || session.state.p !== principalKey(principal) || session.state.n !== name) {
      return rpcError(answering, -32001, "Session not found: initialize again", 404);
    }
    return session.state;
  };

  const served = (session: SessionState, classified: Classified) => server
    ? serveSingle(call, { server, sessionId: session.u[name] ?? null, init: session.i ?? null }, classified)
    : serveVirtual(call, virtual!, virtualMembers(call, virtual!, session), classified);

  if (request.method === "POST") {
    if (message instanceof Response) return message;
    if (Array.isArray(message)) {
      if ((version ?? BATCH_VERSION) !== BATCH_VERSION) {
        return rpcError(null, RPC.invalidRequest, `Invalid Request: JSON-RPC batches exist only in protocol ${BATCH_VERSION}; with MCP-Protocol-Version ${version} send one message per request`, 400);
      }
      const session = await opened(null);
      if (session instanceof Response) return session;
      const answered = await serveBatch(message, idleMsOf(call), (classified) => served(session, classified));
      // One event for the whole batch (its items' own attributes were set in turn above).
      attributes["mcp.method.name"] = "batch";
      attributes["airlock.batch_size"] = message.length;
      return answered;
    }
    const classified = message!;
    if (classified.kind === "request") attributes["mcp.method.name"] = classified.message.method;
    const mismatch = headerMismatch(request.headers, classified, version);
    if (mismatch) return rpcError(id, RPC.headerMismatch, `Header mismatch: ${mismatch}`, 400);
    if (classified.kind === "request" && classified.message.method === "initialize") return initialize(call, name, classified);
    if (classified.kind === "request" && classified.message.method === "server/discover") return discover(call, server, virtual, classified.message.id, PROTOCOL_VERSIONS);
    if (version === STATELESS_VERSION && !request.headers.has(SESSION_HEADER)) return serveStateless(call, server, virtual, classified, id);
    const session = await opened(id);
    if (session instanceof Response) return session;
    return served(session, classified);
  }

  if (request.method === "GET" || request.method === "DELETE") {
    if (request.method === "GET" && !(request.headers.get("accept") ?? "").includes("text/event-stream")) {
      return rpcError(null, RPC.badRequest, "Not Acceptable: the GET stream is text/event-stream", 406);
    }
    const session = await opened(null);
    if (session instanceof Response) return session;
    // No standalone stream for a virtual server (several upstreams) or a legacy one (no session to listen on).
    if (request.method === "GET" && server?.transport !== "streamable_http") return new Response(null, { status: 405, headers: { allow: "POST, DELETE" } });
    const members = (server ? [{ server, sessionId: session.u[name] ?? null }] : virtualMembers(call, virtual!, session)).filter((m) => m.server.transport === "streamable_http");
    try {
      const answers = await Promise.all(members.map((m) => exchange(m.server, {
        method: request.method as "GET" | "DELETE", sessionId: m.sessionId, protocolVersion: version, accept: call.accept, lastEventId: call.lastEventId, timeoutMs: call.timeoutMs,
      })));
      if (request.method === "DELETE") {
        await Promise.all(answers.map((a) => a.body?.cancel()));
        return new Response(null, { status: answers.every((a) => a.status === 405) ? 405 : 200 });
      }
      const answer = answers[0]!;
      if (answer.status === 200) return new Response(answer.body, { status: 200, headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
      if (answer.status === 405) {
        await answer.body?.cancel();
        return new Response(null, { status: 405, headers: { allow: "POST, DELETE" } });
      }
      return await relay(call, name, null, answer);
    } catch (error) {
      return unavailable(null, name, error);
    }
  }
  return new Response(null, { status: 405, headers: { allow: "GET, POST, DELETE" } });
}

/** A POSTed body as one JSON-RPC message, a batch (an array, checked item by item later), or the JSON-RPC error that refuses it. */
async function parseMessage(env: Env, request: Request, attributes: McpAttributes): Promise<Classified | unknown[] | Response> {
  const type = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") return rpcError(null, RPC.invalidRequest, "Invalid Request: send JSON-RPC as application/json", 415);
  const text = await request.text();
  const limit = Number(env.MAX_MESSAGE_BYTES) || DEFAULT_MAX_MESSAGE_BYTES;
  attributes["airlock.request_bytes"] = text.length;
  if (text.length > limit) return rpcError(null, RPC.invalidRequest, `Invalid Request: the message is larger than ${limit} bytes`, 413);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return rpcError(null, RPC.parseError, "Parse error: the body is not valid JSON", 400);
  }
  if (Array.isArray(body)) return body as unknown[];
  const classified = classify(body);
  if (!classified) {
    const id = (body as { id?: unknown } | null)?.id;
    return rpcError(typeof id === "string" || typeof id === "number" ? id : null, RPC.invalidRequest, "Invalid Request: not a JSON-RPC 2.0 message", 400);
  }
  return classified;
}

/** A new session: the upstream(s) initialise, and their session ids are sealed into the client's. */
async function initialize(call: Call, name: string, classified: Classified & { kind: "request" }): Promise<Response> {
  const { id, params } = classified.message;
  const init = params && !Array.isArray(params) ? carriedInit(params) : undefined;
  if (init && JSON.stringify(init).length > MAX_CARRIED_INIT_CHARS) {
    return rpcError(id, RPC.invalidParams, `initialize: capabilities and clientInfo together may hold at most ${MAX_CARRIED_INIT_CHARS} characters of JSON`, 400);
  }
  const base = { p: principalKey(call.principal), n: name, ...(init ? { i: init } : {}) };
  const server = call.registry.servers.get(name);
  if (!server) {
    const virtual = call.registry.virtuals.get(name)!;
    const { response, sessions } = await initializeVirtual(call, virtual, classified.message);
    if (!sessions) return response;
    response.headers.set(SESSION_HEADER, await sealSession(call.env.MASTER_KEY, call.org.id, { ...base, u: sessions }));
    return response;
  }
  try {
    const upstream = await post(call, { server, sessionId: null }, classified.message);
    const upstreamSession = upstream.headers.get(SESSION_HEADER);
    const response = await relay(call, name, id, upstream);
    if (response.status !== 200) return response;
    const sealed = await sealSession(call.env.MASTER_KEY, call.org.id, { ...base, u: { [name]: upstreamSession } });
    response.headers.set(SESSION_HEADER, sealed);
    return response;
  } catch (error) {
    return unavailable(id, name, error);
  }
}
