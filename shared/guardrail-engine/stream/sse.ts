/** One server-sent event as received: its raw bytes (re-sent untouched when unchanged) and fields. */
export interface SseEvent {
  raw: string;
  event: string | undefined;
  data: string;
}

/** A blank line: two line ends (CRLF, LF or CR), in any mix. */
const BOUNDARY = /\r?\n\r?\n|\r\r/g;

/**
 * Incremental SSE framing (WHATWG EventSource rules: events end at a blank line; CRLF, LF
 * or CR line ends; `data:` lines join with "\n"). Keeps only the incomplete tail.
 */
export class SseParser {
  private tail = "";

  push(chunk: string): SseEvent[] {
    const text = this.tail + chunk;
    const events: SseEvent[] = [];
    let start = 0;
    BOUNDARY.lastIndex = 0;
    for (let match = BOUNDARY.exec(text); match; match = BOUNDARY.exec(text)) {
      const end = match.index + match[0].length;
      events.push(parseEvent(text.slice(start, end)));
      start = end;
    }
    this.tail = start === 0 ? text : text.slice(start);
    return events;
  }

  /** What is left when the stream ends: an event without its final blank line, given one so the reader sees it whole. */
  end(): SseEvent[] {
    const rest = this.tail;
    this.tail = "";
    return rest.trim() === "" ? [] : [parseEvent(rest.replace(/\s*$/, "\n\n"))];
  }
}

function parseEvent(raw: string): SseEvent {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of raw.split(/\r\n|\n|\r/)) {
    if (line.startsWith("data:")) data.push(line.slice(line[5] === " " ? 6 : 5));
    else if (line.startsWith("event:")) event = line.slice(line[6] === " " ? 7 : 6);
  }
  return { raw, event, data: data.join("\n") };
}

export function serializeEvent(event: string | undefined, data: string): string {
  return `${event ? `event: ${event}\n` : ""}data: ${data}\n\n`;
}
