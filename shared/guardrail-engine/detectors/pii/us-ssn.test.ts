import { describe, expect, it } from "vitest";
import { ADVERSARIAL, found, run } from "./test-utils.ts";
import { usSsn } from "./us-ssn.ts";

describe("us_ssn", () => {
  it("finds dashed and spaced numbers, and bare ones next to a context word", () => {
    expect(found(usSsn, "SSN 536-22-4187")).toEqual(["536-22-4187"]);
    expect(found(usSsn, "social security number 536 22 4187")).toEqual(["536 22 4187"]);
    expect(found(usSsn, "ssn: 536224187")).toEqual(["536224187"]);
    expect(found(usSsn, "ss#536-22-4187")).toEqual(["536-22-4187"]);
    expect(found(usSsn, "Jane Roe, 536-22-4187, hired 2019")).toEqual(["536-22-4187"]);
  });

  it("scores context-confirmed numbers high and unlabelled ones lower", () => {
    expect(run(usSsn, "SSN 536-22-4187")[0]!.score).toBeGreaterThanOrEqual(0.8);
    expect(run(usSsn, "Jane Roe, 536-22-4187")[0]!.score).toBeLessThan(0.8);
  });

  it("applies the SSA's rejection rules", () => {
    for (const text of [
      "SSN 000-22-4187",
      "SSN 666-22-4187",
      "SSN 900-22-4187",
      "SSN 999-22-4187",
      "SSN 536-00-4187",
      "SSN 536-22-0000",
      "SSN 078-05-1120",
      "SSN 123-45-6789",
      "SSN 111-11-1111",
      "SSN 536-22 4187",
      "invoice 536224187",
      "part 536-22-41870",
      "call ext 536-22-4187",
      "zip 94105-1234",
    ]) {
      expect(found(usSsn, text), text).toEqual([]);
    }
  });

  it("stays linear on adversarial input", () => {
    for (const text of Object.values(ADVERSARIAL)) run(usSsn, text);
    expect(run(usSsn, "ssn 123-45-".repeat(14_000))).toEqual([]);
  });
});
