import { describe, expect, it } from "vitest";
import { unifiedDiff } from "./diff.ts";

/** Applies a unified diff (as `patch` would), to check the hunks say exactly what changed. */
function apply(before: string, diff: string): string {
  const source = before.split("\n");
  if (source.at(-1) === "") source.pop();
  const out: string[] = [];
  let at = 0;
  const lines = diff.split("\n").slice(2);
  for (let i = 0; i < lines.length; i++) {
    const header = /^@@ -(\d+),(\d+) \+\d+,\d+ @@$/.exec(lines[i]!);
    if (!header) continue;
    const start = Number(header[2]) === 0 ? Number(header[1]) : Number(header[1]) - 1;
    while (at < start) out.push(source[at++]!);
    for (i++; i < lines.length && !lines[i]!.startsWith("@@") && lines[i] !== ""; i++) {
      const [mark, text] = [lines[i]![0], lines[i]!.slice(1)];
      if (mark === " ") { expect(source[at]).toBe(text); out.push(source[at++]!); }
      if (mark === "-") { expect(source[at]).toBe(text); at++; }
      if (mark === "+") out.push(text);
    }
    i--;
  }
  while (at < source.length) out.push(source[at++]!);
  return out.join("\n") + "\n";
}

const names = { from: "v1", to: "v2" };

describe("unifiedDiff", () => {
  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n", names)).toBe("");
  });

  it("writes hunks with three lines of context and correct ranges", () => {
    const before = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"].join("\n") + "\n";
    const after = ["1", "2", "3", "4", "five", "6", "7", "8", "9", "10", "11"].join("\n") + "\n";
    expect(unifiedDiff(before, after, names)).toBe(
      "--- v1\n+++ v2\n@@ -2,9 +2,10 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n 9\n 10\n+11\n",
    );
    expect(unifiedDiff("", "a\n", names)).toBe("--- v1\n+++ v2\n@@ -0,0 +1,1 @@\n+a\n");
    expect(unifiedDiff("a\n", "", names)).toBe("--- v1\n+++ v2\n@@ -1,1 +0,0 @@\n-a\n");
  });

  it("round-trips random edits of a policy-sized text", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 50; round++) {
      const before = Array.from({ length: 40 + Math.floor(random() * 60) }, (_, i) => `line ${i % 13}`);
      const after = before.flatMap((line) => {
        const r = random();
        if (r < 0.08) return [];
        if (r < 0.16) return [line, `added ${Math.floor(random() * 5)}`];
        if (r < 0.22) return [`changed ${line}`];
        return [line];
      });
      const a = before.join("\n") + "\n";
      const b = after.join("\n") + "\n";
      expect(apply(a, unifiedDiff(a, b, names)), `round ${round}`).toBe(b);
    }
  });
});
