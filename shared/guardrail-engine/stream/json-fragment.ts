/**
 * Where redaction may write inside streamed JSON source (tool-call arguments arrive as
 * fragments of one JSON document). A replacement made of placeholder or mask characters is
 * valid anywhere inside a JSON string, so a matched span is narrowed to the string content it
 * covers and widened to whole escape sequences: the client still reassembles valid JSON, even
 * when an escape is split across chunks. Quotes and structure are never touched.
 *
 * Chosen over holding a whole tool call until it completes: the arguments keep streaming with
 * the same bounded window as text, and no size limit has to fail large, legitimate calls. The
 * cost: a match is seen in JSON source, so text behind an escape (`\n`, `\u00e9`) reads as its
 * escape to the detectors, as it would in any JSON document they scan.
 */
export interface LexState {
  inString: boolean;
  /** Characters of an escape still to come: -1 right after `\`, 1–4 inside `\uXXXX`, 0 none. */
  escape: number;
}

export const LEX_START: LexState = { inString: false, escape: 0 };

/** Per character of `text`: null outside strings (and for quotes), else the [start, end) of the string character or escape it belongs to. */
function lex(text: string, from: LexState): { units: ([number, number] | null)[]; state: LexState } {
  const units: ([number, number] | null)[] = [];
  let { inString, escape } = from;
  // An escape begun before `text` starts "before" it: it cannot be widened to.
  let escapeStart = escape !== 0 ? -1 : 0;
  const openEscapes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (!inString) {
      units.push(null);
      if (ch === '"') inString = true;
    } else if (escape === -1) {
      units.push([escapeStart, -1]);
      openEscapes.push(i);
      escape = ch === "u" ? 4 : 0;
    } else if (escape > 0) {
      units.push([escapeStart, -1]);
      openEscapes.push(i);
      escape--;
    } else if (ch === "\\") {
      escapeStart = i;
      units.push([i, -1]);
      openEscapes.push(i);
      escape = -1;
    } else if (ch === '"') {
      units.push(null);
      inString = false;
    } else {
      units.push([i, i + 1]);
    }
    if (openEscapes.length > 0 && escape === 0) {
      for (const j of openEscapes) units[j]![1] = i + 1;
      openEscapes.length = 0;
    }
  }
  // Escapes still open at the end of `text` end after it: their end is unknown (-1).
  return { units, state: { inString, escape } };
}

export function advance(text: string, from: LexState): LexState {
  return lex(text, from).state;
}

/**
 * Splits each span [start, end) of `text` into pieces that lie inside JSON strings and cover
 * whole characters or escapes only; escapes whose ends are not in `text` are left out.
 */
export function safeSpans<T extends { start: number; end: number }>(text: string, from: LexState, spans: readonly T[]): T[] {
  const { units } = lex(text, from);
  const whole = (u: [number, number] | null): u is [number, number] => u !== null && u[0] >= 0 && u[1] >= 0;
  const out: T[] = [];
  for (const span of spans) {
    let piece: [number, number] | undefined;
    for (let i = Math.max(0, span.start); i < Math.min(span.end, text.length); i++) {
      const u = units[i]!;
      if (!whole(u)) {
        if (piece) out.push({ ...span, start: piece[0], end: piece[1] });
        piece = undefined;
        continue;
      }
      if (piece && u[0] <= piece[1]) piece[1] = Math.max(piece[1], u[1]);
      else {
        if (piece) out.push({ ...span, start: piece[0], end: piece[1] });
        piece = [u[0], u[1]];
      }
    }
    if (piece) out.push({ ...span, start: piece[0], end: piece[1] });
  }
  return out;
}
