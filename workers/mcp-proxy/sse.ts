import { idleReader } from "../../shared/idle-reader.ts";

/**
 * Server-Sent Events as Streamable HTTP carries JSON-RPC: events are parsed as they
 * arrive (never buffered whole), each `message` event's JSON-RPC payload may be replaced,
 * and every other field (`id`, `retry`, comments) passes through, so resumption with
 * `Last-Event-ID` keeps working through the gateway.
 */
export interface SseEvent {
  /** Raw field lines other than `data:` (id, event, retry, comments), in order. */
  fields: string[];
  event: string;
  data: string | null;
}

const encoder = new TextEncoder();

function parseEvent(block: string): SseEvent {
  const fields: string[] = [];
  const data: string[] = [];
  let event = "message";
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
    else {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      fields.push(line);
    }
  }
  return { fields, event, data: data.length > 0 ? data.join("\n") : null };
}

const serialize = (event: SseEvent) =>
  [...event.fields, ...(event.data === null ? [] : event.data.split("\n").map((line) => `data: ${line}`))].join("\n") + "\n\n";

/** The whole event blocks at the start of `buffer` (empty ones left out), and the tail still waiting for its blank line. */
function cutBlocks(buffer: string): { blocks: string[]; tail: string } {
  const blocks: string[] = [];
  let end: RegExpExecArray | null;
  while ((end = /\r\n\r\n|\n\n|\r\r/.exec(buffer))) {
    if (end.index > 0) blocks.push(buffer.slice(0, end.index));
    buffer = buffer.slice(end.index + end[0].length);
  }
  return { blocks, tail: buffer };
}

/**
 * Splits a byte stream into SSE events, as they arrive. With `idleMs`, an upstream that sends
 * nothing for that long is cancelled and the iteration throws StreamStalled.
 */
export async function* sseEvents(body: ReadableStream<Uint8Array>, idleMs?: number): AsyncGenerator<SseEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const bounded = idleMs === undefined ? null : idleReader(reader, idleMs);
  let buffer = "";
  try {
    for (;;) {
      const next = bounded ? await bounded.read() : await reader.read();
      // The watch cancelled the silent upstream.
      if (next === null) throw new StreamStalled(`sent nothing for ${idleMs} ms`);
      if (next.done) break;
      const { blocks, tail } = cutBlocks(buffer + next.value);
      buffer = tail;
      for (const block of blocks) yield parseEvent(block);
    }
    if (buffer.trim() !== "") yield parseEvent(buffer);
  } finally {
    bounded?.stop();
    reader.releaseLock();
  }
}

/** An upstream silent this long while the client waits for more ends the stream with `onIdle()`'s last bytes (or none). */
export interface IdleBound {
  ms: number;
  onIdle: () => string | null;
}

/**
 * Relays an upstream SSE stream to the client in one pass: events are cut from the bytes as
 * they arrive, each `message` event's JSON-RPC payload goes through `map` (re-serialized only
 * when `map` returns another object; otherwise the upstream's bytes pass as they came), and
 * with `idle` a silent upstream is cut. One stream stage, not a chain: each stage between the
 * upstream and the client costs every request about 0.1 ms in workerd. The idle clock runs
 * only while the client waits for more (in `pull`), so a slow reader is never cut off.
 */
export function mapSse(body: ReadableStream<Uint8Array>, map: (message: unknown) => Promise<unknown> | unknown, idle?: IdleBound): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const bounded = idle ? idleReader(reader, idle.ms) : null;
  const decoder = new TextDecoder();
  let buffer = "";
  const relayed = async (block: string): Promise<string> => {
    const event = parseEvent(block);
    if (event.event !== "message" || event.data === null) return `${block}\n\n`;
    let message: unknown;
    try {
      message = JSON.parse(event.data);
    } catch {
      return `${block}\n\n`;
    }
    const mapped = await map(message);
    return mapped === message ? `${block}\n\n` : serialize({ ...event, data: JSON.stringify(mapped) });
  };
  /** Every whole event in the buffer, relayed; the tail waits for its boundary. */
  const drain = async () => {
    const { blocks, tail } = cutBlocks(buffer);
    buffer = tail;
    let out = "";
    for (const block of blocks) out += await relayed(block);
    return out;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Read until something goes out: a pull that enqueues nothing is not called again.
      for (;;) {
        const next = bounded ? await bounded.read() : await reader.read();
        // The watch cancelled the silent upstream.
        if (next === null) {
          const last = idle!.onIdle();
          if (last !== null) controller.enqueue(encoder.encode(last));
          controller.close();
          return;
        }
        if (next.done) {
          bounded?.stop();
          buffer += decoder.decode();
          let out = await drain();
          if (buffer.trim() !== "") out += await relayed(buffer);
          if (out) controller.enqueue(encoder.encode(out));
          controller.close();
          return;
        }
        buffer += decoder.decode(next.value, { stream: true });
        const out = await drain();
        if (out) return controller.enqueue(encoder.encode(out));
      }
    },
    cancel: (reason) => {
      bounded?.stop();
      return reader.cancel(reason);
    },
  });
}

