import { RE2JS } from "re2js";
import type { Detector, Match } from "./types.ts";

export interface CustomDetectorSpec {
  name: string;
  kind: "regex" | "keywords";
  pattern: string | null;
  keywords: string[] | null;
  caseSensitive: boolean;
  score: number;
}

/** `custom_<name>`: ids of org detectors never collide with built-in ones. */
export const customDetectorId = (name: string) => `custom_${name.replaceAll("-", "_")}`;

/**
 * Compiles an org's pattern with RE2 semantics (re2js): matching is linear in the input
 * whatever the pattern, so an admin's regex cannot stall inspection. Throws on a pattern
 * RE2 does not accept (backreferences, lookaround), with RE2's message.
 */
export function compileCustomRegex(pattern: string, caseSensitive: boolean): RE2JS {
  return RE2JS.compile(pattern, caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE);
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function customDetector(spec: CustomDetectorSpec): Detector {
  const regex =
    spec.kind === "regex"
      ? compileCustomRegex(spec.pattern ?? "", spec.caseSensitive)
      : // A dictionary is one alternation of whole words, also run by RE2.
        compileCustomRegex(`\\b(?:${(spec.keywords ?? []).map(escapeRegex).join("|")})\\b`, spec.caseSensitive);
  const placeholder = spec.name.toUpperCase().replaceAll("-", "_");
  return {
    id: customDetectorId(spec.name),
    category: "custom",
    placeholder,
    description: `Org-defined ${spec.kind === "regex" ? "pattern" : "keyword list"} ${spec.name}`,
    directions: ["prompt", "response", "tool_args", "tool_result", "tool_description", "hook"],
    detect(text) {
      const matches: Match[] = [];
      const matcher = regex.matcher(text);
      while (matcher.find()) {
        if (matcher.end() === matcher.start()) continue;
        matches.push({ start: matcher.start(), end: matcher.end(), score: spec.score });
      }
      return matches;
    },
  };
}
