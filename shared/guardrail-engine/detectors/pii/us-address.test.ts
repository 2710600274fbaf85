import { describe, expect, it } from "vitest";
import { ADVERSARIAL, found, run } from "./test-utils.ts";
import { usAddress } from "./us-address.ts";

describe("us_address", () => {
  it("finds street, city, state and ZIP on one line or two", () => {
    expect(found(usAddress, "Ship to 123 Main Street, Springfield, IL 62704 please")).toEqual(["123 Main Street, Springfield, IL 62704"]);
    expect(found(usAddress, "Jane Roe\n123 Main St\nSpringfield, IL 62704-1234\nUSA")).toEqual(["123 Main St\nSpringfield, IL 62704-1234"]);
    expect(found(usAddress, "1600 Pennsylvania Ave NW, Washington, DC 20500.")).toEqual(["1600 Pennsylvania Ave NW, Washington, DC 20500"]);
  });

  it("takes units, PO boxes, Broadway and addresses inside JSON", () => {
    expect(found(usAddress, "350 Fifth Avenue, Suite 3300, New York, NY 10118")).toEqual(["350 Fifth Avenue, Suite 3300, New York, NY 10118"]);
    expect(found(usAddress, "555 California St Apt 4B, San Francisco, CA 94104")).toEqual(["555 California St Apt 4B, San Francisco, CA 94104"]);
    expect(found(usAddress, "send to P.O. Box 77, Denver, CO 80202")).toEqual(["P.O. Box 77, Denver, CO 80202"]);
    expect(found(usAddress, "1585 Broadway, New York, NY 10036")).toEqual(["1585 Broadway, New York, NY 10036"]);
    expect(found(usAddress, '{"address":"12 Oak St, Denver, CO 80202"}')).toEqual(["12 Oak St, Denver, CO 80202"]);
    expect(run(usAddress, "12 Oak St, Denver, CO 80202")[0]!.score).toBeGreaterThanOrEqual(0.8);
  });

  it("needs the whole structure: a city line, a state code or a street alone is not enough", () => {
    for (const text of [
      "Our HQ is in Austin, TX 78701",
      "Ships to CA 94105 only",
      "We drove 500 miles down Main St, Springfield, IL 62704",
      "See 10 Downing Street, London SW1A 2AA",
      "I live at 221B Baker Street",
      "Route 66 Road Trip, Flagstaff, AZ 86001",
      "PO 1234, Austin, TX 78701",
      "12 Oak St, denver, CO 80202",
    ]) {
      expect(found(usAddress, text), text).toEqual([]);
    }
  });

  it("stays linear on adversarial input", () => {
    for (const text of Object.values(ADVERSARIAL)) run(usAddress, text);
    expect(run(usAddress, "CA 94105 ".repeat(11_000))).toEqual([]);
    expect(run(usAddress, ("   ,".repeat(40) + "CA 94105 ").repeat(600))).toEqual([]);
  });
});
