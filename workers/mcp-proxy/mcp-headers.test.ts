import { describe, expect, it } from "vitest";
import { classify, type Classified } from "./jsonrpc.ts";
import { headerMismatch } from "./mcp-headers.ts";
import { STATELESS_VERSION } from "./stateless.ts";

const message = (value: object): Classified => classify({ jsonrpc: "2.0", ...value })!;
const call = (name: string) => message({ id: 1, method: "tools/call", params: { name, arguments: {} } });
const read = (uri: string) => message({ id: 2, method: "resources/read", params: { uri } });
const base64 = (text: string) => `=?base64?${btoa(String.fromCharCode(...new TextEncoder().encode(text)))}?=`;
const check = (headers: Record<string, string>, classified: Classified, version: string | null = STATELESS_VERSION) =>
  headerMismatch(new Headers(headers), classified, version);

describe("Mcp-Method / Mcp-Name", () => {
  it("accepts headers that say what the body says", () => {
    expect(check({ "mcp-method": "tools/call", "mcp-name": "search" }, call("search"))).toBeNull();
    expect(check({ "mcp-method": "resources/read", "mcp-name": "file:///a.txt" }, read("file:///a.txt"))).toBeNull();
    expect(check({ "mcp-method": "tools/list" }, message({ id: 3, method: "tools/list" }))).toBeNull();
    expect(check({ "mcp-method": "notifications/initialized" }, message({ method: "notifications/initialized" }))).toBeNull();
  });

  it("refuses a method or name that disagrees with the body", () => {
    expect(check({ "mcp-method": "tools/list", "mcp-name": "search" }, call("search"))).toBe("Mcp-Method header value 'tools/list' does not match body value 'tools/call'");
    expect(check({ "mcp-method": "tools/call", "mcp-name": "delete_all" }, call("search"))).toBe("Mcp-Name header value 'delete_all' does not match body value 'search'");
    expect(check({ "mcp-method": "resources/read", "mcp-name": "file:///b" }, read("file:///a"))).toMatch(/^Mcp-Name header value/);
    // A name for a method that names nothing is a disagreement too.
    expect(check({ "mcp-method": "tools/list", "mcp-name": "search" }, message({ id: 3, method: "tools/list" }))).toMatch(/^Mcp-Name header value 'search' does not match body value ''/);
  });

  it("requires both headers of a 2026-07-28 client", () => {
    expect(check({}, call("search"))).toBe("the Mcp-Method header is required");
    expect(check({ "mcp-method": "tools/call" }, call("search"))).toBe("the Mcp-Name header is required for tools/call");
    expect(check({ "mcp-method": "resources/read" }, read("file:///a"))).toBe("the Mcp-Name header is required for resources/read");
  });

  it("lets older clients omit them, but still checks what they send", () => {
    for (const version of [null, "2025-06-18", "2025-11-25"]) {
      expect(check({}, call("search"), version)).toBeNull();
      expect(check({ "mcp-method": "tools/call" }, call("search"), version)).toBeNull();
      expect(check({ "mcp-method": "tools/call", "mcp-name": "other" }, call("search"), version)).not.toBeNull();
    }
  });

  it("decodes the =?base64?…?= form of values outside the header charset", () => {
    expect(check({ "mcp-method": "tools/call", "mcp-name": base64("café ☕") }, call("café ☕"))).toBeNull();
    expect(check({ "mcp-method": base64("tools/call"), "mcp-name": "search" }, call("search"))).toBeNull();
    expect(check({ "mcp-method": "tools/call", "mcp-name": "=?BASE64?c2VhcmNo?=" }, call("search"))).toBeNull();
    expect(check({ "mcp-method": "tools/call", "mcp-name": base64("other") }, call("search"))).toMatch(/^Mcp-Name header value '=\?base64\?/);
  });

  it("refuses a base64 form that is not base64 of UTF-8", () => {
    expect(check({ "mcp-method": "tools/call", "mcp-name": "=?base64?***?=" }, call("***"))).not.toBeNull();
    // 0xFF is never valid UTF-8: no lossy decoding that could happen to match.
    expect(check({ "mcp-method": "tools/call", "mcp-name": `=?base64?${btoa("\xff")}?=` }, call("\ufffd"))).not.toBeNull();
  });

  it("ignores responses, which carry no method", () => {
    expect(check({ "mcp-method": "tools/call" }, message({ id: 1, result: {} }))).toBeNull();
  });
});
