import type { Finding, StreamFormat } from "../../guardrail.ts";
import { placeholderOf, type LoadedPolicy } from "../policy/source.ts";
import { DIALECTS } from "./formats.ts";
import { StreamScanner, type ScanOutput } from "./scanner.ts";

export interface StreamScan {
  format: StreamFormat;
  /** Called once, when the stream has ended however it ended, with everything found in it. */
  onEnd(findings: Finding[]): void;
  log: { worker: string; orgId: string };
}

/**
 * Wires a scanner between a provider's SSE body and the client. A policy that cannot load
 * fails closed (the org's fail mode is part of what did not load).
 */
export async function scanStream(upstream: ReadableStream<Uint8Array>, loading: Promise<LoadedPolicy>, scan: StreamScan): Promise<ReadableStream<Uint8Array>> {
  const encoder = new TextEncoder();
  let loaded: LoadedPolicy;
  try {
    loaded = await loading;
  } catch (error) {
    console.error(JSON.stringify({ level: "error", worker: scan.log.worker, error: "stream policy load failed", org_id: scan.log.orgId, detail: String(error) }));
    await upstream.cancel();
    const message = "Airlock could not inspect this response, and the org's guardrails fail closed";
    return new Response(DIALECTS[scan.format].error(message, "inspection_failed")).body!;
  }
  if (loaded.policy.byDirection.response.length === 0) return upstream;

  const scanner = new StreamScanner(loaded.policy, placeholderOf(loaded), scan.format);
  const reader = upstream.getReader();
  const decoder = new TextDecoder();
  const end = () => scan.onEnd(scanner.findings);

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
            end();
            return;
          }
        } catch {
          // The provider cut the stream: say so in its own format rather than end cleanly.
          controller.enqueue(encoder.encode(scanner.errorEvent("The upstream stream ended unexpectedly", "upstream_error")));
          controller.close();
          end();
          return;
        }
        for (const chunk of output.chunks) controller.enqueue(encoder.encode(chunk));
        if (output.blocked) {
          controller.enqueue(encoder.encode(scanner.errorEvent(blockedMessage(output.blocked), "content_blocked")));
          controller.close();
          await reader.cancel("blocked by guardrail");
          end();
          return;
        }
        if (output.chunks.length > 0) return;
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

const blockedMessage = (finding: Finding) => `Blocked by Airlock guardrail: ${finding.detector} (${finding.category}) in the response`;
