import type { PriceOverride } from "../../../shared/db/tables/model-gateway.ts";
import type { Usage } from "../providers/index.ts";
import { costMicros } from "../providers/prices.ts";

/**
 * Token counts when a provider reports none: about 4 characters a token (OpenAI's rule of
 * thumb for English). A tokenizer's rank files would cost more bundle than the figure is
 * worth, so the result is marked `estimated` wherever it is used.
 */
export const CHARS_PER_TOKEN = 4;
/** The output ceiling reserved when the caller sets none. */
export const DEFAULT_MAX_OUTPUT = 4096;

export const tokensOfChars = (chars: number) => Math.ceil(chars / CHARS_PER_TOKEN);

/** Characters of what the caller sent in the operation's prompt fields. */
export function promptChars(body: Record<string, unknown> | null, fields: string[]): number {
  if (!body) return 0;
  let chars = 0;
  for (const field of fields) if (body[field] !== undefined) chars += textChars(body[field]);
  return chars;
}

const SKIP = new Set(["id", "type", "role", "object", "model", "index", "finish_reason", "stop_reason", "created", "call_id", "tool_call_id", "tool_use_id"]);

/** Characters of the string leaves a model would read or write (ids and roles left out). */
export function textChars(value: unknown, depth = 0): number {
  if (depth > 64) return 0;
  if (typeof value === "string") return value.length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + textChars(v, depth + 1), 0);
  if (value && typeof value === "object") {
    let n = 0;
    for (const [key, v] of Object.entries(value)) if (!(SKIP.has(key) && typeof v !== "object")) n += textChars(v, depth + 1);
    return n;
  }
  return 0;
}

export interface Billed {
  usage: Usage;
  estimated: boolean;
  costMicros: number;
}

export function bill(usage: Usage | undefined, fallback: () => Usage, price: PriceOverride | undefined): Billed {
  const used = usage ?? fallback();
  return { usage: used, estimated: usage === undefined, costMicros: costMicros(used, price) };
}
