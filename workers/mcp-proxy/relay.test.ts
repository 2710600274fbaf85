import { describe, expect, it } from "vitest";
import type { Call } from "./call.ts";
import { relay } from "./relay.ts";

/** What relay() reads of a call: the client's Accept, the idle bound, where attributes go, and what it leaves to finish after the answer. */
const callWith = (accept: string | null, idleMs = 1_000) => {
  const pending: Promise<unknown>[] = [];
  const call = { env: { UPSTREAM_IDLE_MS: String(idleMs) }, accept, timeoutMs: 1_000, attributes: {}, waitUntil: (p: Promise<unknown>) => pending.push(p) };
  return Object.assign(call as unknown as Call, { settled: () => Promise.all(pending) });
};

/** An upstream SSE answer that sends `events` and then, unless `hang`, ends (after `endAfterMs`, as over a network). */
function sseUpstream(events: string[], hang = false, endAfterMs = 0): Response & { wasCancelled(): boolean } {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const event of events) controller.enqueue(new TextEncoder().encode(event));
      if (hang) return;
      if (endAfterMs > 0) setTimeout(() => !cancelled && controller.close(), endAfterMs);
      else controller.close();
    },
    cancel: () => void (cancelled = true),
  });
  return Object.assign(new Response(body, { headers: { "content-type": "text/event-stream" } }), { wasCancelled: () => cancelled });
}

const answer = (id: number, text: string) => `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text }] } })}\n\n`;
const progress = `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 1 } })}\n\n`;

describe("relay of an upstream's SSE answer to a request", () => {
  it("gives a client that accepts JSON the answer as JSON when it is the stream's first message, past a priming event", async () => {
    const out = await relay(callWith("application/json, text/event-stream"), "s", 7, sseUpstream(["id: e1\ndata:\n\n", answer(7, "hi")], true));
    expect(out.headers.get("content-type")).toBe("application/json");
    expect(await out.json()).toEqual({ jsonrpc: "2.0", id: 7, result: { content: [{ type: "text", text: "hi" }] } });
  });

  it("reads an answered stream to its end after the answer instead of cancelling it; one that stays open is cancelled", async () => {
    const ends = sseUpstream([answer(7, "hi")], false, 20);
    const call = callWith("application/json");
    expect(await (await relay(call, "s", 7, ends)).json()).toMatchObject({ id: 7 });
    await call.settled();
    expect(ends.wasCancelled()).toBe(false);

    const hangs = sseUpstream([answer(7, "hi")], true);
    const quick = callWith("application/json", 30);
    await (await relay(quick, "s", 7, hangs)).json();
    await quick.settled();
    expect(hangs.wasCancelled()).toBe(true);
  });

  it("maps the answer it turns into JSON", async () => {
    const out = await relay(callWith(null), "s", 7, sseUpstream([answer(7, "hi")]), (m) => ({ ...(m as object), mapped: true }));
    expect(await out.json()).toMatchObject({ id: 7, mapped: true });
  });

  it("relays the whole stream when something comes before the answer, or the client takes only SSE", async () => {
    const withProgress = await relay(callWith("application/json, text/event-stream"), "s", 7, sseUpstream([progress, answer(7, "done")]));
    expect(withProgress.headers.get("content-type")).toBe("text/event-stream");
    expect(await withProgress.text()).toBe(progress + answer(7, "done"));
    const sseOnly = await relay(callWith("text/event-stream"), "s", 7, sseUpstream([answer(7, "hi")]));
    expect(sseOnly.headers.get("content-type")).toBe("text/event-stream");
    expect(await sseOnly.text()).toBe(answer(7, "hi"));
  });

  it("answers with a JSON-RPC error for the request when the upstream says nothing within the idle bound", async () => {
    const upstream = sseUpstream([": hello\n\n"], true);
    const call = callWith("application/json, text/event-stream", 30);
    const out = await relay(call, "quiet", 7, upstream);
    expect(await out.json()).toEqual({ jsonrpc: "2.0", id: 7, error: { code: -32002, message: "MCP server 'quiet' sent nothing for 30 ms; the gateway ended the stream" } });
    expect(call.attributes["airlock.reason"]).toBe("upstream_stalled");
    await call.settled();
    expect(upstream.wasCancelled()).toBe(true);
  });
});
