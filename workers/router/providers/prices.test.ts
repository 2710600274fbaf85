import { describe, expect, it } from "vitest";
import { costMicros, priceOf, PRICES } from "./prices.ts";

describe("prices", () => {
  it("every shipped entry names its source and date", () => {
    for (const [model, entry] of Object.entries(PRICES)) {
      expect(entry.source, model).toMatch(/^https:\/\//);
      expect(entry.date, model).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it("a dated model takes its longest matching prefix; an override wins; unknown models have no price", () => {
    expect(priceOf("gpt-4o-mini-2024-07-18", null)).toBe(PRICES["gpt-4o-mini"]);
    expect(priceOf("gpt-4o-2024-08-06", null)).toBe(PRICES["gpt-4o"]);
    expect(priceOf("models/gemini-2.5-flash", null)).toBe(PRICES["gemini-2.5-flash"]);
    expect(priceOf("gpt-4o", { input: 1, output: 2 })).toEqual({ input: 1, output: 2 });
    expect(priceOf("llama-3-70b", null)).toBeUndefined();
  });

  it("costs cached input at its own rate, in micro-dollars", () => {
    // 8 uncached × $2.5 + 3 cached × $1.25 + 7 output × $10 per Mtok = 93.75 µ$
    expect(costMicros({ input: 11, output: 7, cached: 3 }, PRICES["gpt-4o"])).toBe(94);
    expect(costMicros({ input: 1_000_000, output: 0, cached: 0 }, { input: 0.15, output: 0.6 })).toBe(150_000);
    expect(costMicros({ input: 10, output: 10, cached: 0 }, undefined)).toBe(0);
  });
});
