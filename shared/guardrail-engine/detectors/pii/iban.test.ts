import { describe, expect, it } from "vitest";
import { iban, ibanChecksumValid } from "./iban.ts";
import { ADVERSARIAL, found, run } from "./test-utils.ts";

describe("iban", () => {
  it("finds valid IBANs printed in groups of four or compact", () => {
    expect(found(iban, "IBAN DE89 3704 0044 0532 0130 00, thanks")).toEqual(["DE89 3704 0044 0532 0130 00"]);
    expect(found(iban, "pay GB29NWBK60161331926819.")).toEqual(["GB29NWBK60161331926819"]);
    expect(found(iban, "FR14 2004 1010 0505 0001 3M02 606 and NO93 8601 1117 947")).toHaveLength(2);
    expect(found(iban, "konto fr1420041010050500013m02606")).toEqual(["fr1420041010050500013m02606"]);
  });

  it("scores higher next to banking words", () => {
    expect(run(iban, "IBAN: GB29NWBK60161331926819")[0]!.score).toBeGreaterThan(run(iban, "GB29NWBK60161331926819")[0]!.score);
  });

  it("implements mod-97", () => {
    expect(ibanChecksumValid("GB82WEST12345698765432")).toBe(true);
    expect(ibanChecksumValid("GB82WEST12345698765433")).toBe(false);
  });

  it("rejects bad checksums, wrong lengths, unknown countries and odd spacing", () => {
    for (const text of [
      "DE89 3704 0044 0532 0130 01",
      "DE89 3704 0044 0532 0130",
      "DE89370400440532013000X",
      "XX89 3704 0044 0532 0130 00",
      "DE00 0000 0000 0000 0000 00",
      "DE89 37040 044 0532 0130 00",
      "aDE89370400440532013000",
    ]) {
      expect(found(iban, text), text).toEqual([]);
    }
  });

  it("stays linear on adversarial input", () => {
    for (const text of Object.values(ADVERSARIAL)) run(iban, text);
    expect(run(iban, "DE89 3704 ".repeat(10_000))).toEqual([]);
  });
});
