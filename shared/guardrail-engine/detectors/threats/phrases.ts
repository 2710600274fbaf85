/**
 * Weighted phrase rules over a normalised text, shared by the injection and tool-poisoning
 * detectors. A finding is a cluster of nearby rule hits whose score is the sum of the best
 * weight of each pattern in it (capped at 1), after framing cues have discounted hits that
 * are quoted or discussed rather than addressed to the model. Hits in hidden or obfuscated
 * text get a bonus instead: nobody hides a sentence they are only discussing.
 */
import type { Match } from "../types.ts";
import { matchesOf } from "../matches.ts";
import { lineAround, type Normalized, originalSpan } from "./normalize.ts";

export interface PhraseRule {
  id: string;
  /** Global regex over the normalised text (lower-case, single spaces, `\n` kept). Linear-time. */
  pattern: RegExp;
  weight: number;
  /** Whole words ([a-z0-9]+; a plural in -s counts), one of which every match contains: the rule is skipped when none occurs. */
  needs: readonly string[];
  /** Substrings for what is not a word (tags, paths, other scripts); the rule also runs when one occurs. */
  needsText?: readonly string[];
  /** Weight of one match when it depends on the words matched. */
  weigh?: (matched: string) => number;
}

export interface Hit {
  start: number;
  end: number;
  weight: number;
  rule: string;
  /** Hits of one pattern count once per finding (its best weight); different patterns add up. */
  pattern: RegExp;
}

/** A finding is reported only at or above this score: one weak cue alone never fires. */
const MIN_SCORE = 0.5;
/** Hits further apart than this (normalised units) are separate findings. */
const CLUSTER_GAP = 400;
/** Hidden or obfuscated phrasing is itself a signal and is never discussion. */
const HIDDEN_BONUS = 0.25;

// Words that introduce a phrase as an example or a subject of discussion.
const REPORTING = /\b(?:such as|for example|for instance|e\.g\.|known as|called|dubbed|phrases?|the strings?|strings? like|payloads?|attackers?|adversar[a-z]*|malicious|injections?|jailbreaks?|detect[a-z]*|classif[a-z]*|filters?|examples?|classic|typical(?:ly)?|researchers?|article|warn[a-z]*|beware|flag[a-z]*|techniques?|patterns?|heuristics?|regex|signatures?|inject[a-z]*|tokens?|templates?|markers?|delimiters?|syntax|red team[a-z]*|variants?|quoted|trick[a-z]*|attempts?|look for|watch for|sentences?|text like|scanner|scans?|blocklist|denylist|mitigat[a-z]*|defen[cs][a-z]*|lines? like)\b/g;
const REPORTING_AFTER = /\b(?:(?:is|are|was|were) (?:a |an |the |one of the )?(?:classic|common|typical|known|well-known|famous|simple|basic|naive|textbook|standard)|attacks?|injections?|jailbreaks?|exploits?|payloads?|heuristics?|flag[a-z]*|detect[a-z]*|to mark)\b/;
const NEGATIONS = new Set(["not", "never", "don't", "dont", "doesn't", "won't", "cannot", "can't", "shouldn't", "mustn't", "without", "refuse", "why", "how"]);
const SELF_REFERENCE = /\b(?:my|our|i|i've|i'd|we)\b/;
const QUOTES = "\"'`";
const DOCUMENT_CUES = /\b(?:prompt injections?|jailbreak(?:s|ing)?|attackers?|adversarial|red team(?:ing)?|owasp|guardrails?|mitigations?|vulnerabilit(?:y|ies)|exploits?|threat model|security research(?:er|ers)?|llm01)\b/g;

function quoted(text: string, start: number, end: number): boolean {
  const before = text.slice(Math.max(0, start - 40), start);
  let open = "";
  for (let k = before.length - 1; k >= 0 && before[k] !== "\n"; k--) {
    const c = before[k]!;
    // An apostrophe after a letter is a contraction, not an opening quote.
    if (QUOTES.includes(c) && (c !== "'" || k === 0 || !/[a-z]/.test(before[k - 1]!))) {
      open = c;
      break;
    }
  }
  if (!open) return false;
  const after = text.slice(end, end + 160);
  for (let k = 0; k < after.length && after[k] !== "\n"; k++) {
    if (after[k] === open && (open !== "'" || !/[a-z]/.test(after[k + 1] ?? ""))) return true;
  }
  return false;
}

/** `true` when the hit sits in a question about it ("how do i override the default instructions…?"); requests ("can you…?") are not questions here. */
function question(text: string, start: number, end: number): boolean {
  let s = start;
  while (s > 0 && start - s < 200 && !".!?\n".includes(text[s - 1]!)) s--;
  let e = end;
  while (e < text.length && e - end < 200 && !".!?\n".includes(text[e]!)) e++;
  return text[e] === "?" && /^\s?(?:how|what|why|when|where|which|is|are|does|do|did|should|can(?!\syou)|could(?!\syou)|would(?!\syou)|will(?!\syou))\b/.test(text.slice(s, start));
}

/** `true` when one of the two words before a hit negates it ("never ignore your instructions"). */
function negated(before: string): boolean {
  const words = before.trimEnd().split(/[ \n]/);
  return words.slice(-2).some((w) => NEGATIONS.has(w));
}

/**
 * Multiplier for a hit from the text around it: quotes, reporting words before or after, a
 * negation just before, a question about it, and a document about security as a whole.
 */
