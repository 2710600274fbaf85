import { int, sse, type ErrorShape, type Operation, type ProviderConfig, type Usage } from "./types.ts";

/** OpenAI's API (also spoken by Azure OpenAI and every OpenAI-compatible server). */
const OPENAI_TYPES: Record<number, string> = { 400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "invalid_request_error", 429: "rate_limit_exceeded" };

export const openAiErrors: ErrorShape = {
  body: (status, code, message, requestId) => ({
    error: { message: `${message} (request id ${requestId})`, type: OPENAI_TYPES[status] ?? (status >= 500 ? "server_error" : "invalid_request_error"), param: null, code },
  }),
  streamError: (message, code) => sse(undefined, JSON.stringify({ error: { message, type: "server_error", param: null, code } })),
};

const chatUsage = (u: any): Usage | undefined =>
  u && typeof u === "object" ? { input: int(u.prompt_tokens), output: int(u.completion_tokens), cached: int(u.prompt_tokens_details?.cached_tokens) } : undefined;
const responsesUsage = (u: any): Usage | undefined =>
  u && typeof u === "object" ? { input: int(u.input_tokens), output: int(u.output_tokens), cached: int(u.input_tokens_details?.cached_tokens) } : undefined;

const parse = (data: string): any => {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
};

export const chatCompletions: Operation = {
  name: "chat",
  method: "POST",
  path: /^\/(?:v1\/)?chat\/completions$/,
  model: "body",
  promptFields: ["messages", "tools"],
  streamFormat: "openai_chat",
  streams: (body) => body?.stream === true,
  maxOutput: (body) => body.max_completion_tokens ?? body.max_tokens,
  usage: (json) => chatUsage(json?.usage),
  onEvent: (_event, data, state, ctx) => {
    if (data === "[DONE]") {
      state.complete = true;
      return;
    }
    const json = parse(data);
    if (typeof json?.model === "string") state.model = json.model;
    if (json?.usage) state.usage = chatUsage(json.usage);
    // Airlock asked for usage; a client that did not must not see the extra chunk.
    if (json?.usage && Array.isArray(json.choices) && json.choices.length === 0 && !ctx.clientAskedUsage) return "drop";
  },
};

export const responses: Operation = {
  name: "chat",
  method: "POST",
  path: /^\/(?:v1\/)?responses$/,
  model: "body",
  promptFields: ["input", "instructions", "tools"],
  streamFormat: "openai_responses",
  streams: (body) => body?.stream === true,
  maxOutput: (body) => body.max_output_tokens,
  usage: (json) => responsesUsage(json?.usage),
  onEvent: (_event, data, state) => {
    const json = parse(data);
    const type = json?.type;
    if (type === "response.completed" || type === "response.incomplete" || type === "response.failed") {
      state.complete = true;
      state.usage = responsesUsage(json.response?.usage) ?? state.usage;
    }
    if (typeof json?.response?.model === "string") state.model = json.response.model;
  },
};

export const embeddings: Operation = {
  name: "embeddings",
  method: "POST",
  path: /^\/(?:v1\/)?embeddings$/,
  model: "body",
  promptFields: ["input"],
  usage: (json) => (json?.usage ? { input: int(json.usage.prompt_tokens ?? json.usage.total_tokens), output: 0, cached: 0 } : undefined),
};

/** `GET /v1/models` is answered by Airlock from the org's catalog, never sent upstream. */
export const listModels: Operation = { name: "models", method: "GET", path: /^\/(?:v1\/)?models$/, model: "none", promptFields: [] };

// Legacy `/v1/completions` is not served: the streaming scanner does not read its text, so its answers could not be inspected.
export const OPENAI_OPERATIONS = [chatCompletions, responses, embeddings, listModels];

export const openai: ProviderConfig = {
  kind: "openai",
  dialect: "openai",
  defaultBaseUrl: "https://api.openai.com",
  operations: OPENAI_OPERATIONS,
  errors: openAiErrors,
  credentialHeaders: (secret) => ({ authorization: `Bearer ${secret}` }),
};
