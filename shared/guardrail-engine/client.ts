import type { Direction, InspectResult, StreamFormat } from "../guardrail.ts";
import type { AlertActor, GuardrailRpc } from "../rpc.ts";
import type { Content } from "./inspect/inspect.ts";
import { runInspection } from "./inspect/run.ts";
import { compileSource, type LoadedPolicy } from "./policy/source.ts";
import { scanStream } from "./stream/scan-stream.ts";

/**
 * Guardrails where the bytes are. The router and the MCP gateway scan prompts, answers,
 * streams and tool traffic in their own isolate: shipping every text (and every stream
 * chunk) to airlock-guardrail and back cost far more than the scan itself. airlock-guardrail
 * still owns the rules: it hands out an org's policy once per config version
 * (`policySource`), and records what a scan found (`record`: events and alerts) after the
 * answer has gone.
 */
export interface GuardrailContext {
  guardrail: GuardrailRpc;
  waitUntil(promise: Promise<unknown>): void;
  /** The calling Worker, for its error log lines. */
  worker: string;
}

export interface Scope {
  org_id: string;
  config_version: number;
  request_id: string;
  actor?: AlertActor;
}

/** Org id → its policy compiled at one config version (every admin write bumps it). */
const cache = new Map<string, { version: number; loaded: Promise<LoadedPolicy> }>();
const MAX_ORGS = 5_000;

function policyOf(guardrail: GuardrailRpc, orgId: string, version: number): Promise<LoadedPolicy> {
  const hit = cache.get(orgId);
  if (hit && hit.version === version) return hit.loaded;
  const loaded = guardrail.policySource(orgId).then(compileSource);
  loaded.catch(() => cache.delete(orgId));
  if (cache.size >= MAX_ORGS) cache.clear();
  cache.set(orgId, { version, loaded });
  return loaded;
}

function record(ctx: GuardrailContext, scope: Scope, direction: Direction, result: Pick<InspectResult, "findings">) {
  if (result.findings.length === 0) return;
  const input = { org_id: scope.org_id, request_id: scope.request_id, direction, findings: result.findings };
  ctx.waitUntil(
    ctx.guardrail.record(input, scope.actor).catch((error: unknown) =>
      console.error(JSON.stringify({ level: "error", worker: ctx.worker, error: "recording guardrail findings failed", request_id: scope.request_id, detail: String(error) })),
    ),
  );
}

/** `GUARDRAIL.inspect()`'s answer, computed here; findings are recorded off the critical path. */
export async function inspect(ctx: GuardrailContext, scope: Scope, direction: Direction, content: Content): Promise<InspectResult> {
  const result = await runInspection(policyOf(ctx.guardrail, scope.org_id, scope.config_version), content, direction, { worker: ctx.worker, orgId: scope.org_id });
  record(ctx, scope, direction, result);
  return result;
}

/** A provider's SSE answer through the streaming scanner (direction `response`). */
export function scanResponseStream(ctx: GuardrailContext, scope: Scope, stream: ReadableStream<Uint8Array>, format: StreamFormat): Promise<ReadableStream<Uint8Array>> {
  return scanStream(stream, policyOf(ctx.guardrail, scope.org_id, scope.config_version), {
    format,
    onEnd: (findings) => record(ctx, scope, "response", { findings }),
    log: { worker: ctx.worker, orgId: scope.org_id },
  });
}
