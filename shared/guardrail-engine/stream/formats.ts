import type { StreamFormat } from "../../guardrail.ts";
import { serializeEvent } from "./sse.ts";

/**
 * One piece of a text stream inside an event. Each `channel` is its own stream of text (a
 * choice's content, one tool call's arguments, one content block): scanned with its own
 * window, because text from different channels never runs together for the reader.
 */
export interface Slot {
  channel: string;
  text: string;
  /** The text is a fragment of JSON source (tool-call arguments): redact inside strings only. */
  json?: boolean;
  /**
   * Channels of one group follow each other (a choice's content, then its tool calls): text on
   * a new channel of the group means the previous one is done and need not be held.
   */
  group?: string;
  set(text: string): void;
}

/** A complete string in an event (a `.done` summary, a whole function-call argument): scanned and redacted whole. */
export interface Snapshot {
  path: string;
  text: string;
  json?: boolean;
  /** Repeats text already scanned as deltas: findings are not recorded twice. */
  repeat?: boolean;
  set(text: string): void;
}

export interface Reading {
  slots: Slot[];
  snapshots: Snapshot[];
  /** Channel prefixes this event ends (a finish reason, a block stop): their held text can go. */
  closes: string[];
}

/**
 * How each provider's stream carries text that reaches the user, and how it reports an error
 * mid-stream. `error` is the event the provider itself sends when it fails, so the client's
 * SDK raises an error instead of seeing a clean end.
 */
interface StreamDialect {
  read(json: any): Reading;
  error(message: string, code: string): string;
}

const str = (v: unknown): v is string => typeof v === "string";

/**
 * A slot or snapshot for `obj[key]` when it is a non-empty string. `alongside` is cleared when
 * the text is rewritten: log-probabilities repeat the text token by token.
 */
function field(obj: any, key: string | number, alongside?: { obj: any; key: string }): { text: string; set(text: string): void } | undefined {
  if (obj === null || typeof obj !== "object" || !str(obj[key]) || obj[key] === "") return undefined;
  return {
    text: obj[key],
    set: (text) => {
      obj[key] = text;
      if (alongside && alongside.obj?.[alongside.key] != null) alongside.obj[alongside.key] = null;
    },
  };
}

/** Every non-empty string leaf of a parsed JSON value, with its JSON pointer. */
function leaves(value: any, path: string, out: Snapshot[], repeat = false): Snapshot[] {
  if (value === null || typeof value !== "object") return out;
  for (const key of Object.keys(value)) {
    const f = field(value, key);
    const at = `${path}/${key}`;
    if (f) out.push({ path: at, repeat, ...f });
    else leaves(value[key], at, out, repeat);
  }
  return out;
}

function reading(): Reading {
  return { slots: [], snapshots: [], closes: [] };
}

function openaiChat(json: any): Reading {
  const r = reading();
  if (!Array.isArray(json?.choices)) return r;
  json.choices.forEach((choice: any, i: number) => {
    const n = typeof choice?.index === "number" ? choice.index : i;
    const group = `choices/${n}`;
    const delta = choice?.delta;
    for (const key of ["content", "refusal", "reasoning_content"]) {
      const f = field(delta, key, { obj: choice, key: "logprobs" });
      if (f) r.slots.push({ channel: `${group}/${key}`, group, ...f });
    }
    if (Array.isArray(delta?.tool_calls)) {
      delta.tool_calls.forEach((call: any, j: number) => {
        const f = field(call?.function, "arguments");
        if (f) r.slots.push({ channel: `${group}/tool_calls/${typeof call.index === "number" ? call.index : j}`, group, json: true, ...f });
      });
    }
    const legacy = field(delta?.function_call, "arguments");
    if (legacy) r.slots.push({ channel: `${group}/function_call`, group, json: true, ...legacy });
    if (choice?.finish_reason) r.closes.push(`${group}/`);
  });
  return r;
}

/** Text-bearing fields of a Responses output item (in `.done` events and the final response). */
function responsesItem(item: any, path: string, out: Snapshot[]) {
  if (item === null || typeof item !== "object") return;
  const args = field(item, "arguments");
  if (args) out.push({ path: `${path}/arguments`, json: true, repeat: true, ...args });
  const input = field(item, "input");
  if (input) out.push({ path: `${path}/input`, repeat: true, ...input });
  for (const list of ["content", "summary"]) {
    if (!Array.isArray(item[list])) continue;
    item[list].forEach((part: any, k: number) => {
      for (const key of ["text", "refusal"]) {
        const f = field(part, key);
        if (f) out.push({ path: `${path}/${list}/${k}/${key}`, repeat: true, ...f });
      }
    });
  }
}

/** Responses delta events: the field carrying the delta and the channel it extends. */
const RESPONSES_DELTAS: Record<string, { channel: (j: any) => string; json?: boolean }> = {
  "response.output_text.delta": { channel: (j) => `output/${j.output_index}/${j.content_index}/text` },
  "response.refusal.delta": { channel: (j) => `output/${j.output_index}/${j.content_index}/refusal` },
  "response.function_call_arguments.delta": { channel: (j) => `output/${j.output_index}/arguments`, json: true },
  "response.custom_tool_call_input.delta": { channel: (j) => `output/${j.output_index}/input` },
  "response.reasoning_text.delta": { channel: (j) => `output/${j.output_index}/${j.content_index}/reasoning` },
  "response.reasoning_summary_text.delta": { channel: (j) => `output/${j.output_index}/${j.summary_index}/summary` },
};

