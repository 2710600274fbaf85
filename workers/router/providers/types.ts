import type { ProviderKind } from "../../../shared/db/tables/model-gateway.ts";
import type { StreamFormat } from "../../../shared/guardrail.ts";

/** Token counts of one call; `cached` is the part of `input` served from the provider's prompt cache. */
export interface Usage {
  input: number;
  output: number;
  cached: number;
}

/** What a stream has told us so far: usage, the answering model, whether it ended properly. */
export interface StreamState {
  usage?: Usage;
  model?: string;
  complete: boolean;
}

/** One API operation a provider serves, matched on method and the path after `/llm/<provider>`. */
export interface Operation {
  /** `gen_ai.operation.name`. */
  name: "chat" | "embeddings" | "models" | "count_tokens";
  method: "GET" | "POST";
  path: RegExp;
  /** Where the model is named: the JSON body's `model`, a path segment (Gemini, Azure), or nowhere. */
  model: "body" | "path" | "none";
  /** Body fields holding what the caller says (inspected as the prompt, redacted in place). */
  promptFields: string[];
  /** The SSE dialect when this call streams (decided by `streams`). */
  streamFormat?: StreamFormat;
  streams?(body: Record<string, any> | null, url: URL): boolean;
  /** Output token ceiling the caller set, for the reservation. */
  maxOutput?(body: Record<string, any>): number | undefined;
  /** Usage from a whole (non-streaming) response body. */
  usage?(json: any): Usage | undefined;
  /** Reads one SSE event; returns "drop" when the event must not reach the client. */
  onEvent?(event: string | undefined, data: string, state: StreamState, ctx: { clientAskedUsage: boolean }): "drop" | void;
}

/** How a provider's errors look, so every refusal is in the caller's own protocol. */
export interface ErrorShape {
  body(status: number, code: string, message: string, requestId: string): unknown;
  /** The event a stream ends with when the upstream failed mid-answer. */
  streamError(message: string, code: string): string;
}

/** A provider kind, declared: its dialect, operations, default base URL and credential header. */
export interface ProviderConfig {
  kind: ProviderKind;
  /** Providers of one dialect can stand in for each other in a route. */
  dialect: "openai" | "anthropic" | "gemini";
  defaultBaseUrl?: string;
  operations: Operation[];
  errors: ErrorShape;
  /** Headers that carry the org's credential upstream. */
  credentialHeaders(secret: string): Record<string, string>;
  /** Model in the path, for `model: "path"` operations: read it and write the routed one back. */
  pathModel?: { read(path: string): string | undefined; write(path: string, model: string): string };
}

export const sse = (event: string | undefined, data: string) => `${event ? `event: ${event}\n` : ""}data: ${data}\n\n`;

export const int = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? Math.max(0, Math.round(value)) : 0);
