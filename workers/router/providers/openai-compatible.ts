import { OPENAI_OPERATIONS, openAiErrors } from "./openai.ts";
import type { ProviderConfig } from "./types.ts";

/** Any server speaking OpenAI's API at an org-configured base URL (vLLM, Ollama, Groq, Mistral, OpenRouter…). */
export const openaiCompatible: ProviderConfig = {
  kind: "openai_compatible",
  dialect: "openai",
  operations: OPENAI_OPERATIONS,
  errors: openAiErrors,
  credentialHeaders: (secret) => ({ authorization: `Bearer ${secret}` }),
};
