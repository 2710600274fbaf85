import type { Finding, StreamFormat } from "../../../shared/guardrail.ts";
import type { StreamScanInput } from "../../../shared/rpc.ts";
import type { Env } from "../env.ts";
import { recordFindings } from "../findings.ts";
import { Redactor } from "../inspect/redactor.ts";
import { scanText } from "../inspect/scan.ts";
import { policyFor } from "../policy/load.ts";
import type { Policy } from "../policy/policy.ts";
import { DIALECTS, parseEventData } from "./formats.ts";
import { SseParser, type SseEvent } from "./sse.ts";

/**
 * Characters of answer text held back before they are sent: long enough for a secret or
 * card number split across chunks to be seen whole and redacted, short enough that the
 * reader does not notice. This is the only buffering the scanner adds.
 */
export const DEFAULT_WINDOW = 160;

interface Held {
  event: SseEvent;
  json?: unknown;
  /** Offsets of this event's text in `buffer`; equal for events that carry no text. */
  start: number;
  end: number;
  text: boolean;
}

export interface ScanOutput {
  chunks: string[];
  /** Set when a block rule fired: the stream must end after `chunks`. */
  blocked?: Finding;
}

/**
 * Redacts answer text in place as SSE events pass, or stops the stream with the provider's
 * own error event when a block rule fires. Text is scanned together with a look-behind of
 * what was already sent, so a match split across events is still seen.
 */
export class StreamScanner {
  private readonly parser = new SseParser();
  private readonly redactor: Redactor;
  private held: Held[] = [];
  private buffer = "";
  private lookBehind = "";
  private sentChars = 0;
  private readonly policy: Policy;
  private readonly format: StreamFormat;
  private readonly window: number;
  readonly findings: Finding[] = [];

  constructor(policy: Policy, placeholderOf: (detector: string) => string, format: StreamFormat, window = DEFAULT_WINDOW) {
    this.policy = policy;
    this.format = format;
    this.window = window;
    this.redactor = new Redactor(policy.settings.redaction, placeholderOf);
  }

  push(chunk: string): ScanOutput {
    return this.take(this.parser.push(chunk), false);
  }

  end(): ScanOutput {
    return this.take(this.parser.end(), true);
  }

  errorEvent(message: string, code: string): string {
    return DIALECTS[this.format].error(message, code);
  }

  private take(events: SseEvent[], final: boolean): ScanOutput {
    const dialect = DIALECTS[this.format];
    for (const event of events) {
      const json = parseEventData(event.data);
      const text = json === undefined ? undefined : dialect.text(event, json);
      const start = this.buffer.length;
      if (text !== undefined) this.buffer += text;
      this.held.push({ event, json, start, end: this.buffer.length, text: text !== undefined });
    }
    return this.flush(final);
  }

  private flush(final: boolean): ScanOutput {
    const shift = this.lookBehind.length;
    const found = scanText(this.lookBehind + this.buffer, "response", this.policy).map((f) => ({ ...f, start: f.start - shift, end: f.end - shift }));

    const blocking = found.find((f) => f.action === "block" && f.end > 0);
    if (blocking) {
      const finding = { ...blocking, start: this.sentChars + Math.max(0, blocking.start), end: this.sentChars + blocking.end };
      this.findings.push(finding);
      return { chunks: [], blocked: finding };
    }

    // Findings that began in text already sent cannot be redacted any more and were recorded then.
    const fresh = found.filter((f) => f.start >= 0);
    const redactions = fresh.filter((f) => f.action === "redact");
    let boundary = final ? this.buffer.length : Math.max(0, this.buffer.length - this.window);
    for (const r of redactions) if (r.start < boundary && r.end > boundary) boundary = r.start;

    const chunks: string[] = [];
    let flushedTo = 0;
    let count = 0;
    for (const held of this.held) {
      if (held.text && held.end > boundary) break;
      chunks.push(held.text ? this.rewrite(held, redactions) : held.event.raw);
      flushedTo = held.end;
      count++;
    }
    this.held = this.held.slice(count);

    for (const f of fresh) {
      if (f.end <= flushedTo) this.findings.push({ ...f, start: this.sentChars + f.start, end: this.sentChars + f.end });
    }
    const sent = this.buffer.slice(0, flushedTo);
    this.lookBehind = (this.lookBehind + sent).slice(-this.window);
    this.sentChars += flushedTo;
    this.buffer = this.buffer.slice(flushedTo);
    for (const held of this.held) {
      held.start -= flushedTo;
      held.end -= flushedTo;
    }
    return { chunks };
  }

