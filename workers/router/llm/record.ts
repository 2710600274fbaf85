import type { ProviderKind } from "../../../shared/db/tables/model-gateway.ts";
import type { PolicyDecisionAttributes } from "../../../shared/policy-engine/decision-event.ts";
import type { PolicyMode } from "../../../shared/rpc.ts";
import type { Operation } from "../providers/index.ts";
import type { ProviderEntry } from "./registry.ts";
import type { Attempt, Target } from "./upstream.ts";
import type { Billed } from "./usage.ts";

/** OpenTelemetry's `gen_ai.provider.name` values for each provider kind. */
const SEMCONV_PROVIDER: Record<ProviderKind, string> = {
  openai: "openai",
  anthropic: "anthropic",
  gemini: "gcp.gemini",
  azure_openai: "azure.ai.openai",
  openai_compatible: "openai_compatible",
};

/** What the gateway knew when it admitted the call. */
export interface CallFacts {
  provider: ProviderEntry;
  operation: Operation;
  requested: string;
  policyVersion: number;
  determining: string[];
  mode: PolicyMode;
  /** The decision's record for the call's event (admission/admit.ts). */
  policy?: () => PolicyDecisionAttributes;
}

export interface CallRecord extends CallFacts {
  target: Target;
  attempts: Attempt[];
  started: number;
  status: number;
  billed?: Billed;
  responseModel?: string;
  streamed?: boolean;
  /** performance.now() when the first byte (stream) or the response headers (whole answer) arrived. */
  ttfbAt?: number;
}

const ms = (value: number) => Math.round(value * 1000) / 1000;

/** The call's `gen_ai.*` attributes (OpenTelemetry GenAI) and Airlock's own: never content, never a credential. */
export function llmAttributes(record: CallRecord): Record<string, string | number | boolean> {
  const { billed } = record;
  return {
    "gen_ai.operation.name": record.operation.name,
    "gen_ai.provider.name": SEMCONV_PROVIDER[record.target.provider.kind],
    "gen_ai.request.model": record.requested,
    ...(record.responseModel ? { "gen_ai.response.model": record.responseModel } : {}),
    ...(billed
      ? {
          "gen_ai.usage.input_tokens": billed.usage.input,
          "gen_ai.usage.output_tokens": billed.usage.output,
          "gen_ai.usage.cache_read.input_tokens": billed.usage.cached,
          "airlock.usage.estimated": billed.estimated,
          "airlock.cost_micros": billed.costMicros,
        }
      : {}),
    "airlock.llm.provider": record.target.provider.name,
    "airlock.llm.upstream_model": record.target.model,
    "airlock.llm.status": record.status,
    "airlock.llm.streamed": record.streamed === true,
    "airlock.llm.attempts": record.attempts.length,
    "airlock.llm.fallback_path": record.attempts.map((a) => `${a.provider}/${a.model}:${a.outcome}`).join(" > "),
    ...(record.ttfbAt !== undefined ? { "airlock.llm.ttfb_ms": ms(record.ttfbAt - record.started) } : {}),
    "airlock.llm.latency_ms": ms(performance.now() - record.started),
    "airlock.policy.version": record.policyVersion,
    "airlock.policy.mode": record.mode,
    "airlock.policy.determining": record.determining.join(","),
  };
}
