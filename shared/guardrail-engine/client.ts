import type { Direction, InspectResult, StreamFormat } from "../guardrail.ts";
import { orgVersionCache } from "../org-cache.ts";
import type { AlertActor, GuardrailRpc } from "../rpc.ts";
import type { Content } from "./inspect/inspect.ts";
import { runInspection } from "./inspect/run.ts";
import { compileSource, placeholderOf, type LoadedPolicy } from "./policy/source.ts";
import { DIALECTS } from "./stream/formats.ts";
import { StreamScanner } from "./stream/scanner.ts";

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

/** Org id → its policy compiled at a config version (every admin write bumps it). */
const compiledAt = orgVersionCache<LoadedPolicy>();

function policyOf(guardrail: GuardrailRpc, orgId: string, version: number): Promise<LoadedPolicy> {
  return compiledAt(orgId, version, () => guardrail.policySource(orgId).then(compileSource));
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

/** A streamed answer's scan: the caller feeds `scanner` the events it passes on, and calls `end()` once when the stream has ended however it ended. */
export interface ResponseScan {
  scanner: StreamScanner;
  /** Records what the scan found. */
  end(): void;
}

/**
 * The streaming scanner for a provider's SSE answer (direction `response`), run by the caller
 * in its own stream stage; null when the org has no response rules. A policy that cannot load
 * fails closed (the org's fail mode is part of what did not load): `failed` is the error event
 * the stream must end with, in the provider's dialect.
 */
export async function responseScanner(ctx: GuardrailContext, scope: Scope, format: StreamFormat): Promise<ResponseScan | { failed: string } | null> {
  let loaded: LoadedPolicy;
  try {
    loaded = await policyOf(ctx.guardrail, scope.org_id, scope.config_version);
  } catch (error) {
    console.error(JSON.stringify({ level: "error", worker: ctx.worker, error: "stream policy load failed", org_id: scope.org_id, detail: String(error) }));
    return { failed: DIALECTS[format].error("Airlock could not inspect this response, and the org's guardrails fail closed", "inspection_failed") };
  }
  if (loaded.policy.byDirection.response.length === 0) return null;
  const scanner = new StreamScanner(loaded.policy, placeholderOf(loaded), format);
  return { scanner, end: () => record(ctx, scope, "response", scanner) };
}
