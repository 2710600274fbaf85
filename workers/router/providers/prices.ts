import type { PriceOverride } from "../../../shared/db/tables/model-gateway.ts";

/**
 * Shipped list prices, USD per million tokens (= micro-dollars per token): input, output and
 * cached input. Each entry names its source page and the date it was read; an org overrides
 * any model through the admin API (`price` on a catalog model). A dated model name
 * (`gpt-4o-mini-2024-07-18`) takes the entry of its longest matching prefix.
 */
export interface PriceEntry {
  input: number;
  output: number;
  cached_input: number;
  source: string;
  date: string;
}

const OPENAI = "https://openai.com/api/pricing/";
const ANTHROPIC = "https://www.anthropic.com/pricing#api";
const GOOGLE = "https://ai.google.dev/gemini-api/docs/pricing";
const p = (input: number, output: number, cached_input: number, source: string, date: string): PriceEntry => ({ input, output, cached_input, source, date });

export const PRICES: Record<string, PriceEntry> = {
  "gpt-5": p(1.25, 10, 0.125, OPENAI, "2025-11-01"),
  "gpt-5-mini": p(0.25, 2, 0.025, OPENAI, "2025-11-01"),
  "gpt-5-nano": p(0.05, 0.4, 0.005, OPENAI, "2025-11-01"),
  "gpt-4.1": p(2, 8, 0.5, OPENAI, "2025-11-01"),
  "gpt-4.1-mini": p(0.4, 1.6, 0.1, OPENAI, "2025-11-01"),
  "gpt-4.1-nano": p(0.1, 0.4, 0.025, OPENAI, "2025-11-01"),
  "gpt-4o": p(2.5, 10, 1.25, OPENAI, "2025-11-01"),
  "gpt-4o-mini": p(0.15, 0.6, 0.075, OPENAI, "2025-11-01"),
  "o3": p(2, 8, 0.5, OPENAI, "2025-11-01"),
  "o4-mini": p(1.1, 4.4, 0.275, OPENAI, "2025-11-01"),
  "text-embedding-3-small": p(0.02, 0, 0, OPENAI, "2025-11-01"),
  "text-embedding-3-large": p(0.13, 0, 0, OPENAI, "2025-11-01"),
  "claude-opus-4-5": p(5, 25, 0.5, ANTHROPIC, "2025-11-25"),
  "claude-opus-4-1": p(15, 75, 1.5, ANTHROPIC, "2025-11-01"),
  "claude-opus-4": p(15, 75, 1.5, ANTHROPIC, "2025-11-01"),
  "claude-sonnet-4-5": p(3, 15, 0.3, ANTHROPIC, "2025-11-01"),
  "claude-sonnet-4": p(3, 15, 0.3, ANTHROPIC, "2025-11-01"),
  "claude-haiku-4-5": p(1, 5, 0.1, ANTHROPIC, "2025-11-01"),
  "claude-3-5-haiku": p(0.8, 4, 0.08, ANTHROPIC, "2025-11-01"),
  "gemini-2.5-pro": p(1.25, 10, 0.31, GOOGLE, "2025-11-01"),
  "gemini-2.5-flash": p(0.3, 2.5, 0.075, GOOGLE, "2025-11-01"),
  "gemini-2.5-flash-lite": p(0.1, 0.4, 0.025, GOOGLE, "2025-11-01"),
  "gemini-2.0-flash": p(0.1, 0.4, 0.025, GOOGLE, "2025-11-01"),
};

const BY_LENGTH = Object.keys(PRICES).sort((a, b) => b.length - a.length);

/** The price of a model the provider knows: the org's override, else the shipped entry, else none (cost 0, marked unpriced). */
export function priceOf(model: string, override: PriceOverride | null | undefined): PriceOverride | undefined {
  if (override) return override;
  const name = model.toLowerCase().replace(/^models\//, "");
  const key = BY_LENGTH.find((k) => name === k || name.startsWith(`${k}-`) || name.startsWith(`${k}@`));
  return key ? PRICES[key] : undefined;
}

/** Micro-dollars: uncached input, cached input and output, each at its rate. */
export function costMicros(usage: { input: number; output: number; cached: number }, price: PriceOverride | undefined): number {
  if (!price) return 0;
  const cached = Math.min(usage.cached, usage.input);
  return Math.round((usage.input - cached) * price.input + cached * (price.cached_input ?? price.input) + usage.output * price.output);
}
