import { int, sse, type ErrorShape, type ProviderConfig, type Usage } from "./types.ts";

/** Anthropic's Messages API. */
const TYPES: Record<number, string> = {
  400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error",
  413: "request_too_large", 429: "rate_limit_error", 502: "api_error", 503: "overloaded_error", 504: "api_error", 529: "overloaded_error",
};

const errors: ErrorShape = {
  body: (status, _code, message, requestId) => ({
    type: "error",
    error: { type: TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error"), message: `${message} (request id ${requestId})` },
    request_id: requestId,
  }),
  streamError: (message) => sse("error", JSON.stringify({ type: "error", error: { type: "api_error", message } })),
};

/** Input counts every prompt token: uncached, read from cache and written to cache. */
const usageOf = (u: any): Usage | undefined => {
  if (!u || typeof u !== "object") return undefined;
  const cached = int(u.cache_read_input_tokens);
  return { input: int(u.input_tokens) + cached + int(u.cache_creation_input_tokens), output: int(u.output_tokens), cached };
};

const parse = (data: string): any => {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
};

export const anthropic: ProviderConfig = {
  kind: "anthropic",
  dialect: "anthropic",
  defaultBaseUrl: "https://api.anthropic.com",
  errors,
  credentialHeaders: (secret) => ({ "x-api-key": secret }),
  operations: [
    {
      name: "chat",
      method: "POST",
      path: /^\/(?:v1\/)?messages$/,
      model: "body",
      promptFields: ["system", "messages", "tools"],
      streamFormat: "anthropic",
      streams: (body) => body?.stream === true,
      maxOutput: (body) => body.max_tokens,
      usage: (json) => usageOf(json?.usage),
      onEvent: (event, data, state) => {
        const json = parse(data);
        const type = json?.type ?? event;
        if (type === "message_start") {
          state.usage = usageOf(json.message?.usage);
          if (typeof json.message?.model === "string") state.model = json.message.model;
        } else if (type === "message_delta" && json.usage) {
          // message_delta's output count is cumulative; input counts may be restated there too.
          const current = state.usage ?? { input: 0, output: 0, cached: 0 };
          const delta = usageOf({ input_tokens: 0, ...json.usage })!;
          state.usage = {
            input: json.usage.input_tokens !== undefined ? delta.input : current.input,
            output: int(json.usage.output_tokens),
            cached: json.usage.cache_read_input_tokens !== undefined ? delta.cached : current.cached,
          };
        } else if (type === "message_stop") state.complete = true;
      },
    },
    // Free, and counts rather than generates: passed through, nothing reserved or billed.
    { name: "count_tokens", method: "POST", path: /^\/(?:v1\/)?messages\/count_tokens$/, model: "body", promptFields: [] },
  ],
};
