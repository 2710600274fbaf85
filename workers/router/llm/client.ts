import { anthropic } from "../providers/anthropic.ts";
import { gemini } from "../providers/gemini.ts";
import { openAiErrors } from "../providers/openai.ts";
import type { ProviderConfig } from "../providers/index.ts";

/**
 * The Airlock credential an agent sent, in whichever header its SDK uses: `Authorization:
 * Bearer` (OpenAI SDKs, Azure with a bearer), `x-api-key` (Anthropic), `api-key` (Azure),
 * `x-goog-api-key` or `?key=` (Gemini). `""` when a header is there but malformed.
 */
export function clientCredential(request: Request, url: URL): string | null {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match ? match[1]! : "";
  }
  for (const header of ["x-api-key", "api-key", "x-goog-api-key"]) {
    const value = request.headers.get(header);
    if (value !== null) return value.trim();
  }
  return url.searchParams.get("key");
}

/** Request headers that reach the provider: what describes the call, never the caller's credentials or connection. */
const FORWARDED = /^(content-type|accept|accept-encoding|user-agent|anthropic-version|anthropic-beta|openai-beta|openai-organization|openai-project|x-stainless-[a-z-]+|x-goog-api-client|idempotency-key)$/;

// Plain records, not Headers: each Headers call crosses into the runtime, and the record is copied once, into the Request or Response.
export function forwardedHeaders(request: Request): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) if (FORWARDED.test(name)) headers[name] = value;
  return headers;
}

/** Response headers the client may see from the provider. */
const RETURNED = /^(content-type|retry-after|openai-[a-z-]+|x-ratelimit-[a-z-]+|anthropic-[a-z-]+|request-id|x-request-id)$/;

export function returnedHeaders(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) if (RETURNED.test(name) && name !== "x-request-id") headers[name] = value;
  return headers;
}

/** Before the provider is known, its name says which dialect the caller speaks. */
export function errorShapeForName(name: string): ProviderConfig["errors"] {
  if (name.includes("anthropic") || name.includes("claude")) return anthropic.errors;
  if (name.includes("gemini") || name.includes("google")) return gemini.errors;
  return openAiErrors;
}
