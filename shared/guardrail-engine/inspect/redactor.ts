import type { Finding } from "../../guardrail.ts";

/**
 * Replaces redacted spans with typed placeholders (`[EMAIL_1]`) or a mask. One Redactor
 * lives for one request, so the same value gets the same placeholder everywhere in it
 * (the model can still tell two different cards apart) and the values themselves are
 * forgotten with the request.
 */
export class Redactor {
  private readonly numbers = new Map<string, number>();
  private readonly counters = new Map<string, number>();
  private readonly style: "placeholder" | "mask";
  private readonly placeholderOf: (detector: string) => string;

  constructor(style: "placeholder" | "mask", placeholderOf: (detector: string) => string) {
    this.style = style;
    this.placeholderOf = placeholderOf;
  }

  replacement(detector: string, value: string): string {
    if (this.style === "mask") return "*".repeat(Math.min(value.length, 64));
    const stem = this.placeholderOf(detector);
    const key = `${stem}\u0000${value}`;
    let n = this.numbers.get(key);
    if (n === undefined) {
      n = (this.counters.get(stem) ?? 0) + 1;
      this.counters.set(stem, n);
      this.numbers.set(key, n);
    }
    return `[${stem}_${n}]`;
  }

  /** Applies every `redact` finding; overlapping spans merge and take the first detector's placeholder. */
  apply(text: string, findings: readonly Finding[]): string {
    const spans = findings.filter((f) => f.action === "redact").sort((a, b) => a.start - b.start || b.end - a.end);
    let out = "";
    let cursor = 0;
    for (let i = 0; i < spans.length; i++) {
      const first = spans[i]!;
      let end = first.end;
      while (i + 1 < spans.length && spans[i + 1]!.start < end) end = Math.max(end, spans[++i]!.end);
      if (first.start < cursor) continue;
      out += text.slice(cursor, first.start) + this.replacement(first.detector, text.slice(first.start, end));
      cursor = end;
    }
    return out + text.slice(cursor);
  }
}
