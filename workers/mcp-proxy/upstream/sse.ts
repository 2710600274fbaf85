import type { UpstreamServer } from "../registry.ts";
import { sseEvents } from "../sse.ts";
import { UpstreamUnavailable } from "./streamable-http.ts";

/** The client's `initialize` params, kept in the sealed session to replay to a legacy upstream. */
export type InitializeParams = Record<string, unknown>;

const encoder = new TextEncoder();
let handshakes = 0;

/**
 * One client message to a legacy HTTP+SSE upstream (2024-11-05 transport), without sticky
 * state: open its event stream, learn the POST endpoint from the `endpoint` event (same
 * origin only), replay the client's `initialize` (unless this is it), post the message,
 * and answer as Streamable HTTP does: 202 for a notification or response, else an SSE
 * stream of what the upstream sends until the answer to this request, then the upstream
 * stream is closed. Server-to-client requests are relayed, but the client's answers to them
 * cannot reach that closed stream: sampling and elicitation do not work over legacy upstreams.
 */
export async function legacyExchange(server: UpstreamServer, message: { id?: unknown; method?: string }, init: InitializeParams | null, timeoutMs: number): Promise<Response> {
  const secret: Record<string, string> = server.secret ? { [server.secret.header]: server.secret.value } : {};
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const fail = (why: string) => {
    controller.abort();
    return new UpstreamUnavailable(why);
  };
  try {
    let stream: Response;
    try {
      stream = await fetch(server.url, { headers: { accept: "text/event-stream", ...secret }, redirect: "manual", signal: controller.signal });
    } catch (error) {
      throw fail(controller.signal.aborted ? `did not answer within ${timeoutMs} ms` : `could not be reached (${error instanceof Error ? error.message : String(error)})`);
    }
    if (stream.status !== 200 || !stream.body) throw fail(`answered HTTP ${stream.status} to its event stream`);
    const events = sseEvents(stream.body);
    const next = async () => {
      const { value, done } = await events.next();
      if (done) throw fail("closed its event stream");
      return value;
    };
    let event = await next();
    while (event.event !== "endpoint") event = await next();
    const endpoint = new URL(event.data ?? "", server.url);
    if (endpoint.origin !== new URL(server.url).origin) throw fail("named a message endpoint on another origin");
    const send = async (body: unknown) => {
      const answer = await fetch(endpoint, { method: "POST", headers: { "content-type": "application/json", ...secret }, body: JSON.stringify(body), redirect: "manual", signal: controller.signal });
      await answer.body?.cancel();
      if (answer.status >= 300) throw fail(`refused a message (HTTP ${answer.status})`);
    };
    const answerTo = async (id: unknown) => {
      for (;;) {
        const e = await next();
        if (e.event !== "message" || e.data === null) continue;
        const m = JSON.parse(e.data) as { id?: unknown; method?: unknown };
        if (m.id === id && m.method === undefined) return m;
      }
    };
    if (message.method !== "initialize" && init) {
      const id = `airlock-legacy-${Date.now().toString(36)}-${(handshakes++).toString(36)}`;
      await send({ jsonrpc: "2.0", id, method: "initialize", params: init });
      await answerTo(id);
      await send({ jsonrpc: "2.0", method: "notifications/initialized" });
    }
    clearTimeout(timer);
    await send(message);
    if (message.method === undefined || message.id === undefined) {
      controller.abort();
      return new Response(null, { status: 202 });
    }
    const body = new ReadableStream<Uint8Array>({
      async pull(out) {
        const { value, done } = await events.next().catch(() => ({ value: undefined, done: true as const }));
        if (done || !value) return out.close();
        if (value.event !== "message" || value.data === null) return;
        out.enqueue(encoder.encode(`event: message\ndata: ${value.data}\n\n`));
        try {
          const m = JSON.parse(value.data) as { id?: unknown; method?: unknown };
          if (m.id === message.id && m.method === undefined) {
            out.close();
            controller.abort();
          }
        } catch {
          // not JSON-RPC: relayed as is
        }
      },
      cancel: () => controller.abort(),
    });
    return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
  } finally {
    clearTimeout(timer);
  }
}
