import { describe, expect, it } from "vitest";
import { fakes, seededRandom } from "./fakes.ts";
import { SECRET_DETECTORS } from "./index.ts";

/**
 * Inputs built to make a backtracking regex or a naive scan go quadratic. Each must finish
 * within vitest's default 5 s timeout (the guard; no timing is asserted) and find nothing
 * it should not.
 */
const f = fakes(seededRandom(7));
const SIZE = 200_000;
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const fill = (unit: string) => unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);

function scanAll(text: string): Record<string, number> {
  const lower = text.toLowerCase();
  const counts: Record<string, number> = {};
  for (const detector of SECRET_DETECTORS) {
    const n = detector.detect(text, { direction: "tool_args", lower }).length;
    if (n > 0) counts[detector.id] = n;
  }
  return counts;
}

describe("adversarial input", () => {
  it.each([
    ["base64 alphabet", fill(B64)],
    ["random base64", f.pick(B64, SIZE)],
    ["base64url with dots", fill("eyJhbGciOi.")],
    ["one letter", "a".repeat(SIZE)],
    ["sk- repeated", fill("sk-")],
    ["sk-ant-api03- repeated", fill("sk-ant-api03-")],
    ["sk-proj- then a long run", "sk-proj-" + "A".repeat(SIZE)],
    ["ghp_ repeated", fill("ghp_")],
    ["xoxb-1- repeated", fill("xoxb-1-")],
    ["eyJ repeated", fill("eyJ")],
    ["eyJ segments without an end", fill("eyJhbGciOiJIUzI1NiJ9.eyJ")],
    ["BEGIN repeated without END", fill("-----BEGIN")],
    ["full headers repeated without END", fill("-----BEGIN RSA PRIVATE KEY-----\n")],
    ["header then a huge body", "-----BEGIN PRIVATE KEY-----\n" + fill(B64 + "\n")],
    ["postgres:// repeated", fill("postgres://u:")],
    ["AccountKey= repeated", fill("AccountKey=")],
    ["azure key name then hex", "azure_key=" + "a".repeat(SIZE)],
    ["aws secret name repeated", fill("aws_secret_access_key=")],
    ["password= repeated", fill("password=")],
    ["token: repeated", fill("token: ")],
    ["secret name chars", fill("secret_")],
    ["long name, no value", "api_key" + "_".repeat(SIZE)],
    ["quote never closed", 'password = "' + f.pick(B64, SIZE)],
    ["Q~ repeated", fill("1234Q~")],
    ["dots and tildes", fill("abc.~")],
    ["escaped newlines", fill("\\n")],
  ])("%s", (_label, text) => {
    const counts = scanAll(text);
    // A long random base64 run is one blob, not a series of keys.
    for (const n of Object.values(counts)) expect(n).toBeLessThan(5);
  });

  it("handles an empty string", () => {
    expect(scanAll("")).toEqual({});
  });

  it("still finds a key after 200k characters of noise", () => {
    const key = f.githubClassic();
    expect(scanAll(`${fill(B64)} ${key}`)).toMatchObject({ github_token: 1 });
  });
});