function framing(n: Normalized, start: number, end: number, documentCues: number): number {
  const text = n.text;
  // Reporting words may sit on the line above, as in a list of quoted examples.
  const before = text.slice(Math.max(0, start - 200), start);
  const line = lineAround(text, start, end, 100);
  const lineStart = line.start;
  const after = text.slice(end, line.end);
  let factor = 1;
  if (quoted(text, start, end)) factor *= 0.6;
  const cues = new Set(before.match(REPORTING) ?? []);
  if (REPORTING_AFTER.test(after)) cues.add("after");
  if (cues.size === 1) factor *= 0.5;
  else if (cues.size > 1) factor *= 0.3;
  if (negated(text.slice(Math.max(lineStart, start - 40), start))) factor *= 0.3;
  if (question(text, start, end)) factor *= 0.5;
  if (documentCues >= 2) factor *= 0.6;
  return factor;
}

function isHidden(n: Normalized, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (n.hidden[k]) return true;
  return false;
}

const wordSets = new WeakMap<Normalized, Set<string>>();

/** The words of a normalised text, computed once per text (normalize() returns the same object for the same input). */
function wordsOf(n: Normalized): Set<string> {
  let words = wordSets.get(n);
  if (!words) {
    words = new Set();
    // A plural counts for its singular, so rules name one form.
    for (const w of n.text.match(/[a-z0-9]+/g) ?? []) {
      words.add(w);
      if (w.length > 3 && w.endsWith("s")) words.add(w.slice(0, -1));
    }
    wordSets.set(n, words);
  }
  return words;
}

/** Which rules of a set need each word, and which need a substring: built once per rule set. */
interface RuleIndex {
  byWord: Map<string, number[]>;
  byText: number[];
}
const ruleIndexes = new WeakMap<readonly PhraseRule[], RuleIndex>();
const NONE: readonly number[] = [];

function ruleIndexFor(rules: readonly PhraseRule[]): RuleIndex {
  let index = ruleIndexes.get(rules);
  if (!index) {
    index = { byWord: new Map(), byText: [] };
    rules.forEach((rule, i) => {
      for (const word of rule.needs) index!.byWord.set(word, [...(index!.byWord.get(word) ?? []), i]);
      if (rule.needsText?.length) index!.byText.push(i);
    });
    ruleIndexes.set(rules, index);
  }
  return index;
}

/**
 * The rules whose needed words or substrings occur in `n`, in rule order. Looked up from the
 * text's words: a prompt has a few dozen words, a rule set over a hundred rules of several
 * needed words each.
 */
function runnableRules(n: Normalized, rules: readonly PhraseRule[]): PhraseRule[] {
  const { byWord, byText } = ruleIndexFor(rules);
  const runs = new Uint8Array(rules.length);
  for (const word of wordsOf(n)) for (const i of byWord.get(word) ?? NONE) runs[i] = 1;
  for (const i of byText) if (!runs[i] && rules[i]!.needsText!.some((t) => n.text.includes(t))) runs[i] = 1;
  return rules.filter((_, i) => runs[i]);
}

/** Every rule hit in `n`, weighted and discounted by framing. */
export function phraseHits(n: Normalized, rules: readonly PhraseRule[]): Hit[] {
  const hits: Hit[] = [];
  let documentCues = -1;
  for (const rule of runnableRules(n, rules)) {
    for (const m of matchesOf(rule.pattern, n.text)) {
      const start = m.index;
      const end = start + m[0].length;
      let weight = rule.weigh ? rule.weigh(m[0]) : rule.weight;
      if (weight <= 0) continue;
      if (isHidden(n, start, end)) {
        weight += HIDDEN_BONUS;
      } else {
        if (documentCues < 0) documentCues = new Set(n.text.match(DOCUMENT_CUES) ?? []).size;
        weight *= framing(n, start, end, documentCues);
      }
      hits.push({ start, end, weight, rule: rule.id, pattern: rule.pattern });
    }
  }
  return hits;
}

/** `true` when the matched words speak in the user's own voice ("ignore my previous instructions"). */
export function selfReferential(matched: string): boolean {
  return SELF_REFERENCE.test(matched);
}

/** Nearby hits become one finding scored by the sum of each pattern's best weight; weak findings are dropped. */
export function clusterHits(n: Normalized, hits: Hit[]): Match[] {
  hits.sort((a, b) => a.start - b.start);
  const matches: Match[] = [];
  let i = 0;
  while (i < hits.length) {
    let start = hits[i]!.start;
    let end = hits[i]!.end;
    const best = new Map<RegExp, Hit>();
    while (i < hits.length && hits[i]!.start - end <= CLUSTER_GAP) {
      const h = hits[i]!;
      start = Math.min(start, h.start);
      end = Math.max(end, h.end);
      if (h.weight > (best.get(h.pattern)?.weight ?? 0)) best.set(h.pattern, h);
      i++;
    }
    let score = 0;
    let rule = "";
    let top = 0;
    for (const h of best.values()) {
      score += h.weight;
      if (h.weight > top) {
        top = h.weight;
        rule = h.rule;
      }
    }
    score = Math.min(1, Math.round(score * 100) / 100);
    if (score >= MIN_SCORE) matches.push({ ...originalSpan(n, start, end), score, rule });
  }
  return matches;
}
