import { describe, expect, it } from "vitest";
import { creditCard } from "./credit-card.ts";
import { ADVERSARIAL, found, run } from "./test-utils.ts";

describe("credit_card", () => {
  it("finds issuer-prefixed, Luhn-valid numbers in the usual groupings", () => {
    expect(found(creditCard, "my card is 4111 1111 1111 1111")).toEqual(["4111 1111 1111 1111"]);
    expect(found(creditCard, "5555-5555-5555-4444 and 2223000048400011")).toEqual(["5555-5555-5555-4444", "2223000048400011"]);
    expect(found(creditCard, "amex 3782 822463 10005, diners 3056 930902 5904")).toEqual(["3782 822463 10005", "3056 930902 5904"]);
    expect(found(creditCard, "6011111111111117 3566002020360505 6200000000000005")).toHaveLength(3);
  });

  it("reports UTF-16 offsets into the given text", () => {
    const text = "€ 🙂 card: 4242424242424242!";
    const [m] = run(creditCard, text);
    expect(text.slice(m!.start, m!.end)).toBe("4242424242424242");
  });

  it("scores context words and separators higher", () => {
    expect(run(creditCard, "card 4111111111111111")[0]!.score).toBeGreaterThan(run(creditCard, "x 4111111111111111")[0]!.score);
    expect(run(creditCard, "x 4111 1111 1111 1111")[0]!.score).toBeGreaterThanOrEqual(0.8);
  });

  it("rejects Luhn failures, unknown prefixes, trivial and embedded numbers", () => {
    for (const text of [
      "4111 1111 1111 1112",
      "1234 5678 9012 3452",
      "0000 0000 0000 0000",
      "4444444444444444",
      "id 94111111111111111",
      "4111111111111111222",
      "x4111111111111111",
      "0.4111111111111111",
      "4111 1111-1111 1111",
      "4111 1111 1111 1111 1111",
      "41 11 11 11 11 11 11 11",
      "tracking number 4111111111111111",
    ]) {
      expect(found(creditCard, text), text).toEqual([]);
    }
  });

  it("stays linear on adversarial input", () => {
    for (const text of Object.values(ADVERSARIAL)) run(creditCard, text);
    expect(found(creditCard, `${ADVERSARIAL.digitsAndSpaces} 4111111111111111`)).toEqual(["4111111111111111"]);
  });
});
