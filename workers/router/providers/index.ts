import type { ProviderKind } from "../../../shared/db/tables/model-gateway.ts";
import { anthropic } from "./anthropic.ts";
import { azureOpenai } from "./azure-openai.ts";
import { gemini } from "./gemini.ts";
import { openai } from "./openai.ts";
import { openaiCompatible } from "./openai-compatible.ts";
import type { Operation, ProviderConfig } from "./types.ts";

/** Every provider kind the gateway speaks, by kind. */
export const PROVIDERS: Record<ProviderKind, ProviderConfig> = {
  openai,
  anthropic,
  gemini,
  azure_openai: azureOpenai,
  openai_compatible: openaiCompatible,
};

export function operationOf(config: ProviderConfig, method: string, path: string): Operation | undefined {
  return config.operations.find((op) => op.method === method && op.path.test(path));
}

export type { Operation, ProviderConfig, StreamState, Usage } from "./types.ts";
