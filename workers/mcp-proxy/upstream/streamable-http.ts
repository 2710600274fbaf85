import type { UpstreamServer } from "../registry.ts";
import { ConnectRequired } from "../upstream-oauth/connect.ts";

/** The upstream could not be reached, or did not answer with headers in time. */
export class UpstreamUnavailable extends Error {
  override readonly name = "UpstreamUnavailable";
}

export interface UpstreamRequest {
  method: "POST" | "GET" | "DELETE";
  body?: string;
  sessionId?: string | null;
  protocolVersion?: string | null;
  accept?: string | null;
  lastEventId?: string | null;
  timeoutMs: number;
}

/**
 * One HTTP exchange with a Streamable HTTP upstream. The client's credentials never go
 * upstream: only the server's own secret, when it has one. The timeout bounds the wait for
 * headers; a stream that has started may run as long as it needs. Redirects are not
 * followed (the URL passed the SSRF check, its redirect target did not).
 */
export async function exchange(server: UpstreamServer, request: UpstreamRequest): Promise<Response> {
  const headers = new Headers({ accept: request.accept ?? "application/json, text/event-stream" });
  if (request.body !== undefined) headers.set("content-type", "application/json");
  if (request.sessionId) headers.set("mcp-session-id", request.sessionId);
  if (request.protocolVersion) headers.set("mcp-protocol-version", request.protocolVersion);
  if (request.lastEventId) headers.set("last-event-id", request.lastEventId);
  if (server.secret) headers.set(server.secret.header, server.secret.value);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), request.timeoutMs);
  const send = () => fetch(server.url, { method: request.method, headers, body: request.body, redirect: "manual", signal: controller.signal });
  try {
    const response = await send();
    if (response.status !== 401 || !server.reauthorize) return response;
    // The user's upstream token was refused: refresh it once and retry (ConnectRequired when it cannot be).
    await response.body?.cancel();
    const fresh = await server.reauthorize();
    headers.set(fresh.header, fresh.value);
    return await send();
  } catch (error) {
    if (error instanceof ConnectRequired) throw error;
    throw new UpstreamUnavailable(controller.signal.aborted ? `did not answer within ${request.timeoutMs} ms` : `could not be reached (${error instanceof Error ? error.message : String(error)})`);
  } finally {
    clearTimeout(timer);
  }
}
