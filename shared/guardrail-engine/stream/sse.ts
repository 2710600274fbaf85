/** One server-sent event as received: its raw bytes (re-sent untouched when unchanged) and fields. */
export interface SseEvent {
  raw: string;
  event: string | undefined;
  data: string;
}

/**
 * Incremental SSE framing (WHATWG EventSource rules: events end at a blank line; CRLF, LF
 * or CR line ends; `data:` lines join with "\n"). Keeps only the incomplete tail.
 */
export class SseParser {
  private tail = "";

  push(chunk: string): SseEvent[] {
    this.tail += chunk;
    const events: SseEvent[] = [];
    for (;;) {
      const match = /\r\n\r\n|\n\n|\r\r/.exec(this.tail);
      if (!match) break;
      const raw = this.tail.slice(0, match.index + match[0].length);
      this.tail = this.tail.slice(match.index + match[0].length);
      events.push(parseEvent(raw));
    }
    return events;
  }

  /** What is left when the stream ends (an event without its final blank line). */
  end(): SseEvent[] {
    const rest = this.tail;
    this.tail = "";
    return rest.trim() === "" ? [] : [parseEvent(rest)];
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
