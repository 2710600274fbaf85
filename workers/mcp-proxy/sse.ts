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

/** Reads an SSE stream until the JSON-RPC response with `id`; other messages are dropped (internal calls only). */
export async function finalMessageOf(body: ReadableStream<Uint8Array>, id: string | number): Promise<unknown> {
  for await (const event of sseEvents(body)) {
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
