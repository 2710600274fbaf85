import { classify, errorMessage, jsonResponse, RPC, type Classified, type JsonRpcId } from "./jsonrpc.ts";
import { finalMessageOf, StreamStalled } from "./sse.ts";

/** Batches exist in protocol 2025-03-26 only (later versions removed them); no header means 2025-03-26. */
export const BATCH_VERSION = "2025-03-26";

const idOf = (value: unknown): JsonRpcId | null => {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === "string" || typeof id === "number" ? id : null;
};

/** The final JSON-RPC answer a served message produced (none for 202), read whole from JSON or SSE. */
async function answerOf(response: Response, id: JsonRpcId, idleMs: number): Promise<unknown> {
  if (response.status === 202 || !response.body) return undefined;
  if ((response.headers.get("content-type") ?? "").includes("text/event-stream")) {
    try {
      return (await finalMessageOf(response.body, id, idleMs)) ?? errorMessage(id, RPC.upstreamUnavailable, "The upstream closed its stream without answering");
    } catch (error) {
      if (error instanceof StreamStalled) return errorMessage(id, RPC.upstreamUnavailable, `The upstream ${error.message}`);
      throw error;
    }
  }
  return JSON.parse(await response.text()) as unknown;
}

/**
 * A JSON-RPC batch (2025-03-26): each message is served in turn exactly as if it had been
 * posted alone (policy, pins, inspection, events), and the answers to its requests come
 * back as one JSON array, or 202 when it held only notifications and responses. Streamed
 * answers are read to their final response: progress and server-to-client requests made
 * while answering a batched request are not relayed. `initialize` may not be batched.
 */
export async function serveBatch(items: unknown[], idleMs: number, serveOne: (message: Classified) => Promise<Response>): Promise<Response> {
  if (items.length === 0) return jsonResponse(errorMessage(null, RPC.invalidRequest, "Invalid Request: an empty batch"), 400);
  const answers: unknown[] = [];
  for (const item of items) {
    const classified = classify(item);
    if (!classified) {
      answers.push(errorMessage(idOf(item), RPC.invalidRequest, "Invalid Request: not a JSON-RPC 2.0 message"));
      continue;
    }
    if (classified.kind === "request" && classified.message.method === "initialize") {
      answers.push(errorMessage(classified.message.id, RPC.invalidRequest, "Invalid Request: initialize must not be part of a JSON-RPC batch"));
      continue;
    }
    const response = await serveOne(classified);
    // A lost session ends the whole batch: the client must initialise again.
    if (response.status === 404) return response;
    if (classified.kind !== "request") {
      await response.body?.cancel();
      continue;
    }
    const answer = await answerOf(response, classified.message.id, idleMs);
    if (answer !== undefined) answers.push(answer);
  }
  return answers.length > 0 ? jsonResponse(answers) : new Response(null, { status: 202 });
}
