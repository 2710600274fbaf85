import { describe, expect, it } from "vitest";
import { serveBatch } from "./batch.ts";
import { jsonResponse, rpcError, RPC, type Classified } from "./jsonrpc.ts";
import { sseMessage } from "./sse.ts";

const request = (id: number | string, method = "tools/list") => ({ jsonrpc: "2.0", id, method });
const notification = (method = "notifications/initialized") => ({ jsonrpc: "2.0", method });

/** Serves each message the way a plain upstream would: requests answered as JSON, the rest accepted. */
function recorder(answer: (message: Classified) => Response = (m) =>
  m.kind === "request" ? jsonResponse({ jsonrpc: "2.0", id: m.message.id, result: { method: m.message.method } }) : new Response(null, { status: 202 })) {
  const served: Classified[] = [];
  return { served, serveOne: async (message: Classified) => (served.push(message), answer(message)) };
}

const sse = (...chunks: string[]) =>
  new Response(new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  }), { headers: { "content-type": "text/event-stream" } });

describe("JSON-RPC batches", () => {
  it("serves each message in turn and answers its requests in one array, in order", async () => {
    const { served, serveOne } = recorder();
    const response = await serveBatch([request(1), notification(), request("b", "prompts/list")], 1000, serveOne);
    expect(response.status).toBe(200);
    expect(served.map((m) => m.kind)).toEqual(["request", "notification", "request"]);
    expect(await response.json()).toEqual([
      { jsonrpc: "2.0", id: 1, result: { method: "tools/list" } },
      { jsonrpc: "2.0", id: "b", result: { method: "prompts/list" } },
    ]);
  });

  it("answers 202 with no body when the batch holds only notifications and responses", async () => {
    const { served, serveOne } = recorder();
    const response = await serveBatch([notification(), { jsonrpc: "2.0", id: 9, result: {} }], 1000, serveOne);
    expect(response.status).toBe(202);
    expect(await response.text()).toBe("");
    expect(served).toHaveLength(2);
  });

  it("refuses an empty batch with Invalid Request", async () => {
    const response = await serveBatch([], 1000, recorder().serveOne);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ id: null, error: { code: RPC.invalidRequest } });
  });

  it("answers invalid members and a batched initialize with errors, and serves the rest", async () => {
    const { served, serveOne } = recorder();
    const response = await serveBatch([{ jsonrpc: "1.0", id: 5, method: "x" }, 42, request(6, "initialize"), request(7)], 1000, serveOne);
    const answers = (await response.json()) as { id: unknown; error?: { code: number; message: string }; result?: unknown }[];
    expect(answers.map((a) => [a.id, a.error?.code ?? "ok"])).toEqual([[5, -32600], [null, -32600], [6, -32600], [7, "ok"]]);
    expect(answers[2]!.error!.message).toMatch(/initialize/);
    expect(served.map((m) => m.kind === "request" && m.message.id)).toEqual([7]);
  });

  it("ends the whole batch when the session is gone", async () => {
    const { served, serveOne } = recorder(() => rpcError(null, RPC.serverNotFound, "Session not found: initialize again", 404));
    const response = await serveBatch([request(1), request(2)], 1000, serveOne);
    expect(response.status).toBe(404);
    expect(served).toHaveLength(1);
  });

  it("reads a streamed answer to its final response, dropping progress and other ids", async () => {
    const progress = { jsonrpc: "2.0", method: "notifications/progress", params: { progress: 1 } };
    const { serveOne } = recorder(() => sse(sseMessage(progress), sseMessage({ jsonrpc: "2.0", id: 99, result: {} }), "event: message\ndata: ", '{"jsonrpc":"2.0","id":1,"result":{"done":true}}\n\n'));
    const response = await serveBatch([request(1)], 1000, serveOne);
    expect(await response.json()).toEqual([{ jsonrpc: "2.0", id: 1, result: { done: true } }]);
  });

  it("answers upstream-unavailable for a stream that closes unanswered or goes silent", async () => {
    const closes = recorder(() => sse(sseMessage({ jsonrpc: "2.0", method: "notifications/message", params: {} })));
    expect(await (await serveBatch([request(1)], 1000, closes.serveOne)).json()).toMatchObject([{ id: 1, error: { code: RPC.upstreamUnavailable } }]);

    const silent = recorder(() => new Response(new ReadableStream({ pull: () => new Promise(() => undefined) }), { headers: { "content-type": "text/event-stream" } }));
    const answers = (await (await serveBatch([request(2)], 20, silent.serveOne)).json()) as { error: { code: number; message: string } }[];
    expect(answers).toMatchObject([{ id: 2, error: { code: RPC.upstreamUnavailable } }]);
    expect(answers[0]!.error.message).toMatch(/sent nothing for 20 ms/);
  });
});