export interface Peeked {
  /** The first JSON-RPC message; undefined when the stream ended or stalled before one came. */
  message?: unknown;
  stalled: boolean;
  /** The stream as it came, every byte read so far included, for a caller that relays it after all. */
  rest(): ReadableStream<Uint8Array>;
  /**
   * For a caller done with the stream, off the answer's path (waitUntil): reads it to its end
   * within the idle bound (an upstream closes an answer's stream once it has answered) and
   * cancels it only if it goes on talking or falls silent. No stream is built for the rest.
   */
  finish(): Promise<void>;
}

/**
 * Reads an SSE stream up to its first JSON-RPC message, past comments and events without
 * data (a 2025-11-25 server primes resumption with an id and empty data first).
 */
export async function peekMessage(body: ReadableStream<Uint8Array>, idleMs: number): Promise<Peeked> {
  const reader = body.getReader();
  const bounded = idleReader(reader, idleMs);
  const decoder = new TextDecoder();
  const seen: Uint8Array[] = [];
  let buffer = "";
  let message: unknown;
  let stalled = false;
  let done = false;
  for (let found = false; !found; ) {
    const next = await bounded.read();
    if (next === null || next.done) {
      stalled = next === null;
      done = next !== null;
      break;
    }
    seen.push(next.value);
    const { blocks, tail } = cutBlocks(buffer + decoder.decode(next.value, { stream: true }));
    buffer = tail;
    const event = blocks.map(parseEvent).find((e) => e.event === "message" && e.data !== null && e.data !== "");
    if (!event?.data) continue;
    found = true;
    try {
      message = JSON.parse(event.data);
    } catch {
      message = event.data;
    }
  }
  const rest = () => {
    // The caller bounds the rest as it relays it.
    bounded.stop();
    return new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of seen) controller.enqueue(chunk);
      },
      async pull(controller) {
        const next = await reader.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
  };
  const finish = async () => {
    try {
      for (let read = 0; !done && !stalled && read < MAX_FINISH_READS; read++) {
        const next = await bounded.read();
        stalled = next === null;
        done = next?.done === true;
      }
    } catch {
      // A stream that fails while draining is as finished as one that ends.
    }
    bounded.stop();
    if (!done) await reader.cancel().catch(() => undefined);
  };
  return { message, stalled, rest, finish };
}

/** Reads a caller drains after the answer before giving up on the stream's end (an upstream that keeps talking). */
const MAX_FINISH_READS = 16;

/** One JSON-RPC message as an SSE `message` event. */
export const sseMessage = (message: unknown) => `event: message\ndata: ${JSON.stringify(message)}\n\n`;

/** The upstream went quiet for longer than the idle bound (internal reads). */
export class StreamStalled extends Error {
  override readonly name = "StreamStalled";
}

/**
 * Reads an SSE stream until the JSON-RPC response with `id`; other messages are dropped
 * (internal calls and batches). An upstream silent for `idleMs` throws StreamStalled.
 */
export async function finalMessageOf(body: ReadableStream<Uint8Array>, id: string | number, idleMs: number): Promise<unknown> {
  for await (const event of sseEvents(body, idleMs)) {
    if (event.event !== "message" || event.data === null) continue;
    try {
      const message = JSON.parse(event.data) as { id?: unknown; method?: unknown };
      if (message.id === id && message.method === undefined) return message;
    } catch {
      // not JSON-RPC; keep reading
    }
  }
  return null;
}
