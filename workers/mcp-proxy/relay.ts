import type { Call } from "./call.ts";
import { classify, errorMessage, rpcError, RPC, type JsonRpcId } from "./jsonrpc.ts";
import type { UpstreamServer } from "./registry.ts";
import { finalMessageOf, mapSse, peekMessage, sseMessage, StreamStalled } from "./sse.ts";
import { legacyExchange, type InitializeParams } from "./upstream/sse.ts";
import { exchange, UpstreamUnavailable } from "./upstream/streamable-http.ts";
import { ConnectRequired, connectRequiredError } from "./upstream-oauth/connect.ts";

/** An upstream server and this client session's id on it. */
export interface Member {
  server: UpstreamServer;
  sessionId: string | null;
  /** The client's initialize params, replayed to a legacy HTTP+SSE upstream on every request. */
  init?: InitializeParams | null;
}

export type MessageMap = (message: unknown) => Promise<unknown> | unknown;

/** POSTs one JSON-RPC message upstream, timing it for the event. */
export async function post(call: Call, member: Member, message: unknown): Promise<Response> {
  const started = performance.now();
  try {
    if (member.server.transport === "sse") return await legacyExchange(member.server, message as { id?: unknown; method?: string }, member.init ?? null, call.timeoutMs);
    return await exchange(member.server, {
      method: "POST", body: JSON.stringify(message), sessionId: member.sessionId, protocolVersion: call.protocolVersion,
      accept: call.accept, timeoutMs: call.timeoutMs,
    });
  } finally {
    call.attributes["airlock.upstream_ms"] = Math.round((performance.now() - started) * 1000) / 1000;
  }
}

/** A failure on the way upstream, as the client's JSON-RPC error (a lost upstream session is 404: initialize again). */
export function unavailable(id: JsonRpcId | null, server: string, error: unknown): Response {
  if (error instanceof ConnectRequired) return connectRequiredError(id, server, error.connectUrl);
  if (error instanceof SessionGone) return rpcError(id, -32001, `Session not found: MCP server '${server}' ended it; initialize again`, 404);
  if (error instanceof UpstreamUnavailable) return rpcError(id, RPC.upstreamUnavailable, `MCP server '${server}' ${error.message}`, 502);
  console.error(JSON.stringify({ level: "error", worker: "mcp-proxy", server, error: error instanceof Error ? error.message : String(error) }));
  return rpcError(id, RPC.internalError, `The gateway failed while serving MCP server '${server}'`, 500);
}

/**
 * The upstream's answer to a client request, in the client's protocol: JSON or SSE as the
 * upstream chose, each JSON-RPC message passed through `map`. An upstream 404 means its
 * session is gone: the client gets 404 and re-initialises. Anything that is not JSON-RPC
 * becomes a JSON-RPC error naming the server; the client never hangs on it.
 */
export async function relay(call: Call, server: string, id: JsonRpcId | null, upstream: Response, map?: MessageMap): Promise<Response> {
  if (upstream.status === 404) {
    await upstream.body?.cancel();
    return rpcError(id, -32001, `Session not found: MCP server '${server}' ended it; initialize again`, 404);
  }
  if (upstream.status === 202) {
    await upstream.body?.cancel();
    return new Response(null, { status: 202 });
  }
  const type = upstream.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "";
  if (upstream.status === 200 && type === "text/event-stream" && upstream.body) {
    if (id !== null) return answerOf(call, server, id, upstream.body, map);
    return sseResponse(map ? mapSse(upstream.body, map) : upstream.body);
  }
  const text = await bodyText(upstream, call.timeoutMs);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const message = parsed === undefined ? null : classify(parsed);
  if (upstream.status === 401 || upstream.status === 403) {
    return rpcError(id, RPC.upstreamUnavailable, `MCP server '${server}' refused the gateway's credentials (HTTP ${upstream.status}); an admin must fix the server's secret`, 502);
  }
  if (upstream.status >= 500) return rpcError(id, RPC.upstreamUnavailable, `MCP server '${server}' is unavailable (HTTP ${upstream.status})`, 502);
  if (!message || (upstream.status === 200 && message.kind !== "response")) {
    return rpcError(id, RPC.internalError, `MCP server '${server}' answered with something that is not JSON-RPC`, 502);
  }
  const out = map && upstream.status === 200 ? await map(message.message) : message.message;
  const body = JSON.stringify(out);
  call.attributes["airlock.response_bytes"] = body.length;
  return new Response(body, { status: upstream.status, headers: { "content-type": "application/json" } });
}