/** Responses `.done` events repeat the whole text: the field that does, and whether it is JSON. */
const RESPONSES_DONE: Record<string, { key: string; json?: boolean }> = {
  "response.output_text.done": { key: "text" },
  "response.refusal.done": { key: "refusal" },
  "response.function_call_arguments.done": { key: "arguments", json: true },
  "response.custom_tool_call_input.done": { key: "input" },
  "response.reasoning_text.done": { key: "text" },
  "response.reasoning_summary_text.done": { key: "text" },
};

function openaiResponses(json: any): Reading {
  const r = reading();
  const type = json?.type;
  if (!str(type)) return r;
  const delta = RESPONSES_DELTAS[type];
  const f = delta && field(json, "delta", { obj: json, key: "logprobs" });
  if (delta && f) r.slots.push({ channel: delta.channel(json), json: delta.json, ...f });
  const done = RESPONSES_DONE[type];
  const whole = done && field(json, done.key);
  if (whole) r.snapshots.push({ path: `/${done.key}`, json: done.json, repeat: true, ...whole });
  for (const key of ["text", "refusal"]) {
    const part = field(json.part, key);
    if (part) r.snapshots.push({ path: `/part/${key}`, repeat: true, ...part });
  }
  if (json.item) responsesItem(json.item, "/item", r.snapshots);
  if (Array.isArray(json.response?.output)) json.response.output.forEach((item: any, i: number) => responsesItem(item, `/response/output/${i}`, r.snapshots));
  if (type.endsWith(".done") && typeof json.output_index === "number") r.closes.push(`output/${json.output_index}/`);
  return r;
}

function anthropic(json: any): Reading {
  const r = reading();
  const index = json?.index;
  if (json?.type === "content_block_delta") {
    const d = json.delta;
    const key = d?.type === "text_delta" ? "text" : d?.type === "thinking_delta" ? "thinking" : d?.type === "input_json_delta" ? "partial_json" : undefined;
    const f = key && field(d, key);
    if (key && f) r.slots.push({ channel: `content/${index}/${key}`, json: key === "partial_json", ...f });
  } else if (json?.type === "content_block_start") {
    // Blocks usually start empty; any text or input they do carry reaches the user too.
    const block = json.content_block;
    for (const key of ["text", "thinking"]) {
      const f = field(block, key);
      if (f) r.snapshots.push({ path: `/content_block/${key}`, ...f });
    }
    leaves(block?.input, "/content_block/input", r.snapshots);
  } else if (json?.type === "content_block_stop") {
    r.closes.push(`content/${index}/`);
  }
  return r;
}

function gemini(json: any): Reading {
  const r = reading();
  if (!Array.isArray(json?.candidates)) return r;
  json.candidates.forEach((candidate: any, i: number) => {
    const n = typeof candidate?.index === "number" ? candidate.index : i;
    const parts = candidate?.content?.parts;
    if (Array.isArray(parts)) {
      parts.forEach((part: any, k: number) => {
        // Text parts of a candidate are one stream across parts and chunks; thoughts are another.
        const text = field(part, "text", { obj: candidate, key: "logprobsResult" });
        if (text) r.slots.push({ channel: `candidates/${n}/${part.thought ? "thought" : "text"}`, ...text });
        // Function calls, code and its output arrive whole in one part.
        const base = `/candidates/${i}/content/parts/${k}`;
        leaves(part?.functionCall?.args, `${base}/functionCall/args`, r.snapshots);
        const code = field(part?.executableCode, "code");
        if (code) r.snapshots.push({ path: `${base}/executableCode/code`, ...code });
        const output = field(part?.codeExecutionResult, "output");
        if (output) r.snapshots.push({ path: `${base}/codeExecutionResult/output`, ...output });
      });
    }
    if (candidate?.finishReason) r.closes.push(`candidates/${n}/`);
  });
  return r;
}

export const DIALECTS: Record<StreamFormat, StreamDialect> = {
  openai_chat: {
    read: openaiChat,
    error: (message, code) => serializeEvent(undefined, JSON.stringify({ error: { message, type: "airlock_guardrail", param: null, code } })),
  },
  openai_responses: {
    read: openaiResponses,
    error: (message, code) => serializeEvent("error", JSON.stringify({ type: "error", code, message, param: null })),
  },
  anthropic: {
    read: anthropic,
    error: (message) => serializeEvent("error", JSON.stringify({ type: "error", error: { type: "permission_error", message } })),
  },
  gemini: {
    read: gemini,
    error: (message) => serializeEvent(undefined, JSON.stringify({ error: { code: 403, message, status: "PERMISSION_DENIED" } })),
  },
};

export function parseEventData(data: string): unknown {
  if (!data.startsWith("{")) return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
