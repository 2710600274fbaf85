import { describe, expect, it } from "vitest";
import { phone } from "./phone.ts";
import { ADVERSARIAL, found, run } from "./test-utils.ts";

describe("phone", () => {
  it("finds international numbers", () => {
    expect(found(phone, "call +1 (415) 555-2671 now")).toEqual(["+1 (415) 555-2671"]);
    expect(found(phone, "WhatsApp +447911123456")).toEqual(["+447911123456"]);
    expect(found(phone, "Tel. +44 (0)20 7946 0958")).toEqual(["+44 (0)20 7946 0958"]);
    expect(found(phone, "+33 6 12 34 56 78, +91 98765 43210, 0049 30 1234567")).toHaveLength(3);
  });

  it("finds national forms of the US, UK, Germany, France and India", () => {
    expect(found(phone, "call (415) 555-2671")).toEqual(["(415) 555-2671"]);
    expect(found(phone, "1 (212) 736-5000")).toEqual(["1 (212) 736-5000"]);
    expect(found(phone, "office 020 7946 0958")).toEqual(["020 7946 0958"]);
    expect(found(phone, "Ruf 030 12345678 an; Telefon: 0221 / 123 45 67")).toEqual(["030 12345678", "0221 / 123 45 67"]);
    expect(found(phone, "portable 06 12 34 56 78")).toEqual(["06 12 34 56 78"]);
    expect(found(phone, "Mumbai office 022 2204 4040")).toEqual(["022 2204 4040"]);
  });

  it("needs a context word for bare digits and scores context higher", () => {
    expect(found(phone, "order 4155552671")).toEqual([]);
    expect(found(phone, "phone: 4155552671")).toEqual(["4155552671"]);
    expect(run(phone, "phone +1 415 555 2671")[0]!.score).toBeGreaterThan(run(phone, "x +1 415 555 2671")[0]!.score);
  });

  it("does not fire on dates, times, versions, ids, prices, addresses or cards", () => {
    for (const text of [
      "released 2024-05-01",
      "at 2024-05-01T12:30:45Z",
      "log 2024-05-01 12:30:45 ERROR",
      "due 01/05/2024 or 31.12.2023",
      "version 10.15.7 and Chrome/120.0.6099.109",
      "id 550e8400-e29b-41d4-a716-446655440000",
      "commit 4155552671a3c9e0d1b2f3a4b5c6d7e8f9a0b1c2",
      "order no. 415-555-2671",
      "Total: $4,155,552,671",
      "revenue € 1 299 000 000",
      "gateway 192.168.100.200",
      "card 4111 1111 1111 1111",
      "amex 3782 822463 10005",
      "IBAN NL91 ABNA 0417 1643 01",
      "SSN 536-22-4187",
      "Scores: 98 87 91 76 88",
      "In 2019 2020 2021 we grew",
      "seq 0 1 2 3 4 5 6 7 8 9",
      "// Prints: <Buffer 01 02 03 04 05>",
      "30 82 01 0a 02 82 01 01 00 b6 f4",
    ]) {
      expect(found(phone, text), text).toEqual([]);
    }
  });

  it("stays linear on adversarial input", () => {
    for (const text of Object.values(ADVERSARIAL)) run(phone, text);
    expect(run(phone, "+1 (".repeat(25_000))).toEqual([]);
    expect(run(phone, "(1) ".repeat(25_000))).toEqual([]);
  });
});
