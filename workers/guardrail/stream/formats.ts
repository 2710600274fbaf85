import type { StreamFormat } from "../../../shared/guardrail.ts";
import { serializeEvent, type SseEvent } from "./sse.ts";

/**
 * How each provider's stream carries answer text, and how it reports an error mid-stream.
 * `text` returns the text delta of an event (or undefined); `replaceText` re-frames the
 * event with new text; `error` is the event the provider itself sends when it fails, so
 * the client's SDK raises an error instead of seeing a clean end.
 */
interface StreamDialect {
  text(event: SseEvent, json: any): string | undefined;
  replaceText(event: SseEvent, json: any, text: string): string;
  error(message: string, code: string): string;
}

const parse = (data: string) => {
  if (!data.startsWith("{")) return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
};

export const DIALECTS: Record<StreamFormat, StreamDialect> = {
  openai_chat: {
    // One choice is the norm (n = 1); the text is in choices[0].delta.content.
    text: (_e, json) => (typeof json?.choices?.[0]?.delta?.content === "string" && json.choices.length === 1 ? json.choices[0].delta.content : undefined),
    replaceText: (e, json, text) => {
      json.choices[0].delta.content = text;
      return serializeEvent(e.event, JSON.stringify(json));
    },
    error: (message, code) => serializeEvent(undefined, JSON.stringify({ error: { message, type: "airlock_guardrail", param: null, code } })),
  },
  openai_responses: {
    text: (_e, json) => (json?.type === "response.output_text.delta" && typeof json.delta === "string" ? json.delta : undefined),
    replaceText: (e, json, text) => {
      json.delta = text;
      return serializeEvent(e.event, JSON.stringify(json));
    },
    error: (message, code) => serializeEvent("error", JSON.stringify({ type: "error", code, message, param: null })),
  },
  anthropic: {
    text: (_e, json) => (json?.type === "content_block_delta" && json.delta?.type === "text_delta" && typeof json.delta.text === "string" ? json.delta.text : undefined),
    replaceText: (e, json, text) => {
      json.delta.text = text;
      return serializeEvent(e.event, JSON.stringify(json));
    },
    error: (message) => serializeEvent("error", JSON.stringify({ type: "error", error: { type: "permission_error", message } })),
  },
  gemini: {
    text: (_e, json) => {
      const parts = json?.candidates?.[0]?.content?.parts;
      return Array.isArray(parts) && parts.length === 1 && typeof parts[0]?.text === "string" ? parts[0].text : undefined;
    },
    replaceText: (e, json, text) => {
      json.candidates[0].content.parts[0].text = text;
      return serializeEvent(e.event, JSON.stringify(json));
    },
    error: (message) => serializeEvent(undefined, JSON.stringify({ error: { code: 403, message, status: "PERMISSION_DENIED" } })),
  },
};

export { parse as parseEventData };
