import { describe, expect, it } from "vitest";
import { classify, errorMessage, RPC, rpcError } from "./jsonrpc.ts";

describe("classify", () => {
  it("tells requests, notifications and responses apart", () => {
    expect(classify({ jsonrpc: "2.0", id: 1, method: "tools/list" })?.kind).toBe("request");
    expect(classify({ jsonrpc: "2.0", id: "a", method: "tools/call", params: { name: "x" } })?.kind).toBe("request");
    expect(classify({ jsonrpc: "2.0", method: "notifications/initialized" })?.kind).toBe("notification");
    expect(classify({ jsonrpc: "2.0", id: 1, result: {} })?.kind).toBe("response");
    expect(classify({ jsonrpc: "2.0", id: 1, error: { code: -32601, message: "nope" } })?.kind).toBe("response");
    // A response to a message whose id could not be read carries a null id.
    expect(classify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse" } })?.kind).toBe("response");
  });

  it("returns the message itself", () => {
    const message = { jsonrpc: "2.0", id: 7, method: "ping" };
    expect(classify(message)).toEqual({ kind: "request", message });
  });

  it("accepts params as an object or an array, and nothing else", () => {
    expect(classify({ jsonrpc: "2.0", id: 1, method: "m", params: [1, 2] })?.kind).toBe("request");
    for (const params of ["x", 1, null, true]) expect(classify({ jsonrpc: "2.0", id: 1, method: "m", params })).toBeNull();
  });

  it("refuses what is not JSON-RPC 2.0", () => {
    const invalid: unknown[] = [
      null, "text", 42, [], [{ jsonrpc: "2.0", id: 1, method: "m" }],
      { id: 1, method: "m" },
      { jsonrpc: "1.0", id: 1, method: "m" },
      { jsonrpc: 2, id: 1, method: "m" },
      { jsonrpc: "2.0", id: 1, method: 5 },
      { jsonrpc: "2.0", id: 1 },
      { jsonrpc: "2.0", method: "m", id: null },
      { jsonrpc: "2.0", method: "m", id: { x: 1 } },
      { jsonrpc: "2.0", method: "m", id: Number.NaN },
      { jsonrpc: "2.0", id: 1, result: {}, error: { code: 1, message: "both" } },
      { jsonrpc: "2.0", id: 1, error: "bad" },
      { jsonrpc: "2.0", id: 1, error: { message: "no code" } },
      { jsonrpc: "2.0", id: [1], result: {} },
      { jsonrpc: "2.0", result: {} },
    ];
    for (const value of invalid) expect(classify(value), JSON.stringify(value)).toBeNull();
  });
});

describe("error responses", () => {
  it("use the codes JSON-RPC 2.0 defines", () => {
    expect([RPC.parseError, RPC.invalidRequest, RPC.methodNotFound, RPC.invalidParams, RPC.internalError]).toEqual([-32700, -32600, -32601, -32602, -32603]);
  });

  it("keep the gateway's own codes distinct and in the implementation-defined range", () => {
    const own = [RPC.badRequest, RPC.serverNotFound, RPC.upstreamUnavailable, RPC.denied, RPC.quarantined, RPC.blocked, RPC.connectRequired, RPC.headerMismatch];
    expect(new Set(own).size).toBe(own.length);
    for (const code of own) expect(code <= -32000 && code >= -32099, String(code)).toBe(true);
  });

  it("carry data only when there is some", () => {
    expect(errorMessage(3, RPC.denied, "no")).toEqual({ jsonrpc: "2.0", id: 3, error: { code: -32003, message: "no" } });
    expect(errorMessage(null, RPC.connectRequired, "connect", { connect_url: "https://x" }).error).toEqual({ code: -32006, message: "connect", data: { connect_url: "https://x" } });
  });

  it("come back as JSON with the status and headers asked for", async () => {
    const response = rpcError("r1", RPC.headerMismatch, "mismatch", 400, undefined, { "x-extra": "1" });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("x-extra")).toBe("1");
    expect(await response.json()).toEqual({ jsonrpc: "2.0", id: "r1", error: { code: -32020, message: "mismatch" } });
    expect(rpcError(1, RPC.internalError, "x").status).toBe(200);
  });
});
