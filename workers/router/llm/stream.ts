import type { Operation, StreamState } from "../providers/index.ts";
import { textChars } from "./usage.ts";

export interface StreamEnd {
  state: StreamState;
  /** Set when the upstream cut the stream (it errored, stalled, or ended without its closing event). */
  cut?: string;
  /** Set when the reader went away first (the client, or the guardrail ending a blocked answer). */
  cancelled?: boolean;
  /** performance.now() when the first byte went to the client. */
  firstByteAt?: number;
  /** Characters of answer text seen, for an estimate when the provider reports no usage. */
  outputChars: number;
}

const encoder = new TextEncoder();
const BOUNDARY = /\r?\n\r?\n/;

/** The event name and joined data lines of one SSE event block. */
function parseEvent(block: string): { event?: string; data: string } | undefined {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
    else if (line.startsWith("event:")) event = line.slice(6).trim();
  }
  return data.length ? { event, data: data.join("\n") } : undefined;
}

/**
 * Passes a provider's SSE stream through event by event (nothing waits for more than the
 * event it is in), reading usage and the answering model as they pass and dropping the
 * events the operation says the client must not see. A stream the upstream cuts (or leaves
 * silent for `idleMs`) ends with the provider's own error event, never a clean end. `done`
 * resolves when it ends.
 */
export function tapStream(
  body: ReadableStream<Uint8Array>,
  operation: Operation,
  options: { clientAskedUsage: boolean; errorEvent: (message: string) => string; idleMs: number },
): { stream: ReadableStream<Uint8Array>; done: Promise<StreamEnd> } {
  const state: StreamState = { complete: false };
  const decoder = new TextDecoder();
  let pending = "";
  let resolve!: (end: StreamEnd) => void;
  const done = new Promise<StreamEnd>((r) => (resolve = r));
  let firstByteAt: number | undefined;
  let outputChars = 0;
  const read = (event: { event?: string; data: string }) => {
    const verdict = operation.onEvent?.(event.event, event.data, state, options);
    if (verdict !== "drop" && event.data.startsWith("{")) {
      try {
        outputChars += textChars(JSON.parse(event.data));
      } catch {
        // Not JSON: counts nothing.
      }
    }
    return verdict;
  };
  const reader = body.getReader();
  const upstream = idleReader(reader, options.idleMs);

  const emit = (controller: ReadableStreamDefaultController<Uint8Array>, text: string) => {
    if (!text) return false;
    firstByteAt ??= performance.now();
    controller.enqueue(encoder.encode(text));
    return true;
  };

  /** Whole events out of `pending`; the tail waits for its boundary. */
  const drain = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    let out = "";
    for (let match = BOUNDARY.exec(pending); match; match = BOUNDARY.exec(pending)) {
      const block = pending.slice(0, match.index + match[0].length);
      pending = pending.slice(block.length);
      const event = parseEvent(block);
      const verdict = event ? read(event) : undefined;
      if (verdict !== "drop") out += block;
    }
    return emit(controller, out);
  };

  const finish = (controller: ReadableStreamDefaultController<Uint8Array>, cut?: string) => {
    if (pending.trim()) {
      // A last event without its blank line: read it, and pass it on terminated.
      const event = parseEvent(pending);
      const verdict = event ? read(event) : undefined;
      if (verdict !== "drop") emit(controller, pending.replace(/\s*$/, "\n\n"));
      pending = "";
    }
    const reason = cut ?? (state.complete ? undefined : "the provider ended the stream before its final event");
    if (reason) emit(controller, options.errorEvent(`Upstream stream interrupted: ${reason}`));
    controller.close();
    upstream.stop();
    resolve({ state, outputChars, ...(reason ? { cut: reason } : {}), ...(firstByteAt !== undefined ? { firstByteAt } : {}) });
  };

  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        // Read until something goes out: a pull that enqueues nothing is not called again.
        for (;;) {
          const { done: ended, value } = await upstream.read();
          if (ended) return finish(controller);
          pending += decoder.decode(value, { stream: true });
          if (drain(controller)) return;
        }
      } catch (error) {
        finish(controller, error instanceof Error ? error.message : String(error));
      }
    },
    cancel(reason) {
      // The client went away: stop reading the provider; usage is whatever was seen.
      reader.cancel(reason).catch(() => undefined);
      upstream.stop();
      resolve({ state, outputChars, cancelled: true, ...(firstByteAt !== undefined ? { firstByteAt } : {}) });
    },
  });
  return { stream, done };
}

/**
 * Reads that fail once the provider has sent nothing for `ms` (a stalled stream is cut, not
 * waited on forever). One watchdog timer per stream, re-armed only when it fires: a timer per
 * chunk cost more than the chunk's own handling.
 */
function idleReader(reader: ReadableStreamDefaultReader<Uint8Array>, ms: number) {
  let lastActivity = Date.now();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stall: (error: Error) => void = () => undefined;
  const stalled = new Promise<never>((_, reject) => (stall = reject));
  stalled.catch(() => undefined);
  const watch = () => {
    const idle = Date.now() - lastActivity;
    if (idle < ms) timer = setTimeout(watch, ms - idle);
    else stall(new Error(`the provider sent nothing for ${ms} ms`));
  };
  timer = setTimeout(watch, ms);
  return {
    async read() {
      try {
        const result = await Promise.race([reader.read(), stalled]);
        lastActivity = Date.now();
        return result;
      } catch (error) {
        reader.cancel().catch(() => undefined);
        throw error;
      }
    },
    stop: () => clearTimeout(timer),
  };
}
