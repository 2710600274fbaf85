import { parseEventData } from "./formats.ts";
import type { ScanOutput, StreamScanner } from "./scanner.ts";
import { SseParser, type SseEvent } from "./sse.ts";

/** For tests: raw SSE text into a scanner, framed and parsed once per event as the router's stream stage does. */
export function feed(scanner: StreamScanner) {
  const parser = new SseParser();
  const take = (events: SseEvent[], final: boolean): ScanOutput => {
    for (const event of events) scanner.add(event, parseEventData(event.data));
    return scanner.flush(final);
  };
  return { push: (text: string) => take(parser.push(text), false), end: () => take(parser.end(), true) };
}
