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

/** Splits a byte stream into SSE events, as they arrive. */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: RegExpExecArray | null;
      while ((end = /\r\n\r\n|\n\n|\r\r/.exec(buffer))) {
        const block = buffer.slice(0, end.index);
        buffer = buffer.slice(end.index + end[0].length);
        if (block !== "") yield parseEvent(block);
      }
    }
    if (buffer.trim() !== "") yield parseEvent(buffer);
  } finally {
    reader.releaseLock();
  }
}

/**
 * Rewrites the JSON-RPC messages of an SSE stream: `map` returns the message to send on
 * (the same object, a changed one) for each `message` event; unparseable data passes as is.
 * Events are cut from the bytes as they arrive; only `map` may wait.
 */
export function mapSse(body: ReadableStream<Uint8Array>, map: (message: unknown) => Promise<unknown> | unknown): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  let buffer = "";
  const emit = async (block: string, controller: TransformStreamDefaultController<Uint8Array>) => {
    const event = parseEvent(block);
    if (event.event === "message" && event.data !== null) {
      let message: unknown;
      try {
        message = JSON.parse(event.data);
      } catch {
        controller.enqueue(encoder.encode(serialize(event)));
        return;
      }
      controller.enqueue(encoder.encode(serialize({ ...event, data: JSON.stringify(await map(message)) })));
    } else controller.enqueue(encoder.encode(serialize(event)));
  };
  const drain = async (controller: TransformStreamDefaultController<Uint8Array>) => {
    let end: RegExpExecArray | null;
    while ((end = /\r\n\r\n|\n\n|\r\r/.exec(buffer))) {
      const block = buffer.slice(0, end.index);
      buffer = buffer.slice(end.index + end[0].length);
      if (block !== "") await emit(block, controller);
    }
  };
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        buffer += decoder.decode(chunk, { stream: true });
        await drain(controller);
      },
      async flush(controller) {
        buffer += decoder.decode();
        await drain(controller);
        if (buffer.trim() !== "") await emit(buffer, controller);
      },
    }),
  );
}

/**
 * Ends a stream whose upstream has sent nothing for `idleMs`: `onIdle` gives the last bytes
 * to send (or none), then the upstream is cancelled. The clock runs only while the client
 * waits for more, so a slow reader is never cut off, and a stalled upstream never holds it.
 */
export function idleGuard(body: ReadableStream<Uint8Array>, idleMs: number, onIdle: () => string | null): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const idle = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), idleMs);
      });
      const next = await Promise.race([reader.read(), idle]).finally(() => timer !== null && clearTimeout(timer));
      if (next === null) {
        const last = onIdle();
        if (last !== null) controller.enqueue(encoder.encode(last));
        controller.close();
        reader.cancel().catch(() => undefined);
        return;
      }
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

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
  let stalled = false;
  const guarded = idleGuard(body, idleMs, () => {
    stalled = true;
    return null;
  });
  for await (const event of sseEvents(guarded)) {
    if (event.event !== "message" || event.data === null) continue;
    try {
      const message = JSON.parse(event.data) as { id?: unknown; method?: unknown };
      if (message.id === id && message.method === undefined) return message;
    } catch {
      // not JSON-RPC; keep reading
    }
  }
  if (stalled) throw new StreamStalled(`sent nothing for ${idleMs} ms`);
  return null;
}
