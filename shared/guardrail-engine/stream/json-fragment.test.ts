import { describe, expect, it } from "vitest";
import { advance, LEX_START, safeSpans } from "./json-fragment.ts";

const span = (start: number, end: number) => ({ start, end });
const cut = (text: string, spans: { start: number; end: number }[]) => spans.map((s) => text.slice(s.start, s.end));

describe("safeSpans", () => {
  it("keeps a span inside one string as it is", () => {
    const text = '{"k":"abc"}';
    expect(cut(text, safeSpans(text, LEX_START, [span(6, 9)]))).toEqual(["abc"]);
  });

  it("never covers quotes, colons or braces: a span across two strings becomes two pieces", () => {
    const text = '{"a":"xy","b":"zw"}';
    expect(cut(text, safeSpans(text, LEX_START, [span(6, 16)]))).toEqual(["xy", "b", "z"]);
  });

  it("widens to whole escape sequences so no backslash is left dangling", () => {
    const text = '{"k":"a\\u00e9b\\"c"}';
    // From inside \u00e9 to inside \" : both escapes are taken whole.
    expect(cut(text, safeSpans(text, LEX_START, [span(9, 15)]))).toEqual(['\\u00e9b\\"']);
  });

  it("leaves out an escape begun in text already sent, and one whose end has not arrived", () => {
    const sent = '{"k":"ab\\u00';
    const state = advance(sent, LEX_START);
    expect(state).toEqual({ inString: true, escape: 2 });
    const next = 'e9cd\\u0';
    expect(cut(next, safeSpans(next, state, [span(0, next.length)]))).toEqual(["cd"]);
  });

  it("carries string state across fragments: text outside strings is never a target", () => {
    const state = advance('{"k":"v", ', LEX_START);
    expect(state).toEqual({ inString: false, escape: 0 });
    expect(safeSpans('123, "q":', state, [span(0, 3)])).toEqual([]);
  });
});
