import type { ResponseScan } from "../../../shared/guardrail-engine/client.ts";
import { parseEventData } from "../../../shared/guardrail-engine/stream/formats.ts";
import { SseParser, type SseEvent } from "../../../shared/guardrail-engine/stream/sse.ts";
import { idleReader } from "../../../shared/idle-reader.ts";
import type { Operation, StreamState } from "../providers/index.ts";
import { textChars } from "./usage.ts";

export interface StreamEnd {
  state: StreamState;
  /** Set when the upstream cut the stream (it errored, stalled, or ended without its closing event). */
  cut?: string;
  /** Set when the reader went away first (the client), or the guardrail ended the answer. */
  cancelled?: boolean;
  /** performance.now() when the first byte went to the client. */
  firstByteAt?: number;
  /** Characters of answer text seen, for an estimate when the provider reports no usage. */
  outputChars: number;
}

export interface TapOptions {
  clientAskedUsage: boolean;
  errorEvent: (message: string) => string;
  idleMs: number;
  /** The org's response guardrail (null: no response rules); `failed`: its policy could not load, the answer ends with that event. */
  scan: ResponseScan | { failed: string } | null;
}

const encoder = new TextEncoder();
const STREAMING = { stream: true };

/**
 * The one stage a streamed answer passes in the router: the provider's body is read, decoded
 * and framed into SSE events once; each event is read for usage and the answering model, the
 * events the client must not see are dropped, the rest go through the org's guardrail scanner
 * (which may hold a bounded window, redact, or end the answer with a block) and leave encoded
 * once per read. Nothing waits for more than the event it is in, plus the scanner's window. A
 * stream the upstream cuts (or leaves silent for `idleMs`) ends with the provider's own error
 * event, never a clean end. `done` resolves once, when it ends.
 */
export function tapStream(body: ReadableStream<Uint8Array>, operation: Operation, options: TapOptions): { stream: ReadableStream<Uint8Array>; firstOut: Promise<void>; done: Promise<StreamEnd> } {
  const state: StreamState = { complete: false };
  const decoder = new TextDecoder();
  const parser = new SseParser();
  const scan = options.scan && "scanner" in options.scan ? options.scan : null;
  const refused = options.scan && "failed" in options.scan ? options.scan.failed : undefined;
  let resolve!: (end: StreamEnd) => void;
  const done = new Promise<StreamEnd>((r) => (resolve = r));
  let firstLeft!: () => void;
  const firstOut = new Promise<void>((r) => (firstLeft = r));
  let ended = false;
  let firstByteAt: number | undefined;
  let outputChars = 0;
  const reader = body.getReader();
  const upstream = idleReader(reader, options.idleMs);

  /** The events of one read, as they leave: dropped ones left out, the rest through the scanner when there is one. */
  const take = (events: SseEvent[], final: boolean) => {
    let out = "";
    for (const event of events) {
      if (operation.onEvent?.(event.event, event.data, state, options) === "drop") continue;
      const json = parseEventData(event.data);
      if (json !== undefined) outputChars += textChars(json);
      if (scan) scan.scanner.add(event, json);
      else out += event.raw;
    }
    return scan ? scan.scanner.flush(final) : { text: out };
  };

  const emit = (controller: ReadableStreamDefaultController<Uint8Array>, text: string) => {
    if (!text) return false;
    controller.enqueue(encoder.encode(text));
    if (firstByteAt === undefined) {
      firstByteAt = performance.now();
      firstLeft();
    }
    return true;
  };

  /** Ends the stream once, however it ends; the upstream is no longer read and the scan's findings are recorded. */
  const end = (outcome: { cut?: string; cancelled?: boolean }) => {
    ended = true;
    firstLeft();
    upstream.stop();
    scan?.end();
    resolve({ state, outputChars, ...outcome, ...(firstByteAt !== undefined ? { firstByteAt } : {}) });
  };

  /** The guardrail ends the answer with its own event: the provider is not read any further. */
  const refuse = (controller: ReadableStreamDefaultController<Uint8Array>, event: string) => {
    emit(controller, event);
    controller.close();
    reader.cancel("ended by the guardrail").catch(() => undefined);
    end({ cancelled: true });
  };

  const finish = (controller: ReadableStreamDefaultController<Uint8Array>, cut?: string) => {
    // A last event without its blank line is read and passed on terminated.
    const out = take(parser.end(), true);
    if (out.blocked) return refuse(controller, scan!.scanner.blockedEvent(out.blocked));
    const reason = cut ?? (state.complete ? undefined : "the provider ended the stream before its final event");
    emit(controller, reason ? out.text + options.errorEvent(`Upstream stream interrupted: ${reason}`) : out.text);
    controller.close();
    end(reason ? { cut: reason } : {});
  };

  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (refused !== undefined) return refuse(controller, refused);
      try {
        // Read until something goes out: a pull that enqueues nothing is not called again.
        for (;;) {
          const read = await upstream.read();
          // The client went away while the provider was being read.
          if (ended) return;
          if (read === null) return finish(controller, `the provider sent nothing for ${options.idleMs} ms`);
          if (read.done) return finish(controller);
          const out = take(parser.push(decoder.decode(read.value, STREAMING)), false);
          if (out.blocked) return refuse(controller, scan!.scanner.blockedEvent(out.blocked));
          if (emit(controller, out.text)) return;
        }
      } catch (error) {
        if (!ended) finish(controller, error instanceof Error ? error.message : String(error));
      }
    },
    cancel(reason) {
      // The client went away: stop reading the provider; usage is whatever was seen.
      if (ended) return;
      reader.cancel(reason).catch(() => undefined);
      end({ cancelled: true });
    },
  });
  return { stream, firstOut, done };
}
