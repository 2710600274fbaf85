import { describe, expect, it } from "vitest";
import { SseParser } from "./sse.ts";

describe("SseParser", () => {
  it("ends events at any blank line (LF, CRLF, CR or mixed), split anywhere, and keeps every byte", () => {
    const whole = "data: a\n\nevent: e\r\ndata: b\r\n\r\ndata: c\r\rdata: d\n\r\ndata: e\r\n\n";
    for (let size = 1; size <= whole.length; size++) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < whole.length; i += size) events.push(...parser.push(whole.slice(i, i + size)));
      events.push(...parser.end());
      expect(events.map((e) => e.data)).toEqual(["a", "b", "c", "d", "e"]);
      expect(events[1]!.event).toBe("e");
      expect(events.map((e) => e.raw).join("")).toBe(whole);
    }
  });

  it("gives a last event without its blank line one at the end", () => {
    const parser = new SseParser();
    expect(parser.push("data: [DONE]")).toEqual([]);
    expect(parser.end()).toEqual([{ raw: "data: [DONE]\n\n", event: undefined, data: "[DONE]" }]);
  });
});
