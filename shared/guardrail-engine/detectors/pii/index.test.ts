import { describe, expect, it } from "vitest";
import { PII_DETECTORS } from "./index.ts";

describe("PII_DETECTORS", () => {
  it("have unique snake_case ids, upper-case placeholders and the pii category", () => {
    const ids = PII_DETECTORS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const d of PII_DETECTORS) {
      expect(d.id).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(d.placeholder).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(d.category).toBe("pii");
    }
  });

  it("return nothing for empty text", () => {
    for (const d of PII_DETECTORS) expect(d.detect("", { direction: "prompt", lower: "" })).toEqual([]);
  });
});
