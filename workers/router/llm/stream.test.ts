import { describe, expect, it } from "vitest";
import { anthropic } from "../providers/anthropic.ts";
import { chatCompletions, responses } from "../providers/openai.ts";
import { tapStream } from "./stream.ts";

const encoder = new TextEncoder();

/** A provider body delivered in the given pieces (split anywhere, even mid-event), optionally failing after them. */
function body(pieces: string[], fail?: string) {
  const queue = [...pieces];
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = queue.shift();
      if (piece !== undefined) controller.enqueue(encoder.encode(piece));
      else if (fail) controller.error(new Error(fail));
      else controller.close();
    },
  });
}

const read = async (stream: ReadableStream<Uint8Array>) => new Response(stream).text();
const errorEvent = (message: string) => `data: {"error":"${message}"}\n\n`;

const chunk = (content: string) => `data: {"choices":[{"index":0,"delta":{"content":"${content}"}}],"model":"gpt-4o-mini-2024-07-18"}\n\n`;
const usageChunk = `data: {"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":3}}}\n\n`;

describe("tapStream", () => {
  it("passes events through unchanged, even split across reads, and reads usage and the model", async () => {
    const whole = chunk("Hel") + chunk("lo") + usageChunk + "data: [DONE]\n\n";
    const { stream, done } = tapStream(body([whole.slice(0, 17), whole.slice(17, 90), whole.slice(90)]), chatCompletions, { clientAskedUsage: true, errorEvent, idleMs: 1000 });
    expect(await read(stream)).toBe(whole);
    const end = await done;
    expect(end.state).toEqual({ complete: true, model: "gpt-4o-mini-2024-07-18", usage: { input: 11, output: 7, cached: 3 } });
    expect(end.cut).toBeUndefined();
  });

  it("drops OpenAI's usage-only chunk when the client did not ask for usage", async () => {
    const { stream, done } = tapStream(body([chunk("Hi"), usageChunk, "data: [DONE]\n\n"]), chatCompletions, { clientAskedUsage: false, errorEvent, idleMs: 1000 });
    expect(await read(stream)).toBe(chunk("Hi") + "data: [DONE]\n\n");
    expect((await done).state.usage).toEqual({ input: 11, output: 7, cached: 3 });
  });

  it("ends a stream the provider cut (an error, or no final event) with the provider's error event", async () => {
    const failed = tapStream(body([chunk("Hi")], "connection reset"), chatCompletions, { clientAskedUsage: false, errorEvent, idleMs: 1000 });
    expect(await read(failed.stream)).toBe(chunk("Hi") + errorEvent("Upstream stream interrupted: connection reset"));
    expect((await failed.done).cut).toBe("connection reset");
    const unfinished = tapStream(body([chunk("Hi")]), chatCompletions, { clientAskedUsage: false, errorEvent, idleMs: 1000 });
    expect(await read(unfinished.stream)).toContain("interrupted");
    expect((await unfinished.done).cut).toMatch(/before its final event/);
  });

  it("cuts a stream the provider leaves silent", async () => {
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(chunk("Hi")));
      },
    });
    const { stream, done } = tapStream(stalled, chatCompletions, { clientAskedUsage: false, errorEvent, idleMs: 50 });
    expect(await read(stream)).toBe(chunk("Hi") + errorEvent("Upstream stream interrupted: the provider sent nothing for 50 ms"));
    expect((await done).cut).toMatch(/sent nothing/);
  });

  it("reads Anthropic usage from message_start and the cumulative message_delta", async () => {
    const events = [
      `event: message_start\ndata: {"type":"message_start","message":{"model":"claude-sonnet-4-5","usage":{"input_tokens":8,"cache_read_input_tokens":3,"output_tokens":1}}}\n\n`,
      `event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":7}}\n\n`,
      `event: message_stop\ndata: {"type":"message_stop"}\n\n`,
    ];
    const { stream, done } = tapStream(body(events), anthropic.operations[0]!, { clientAskedUsage: false, errorEvent, idleMs: 1000 });
    expect(await read(stream)).toBe(events.join(""));
    expect((await done).state).toEqual({ complete: true, model: "claude-sonnet-4-5", usage: { input: 11, output: 7, cached: 3 } });
  });

  it("reads Responses usage from response.completed, and counts text for an estimate", async () => {
    const events = [
      `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"Hello there"}\n\n`,
      `event: response.completed\ndata: {"type":"response.completed","response":{"model":"gpt-4o","usage":{"input_tokens":5,"output_tokens":2}}}\n\n`,
    ];
    const tapped = tapStream(body(events), responses, { clientAskedUsage: false, errorEvent, idleMs: 1000 });
    await read(tapped.stream);
    const result = await tapped.done;
    expect(result.state.usage).toEqual({ input: 5, output: 2, cached: 0 });
    expect(result.outputChars).toBeGreaterThanOrEqual("Hello there".length);
  });
});