  /** This event's text with every redaction that touches it applied; a placeholder goes where its span starts. */
  private rewrite(held: Held, redactions: Finding[]): string {
    const touching = redactions.filter((r) => r.start < held.end && r.end > held.start);
    if (touching.length === 0) return held.event.raw;
    let text = "";
    let cursor = held.start;
    for (const r of touching) {
      if (r.start >= cursor) {
        text += this.buffer.slice(cursor, r.start) + this.redactor.replacement(r.detector, this.buffer.slice(r.start, r.end));
      }
      cursor = Math.max(cursor, Math.min(r.end, held.end));
    }
    text += this.buffer.slice(cursor, held.end);
    return DIALECTS[this.format].replaceText(held.event, held.json, text);
  }
}

/** Wires a scanner between a provider's SSE body and the client; the org's fail mode applies if rules cannot load. */
export async function scanStream(env: Env, ctx: ExecutionContext, upstream: ReadableStream<Uint8Array>, input: StreamScanInput): Promise<ReadableStream<Uint8Array>> {
  const encoder = new TextEncoder();
  let loaded;
  try {
    loaded = await policyFor(env.DB, input.org_id, input.config_version);
  } catch (error) {
    console.error(JSON.stringify({ level: "error", worker: "guardrail", error: "stream policy load failed", org_id: input.org_id, detail: String(error) }));
    await upstream.cancel();
    const message = "Airlock could not inspect this response, and the org's guardrails fail closed";
    return new Response(DIALECTS[input.format].error(message, "inspection_failed")).body!;
  }
  const { policy, detectors } = loaded;
  if (policy.byDirection.response.length === 0) return upstream;

  const scanner = new StreamScanner(policy, (id) => detectors.get(id)?.placeholder ?? "REDACTED", input.format);
  const reader = upstream.getReader();
  const decoder = new TextDecoder();
  const record = () => ctx.waitUntil(recordFindings(env, input.org_id, input.request_id, "response", { action: "allow", findings: scanner.findings }, input.actor));

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let output: ScanOutput;
        try {
          const { done, value } = await reader.read();
          output = done ? scanner.end() : scanner.push(decoder.decode(value, { stream: true }));
          if (done) {
            for (const chunk of output.chunks) controller.enqueue(encoder.encode(chunk));
            if (output.blocked) controller.enqueue(encoder.encode(scanner.errorEvent(blockedMessage(output.blocked), "content_blocked")));
            controller.close();
            record();
            return;
          }
        } catch (error) {
          // The provider cut the stream: say so in its own format rather than end cleanly.
          controller.enqueue(encoder.encode(scanner.errorEvent("The upstream stream ended unexpectedly", "upstream_error")));
          controller.close();
          record();
          return;
        }
        for (const chunk of output.chunks) controller.enqueue(encoder.encode(chunk));
        if (output.blocked) {
          controller.enqueue(encoder.encode(scanner.errorEvent(blockedMessage(output.blocked), "content_blocked")));
          controller.close();
          await reader.cancel("blocked by guardrail");
          record();
          return;
        }
        if (output.chunks.length > 0) return;
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

const blockedMessage = (finding: Finding) => `Blocked by Airlock guardrail: ${finding.detector} (${finding.category}) in the response`;
