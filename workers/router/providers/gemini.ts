import { int, sse, type ErrorShape, type ProviderConfig, type Usage } from "./types.ts";

/** Google's Gemini API (`/v1beta/models/<model>:generateContent|streamGenerateContent`). */
const STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 413: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
};

const errors: ErrorShape = {
  body: (status, code, message, requestId) => ({
    error: { code: status, message: `${message} (request id ${requestId})`, status: STATUS[status] ?? (status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION"), details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: code, domain: "airlock" }] },
  }),
  streamError: (message) => sse(undefined, JSON.stringify({ error: { code: 502, message, status: "UNAVAILABLE" } })),
};

/** Output includes the model's thinking tokens: they are billed as output. */
const usageOf = (u: any): Usage | undefined =>
  u && typeof u === "object" ? { input: int(u.promptTokenCount), output: int(u.candidatesTokenCount) + int(u.thoughtsTokenCount), cached: int(u.cachedContentTokenCount) } : undefined;

const parse = (data: string): any => {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
};

const MODEL = /^\/(v1(?:beta|alpha)?)\/models\/([^/:]+):/;

const generate = {
  method: "POST" as const,
  model: "path" as const,
  promptFields: ["contents", "systemInstruction", "system_instruction", "tools"],
  maxOutput: (body: Record<string, any>) => body.generationConfig?.maxOutputTokens ?? body.generation_config?.max_output_tokens,
  usage: (json: any) => usageOf((Array.isArray(json) ? json.at(-1) : json)?.usageMetadata),
};

export const gemini: ProviderConfig = {
  kind: "gemini",
  dialect: "gemini",
  defaultBaseUrl: "https://generativelanguage.googleapis.com",
  errors,
  credentialHeaders: (secret) => ({ "x-goog-api-key": secret }),
  pathModel: {
    read: (path) => {
      const m = MODEL.exec(path)?.[2];
      return m ? decodeURIComponent(m) : undefined;
    },
    write: (path, model) => path.replace(MODEL, (_all, version: string) => `/${version}/models/${encodeURIComponent(model)}:`),
  },
  operations: [
    { ...generate, name: "chat", path: /^\/v1(?:beta|alpha)?\/models\/[^/:]+:generateContent$/ },
    {
      ...generate,
      name: "chat",
      path: /^\/v1(?:beta|alpha)?\/models\/[^/:]+:streamGenerateContent$/,
      streamFormat: "gemini",
      // Without `alt=sse` Gemini streams one JSON array: read whole, like a non-streaming answer.
      streams: (_body, url) => url.searchParams.get("alt") === "sse",
      onEvent: (_event, data, state) => {
        const json = parse(data);
        if (json?.usageMetadata) state.usage = usageOf(json.usageMetadata);
        if (typeof json?.modelVersion === "string") state.model = json.modelVersion;
        if (json?.candidates?.some((c: any) => c?.finishReason)) state.complete = true;
      },
    },
    { name: "count_tokens", method: "POST", path: /^\/v1(?:beta|alpha)?\/models\/[^/:]+:countTokens$/, model: "path", promptFields: [] },
  ],
};