const DEFAULT_IDLE_MS = 60_000;
/** How long an upstream stream answering a request may stay silent (`UPSTREAM_IDLE_MS`). */
export const idleMsOf = (call: Call) => Number(call.env.UPSTREAM_IDLE_MS) || DEFAULT_IDLE_MS;

const sseResponse = (body: ReadableStream<Uint8Array>) => new Response(body, { status: 200, headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
const jsonAnswer = (call: Call, message: unknown) => {
  const body = JSON.stringify(message);
  call.attributes["airlock.response_bytes"] = body.length;
  return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
};

/**
 * The upstream's SSE answer to request `id`. When its first message is the answer itself
 * (nothing to report on the way: no progress, no request to the client), the stream has done
 * its work and the client gets that answer as JSON. A POST may be answered either way
 * (Streamable HTTP), and a JSON body crosses the gateway far faster than a relayed stream.
 * Otherwise the stream is relayed as it came, under the idle bound.
 */
async function answerOf(call: Call, server: string, id: JsonRpcId, body: ReadableStream<Uint8Array>, map?: MessageMap): Promise<Response> {
  const idleMs = idleMsOf(call);
  const peeked = await peekMessage(body, idleMs);
  const first = peeked.message as { id?: unknown; method?: unknown } | undefined;
  const takesJson = call.accept === null || /application\/json|\*\/\*/.test(call.accept);
  if (takesJson && first && typeof first === "object" && first.id === id && first.method === undefined) {
    call.waitUntil(peeked.finish());
    return jsonAnswer(call, map ? await map(first) : first);
  }
  if (peeked.stalled) {
    call.waitUntil(peeked.finish());
    call.attributes["airlock.reason"] = "upstream_stalled";
    return rpcError(id, RPC.upstreamUnavailable, `MCP server '${server}' sent nothing for ${idleMs} ms; the gateway ended the stream`);
  }
  return sseResponse(answeredOrIdle(call, server, id, peeked.rest(), map));
}

/**
 * The SSE answer to request `id`: an upstream that goes silent before answering gets the
 * client a JSON-RPC error for `id` and the stream closes; one silent after answering is
 * simply closed. (GET notification streams are not passed here: they may idle for hours.)
 */
function answeredOrIdle(call: Call, server: string, id: JsonRpcId, body: ReadableStream<Uint8Array>, map?: MessageMap): ReadableStream<Uint8Array> {
  const idleMs = idleMsOf(call);
  let answered = false;
  return mapSse(body, (message) => {
    const m = message as { id?: unknown; method?: unknown } | null;
    if (m && m.id === id && m.method === undefined) answered = true;
    return map ? map(message) : message;
  }, {
    ms: idleMs,
    onIdle: () => {
      if (answered) return null;
      call.attributes["airlock.reason"] = "upstream_stalled";
      return sseMessage(errorMessage(id, RPC.upstreamUnavailable, `MCP server '${server}' sent nothing for ${idleMs} ms; the gateway ended the stream`));
    },
  });
}

/** A whole (non-stream) body, within the timeout: an upstream that stalls after its headers does not hold the client. */
async function bodyText(upstream: Response, timeoutMs: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UpstreamUnavailable(`stopped answering for ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([upstream.text(), stalled]);
  } catch (error) {
    upstream.body?.cancel().catch(() => undefined);
    throw error;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** For the gateway's own use (listing, fan-out): the final JSON-RPC response to `id`, from JSON or SSE. */
export async function finalOf(server: string, id: JsonRpcId, upstream: Response, timeoutMs: number): Promise<{ result?: Record<string, unknown>; error?: { code: number; message: string } }> {
  if (upstream.status === 404) {
    await upstream.body?.cancel();
    throw new SessionGone(server);
  }
  const type = upstream.headers.get("content-type") ?? "";
  const message = type.includes("text/event-stream") && upstream.body
    ? await finalMessageOf(upstream.body, id, timeoutMs).catch((error: unknown) => {
        throw error instanceof StreamStalled ? new UpstreamUnavailable(error.message) : error;
      })
    : await bodyText(upstream, timeoutMs).then((text) => JSON.parse(text) as unknown).catch((error: unknown) => {
        if (error instanceof UpstreamUnavailable) throw error;
        return null;
      });
  const classified = classify(message);
  if (upstream.status !== 200 || classified?.kind !== "response") throw new UpstreamUnavailable(`answered HTTP ${upstream.status} without a JSON-RPC response`);
  return classified.message as { result?: Record<string, unknown>; error?: { code: number; message: string } };
}

export class SessionGone extends Error {
  override readonly name = "SessionGone";
}

