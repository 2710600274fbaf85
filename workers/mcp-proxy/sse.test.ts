import { describe, expect, it } from "vitest";
import { mapSse, sseEvents, StreamStalled } from "./sse.ts";

/** A stream delivering the text as these byte chunks (cut anywhere, even inside a UTF-8 character). */
function chunked(text: string, cuts: number[]): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const edges = [0, ...cuts, bytes.length];
  return new ReadableStream({
    start(controller) {
      for (let i = 1; i < edges.length; i++) controller.enqueue(bytes.slice(edges[i - 1], edges[i]));
      controller.close();
    },
  });
}

const text = (stream: ReadableStream<Uint8Array>) => new Response(stream).text();

/** An upstream that sends `first` and then nothing; says whether it was cancelled. */
function silentUpstream(first: string) {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    start: (controller) => controller.enqueue(new TextEncoder().encode(first)),
    cancel: () => void (cancelled = true),
  });
  return { stream, cancelled: () => cancelled };
}

/** An upstream that sends `data: 1` … `data: 5`, one every 5 ms, then ends. */
function steadyUpstream(): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (sent++ === 5) controller.close();
      else controller.enqueue(new TextEncoder().encode(`data: ${sent}\n\n`));
    },
  });
}
const events = async (stream: ReadableStream<Uint8Array>) => {
  const out = [];
  for await (const event of sseEvents(stream)) out.push(event);
  return out;
};

describe("mapSse", () => {
  it("rewrites each message event's JSON-RPC payload and keeps id, retry and comments for resumption", async () => {
    const upstream = ': hi\nretry: 1000\n\nid: 7\nevent: message\ndata: {"jsonrpc":"2.0","id":1,"result":{"text":"café"}}\n\n';
    const bytes = new TextEncoder().encode(upstream).length;
    // Cut inside the first event, inside "é" (two bytes in UTF-8, after ASCII only) and between the last two newlines.
    const cuts = [5, upstream.indexOf("é") + 1, bytes - 1];
    const out = await text(mapSse(chunked(upstream, cuts), (m) => ({ ...(m as object), id: "tagged" })));
    expect(out).toBe(': hi\nretry: 1000\n\nid: 7\nevent: message\ndata: {"jsonrpc":"2.0","id":"tagged","result":{"text":"café"}}\n\n');
  });

  it("passes other events and data that is not JSON through unchanged", async () => {
    const upstream = "event: endpoint\ndata: /messages?s=1\n\nevent: message\ndata: not json\n\n";
    let calls = 0;
    const out = await text(mapSse(chunked(upstream, []), (m) => (calls++, m)));
    expect(out).toBe("event: endpoint\ndata: /messages?s=1\n\nevent: message\ndata: not json\n\n");
    expect(calls).toBe(0);
  });

  it("understands CRLF separators and a last event without its blank line", async () => {
    const upstream = 'data: {"a":1}\r\n\r\ndata: {"b":2}';
    const out = await text(mapSse(chunked(upstream, [3, 16]), (m) => ({ seen: m })));
    expect(out).toBe('data: {"seen":{"a":1}}\n\ndata: {"seen":{"b":2}}\n\n');
  });
});

describe("mapSse with an idle bound", () => {
  it("passes a message the map leaves alone as the upstream's own bytes", async () => {
    const upstream = 'id: 3\ndata:{"jsonrpc":"2.0","id":1,"result":{}}\r\n\r\n';
    expect(await text(mapSse(chunked(upstream, [9]), (m) => m, { ms: 1_000, onIdle: () => "cut" }))).toBe('id: 3\ndata:{"jsonrpc":"2.0","id":1,"result":{}}\n\n');
  });

  it("ends a stream whose upstream goes silent, with the last words after what was relayed, and cancels the upstream", async () => {
    const silent = silentUpstream('data: {"progress":1}\n\n');
    const out = await text(mapSse(silent.stream, (m) => ({ seen: m }), { ms: 20, onIdle: () => "data: bye\n\n" }));
    expect(out).toBe('data: {"seen":{"progress":1}}\n\ndata: bye\n\n');
    expect(silent.cancelled()).toBe(true);
  });

  it("never cuts off an upstream that keeps talking within the bound, nor a client slow to read", async () => {
    const steady = steadyUpstream();
    expect(await text(mapSse(steady, (m) => m, { ms: 50, onIdle: () => "cut" }))).toBe("data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\ndata: 5\n\n");

    const reader = mapSse(chunked("data: 1\n\ndata: 2\n\ndata: 3\n\n", [9, 18]), (m) => m, { ms: 20, onIdle: () => "cut" }).getReader();
    const parts = [new TextDecoder().decode((await reader.read()).value)];
    await new Promise((resolve) => setTimeout(resolve, 60));
    for (let next = await reader.read(); !next.done; next = await reader.read()) parts.push(new TextDecoder().decode(next.value));
    expect(parts.join("")).toBe("data: 1\n\ndata: 2\n\ndata: 3\n\n");
  });
});

describe("sseEvents", () => {
  it("joins multi-line data and names the event, message by default", async () => {
    const parsed = await events(chunked("data: one\ndata: two\n\nevent: ping\n\n", [4]));
    expect(parsed.map((e) => [e.event, e.data])).toEqual([["message", "one\ntwo"], ["ping", null]]);
  });
});

describe("sseEvents with an idle bound", () => {
  it("throws StreamStalled for an upstream gone silent, after the events it sent, and cancels it", async () => {
    const silent = silentUpstream("data: first\n\n");
    const seen: (string | null)[] = [];
    await expect((async () => { for await (const event of sseEvents(silent.stream, 20)) seen.push(event.data); })()).rejects.toThrow(new StreamStalled("sent nothing for 20 ms"));
    expect(seen).toEqual(["first"]);
    expect(silent.cancelled()).toBe(true);
  });

  it("never cuts off an upstream that keeps talking within the bound", async () => {
    const steady = steadyUpstream();
    const seen: (string | null)[] = [];
    for await (const event of sseEvents(steady, 50)) seen.push(event.data);
    expect(seen).toEqual(["1", "2", "3", "4", "5"]);
  });
});
