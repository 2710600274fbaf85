import { describe, expect, it } from "vitest";
import { matchesOf } from "./matches.ts";

const shape = (matches: Iterable<RegExpMatchArray>) => [...matches].map((m) => ({ index: m.index, groups: [...m] }));

describe("matchesOf", () => {
  const cases: [RegExp, string][] = [
    [/\.ssh(?:\/([\w.-]{0,64}))?/gi, "cat ~/.SSH/id_rsa and ~/.ssh/config, then .ssh"],
    [/https?:\/\/[^\s"')]{1,4096}/g, "see https://a.example/x?q=1 or (http://b.example)"],
    [/x*/g, "axxbx"],
    [/(?:)/gu, "a😀b"],
    [/^\s*\[(\w+)\]:/gm, "[a]: one\n  [b]: two\nnot [c]: three"],
    [/nothing/g, "nothing here? no: nothin"],
    [/z/g, ""],
  ];
  it("finds what matchAll finds, empty matches and astral characters included", () => {
    for (const [pattern, text] of cases) expect(shape(matchesOf(pattern, text))).toEqual(shape(text.matchAll(pattern)));
  });

  it("leaves a shared pattern ready for its next caller", () => {
    const pattern = /b/g;
    expect(matchesOf(pattern, "abcb")).toHaveLength(2);
    expect(pattern.lastIndex).toBe(0);
    expect(matchesOf(pattern, "b")).toHaveLength(1);
  });

  it("refuses a pattern that is not global, as matchAll does", () => {
    expect(() => matchesOf(/a/, "a")).toThrow(TypeError);
  });
});
