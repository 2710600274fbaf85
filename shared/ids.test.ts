import { decodeTime, isValid } from "ulid";
import { describe, expect, it } from "vitest";
import { ulid } from "./ids.ts";

describe("ulid", () => {
  it("makes valid, distinct, time-ordered ids past the end of its random pool", () => {
    const ids = Array.from({ length: 1_000 }, () => ulid());
    expect(ids.every(isValid)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(decodeTime(ulid(1_700_000_000_000))).toBe(1_700_000_000_000);
    // Every character position of the random part takes many values (not a stuck generator).
    for (let i = 10; i < 26; i++) expect(new Set(ids.map((id) => id[i])).size).toBeGreaterThan(20);
  });
});
