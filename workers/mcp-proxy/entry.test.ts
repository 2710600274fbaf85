import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MCP_CONTEXT_HEADER, MCP_REQUEST_ID_HEADER } from "../../shared/rpc.ts";

/** The gateway's entrypoint as the router's service binding reaches it (`fetch`). */
const gateway = (exports as unknown as { McpService: Fetcher }).McpService;
const ping = (headers: Record<string, string>) =>
  gateway.fetch("https://acme.airlock.localhost/mcp/demo", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }) });

describe("McpService.fetch", () => {
  it("serves nothing without the context the router authenticated, whatever a caller puts in its place", async () => {
    const caller = { org: { id: "org_1", slug: "acme", name: "Acme" }, principal: { kind: "api_key" }, configVersion: 1 };
    const attempts: Record<string, string>[] = [
      {},
      { [MCP_REQUEST_ID_HEADER]: "r", [MCP_CONTEXT_HEADER]: "not json" },
      { [MCP_REQUEST_ID_HEADER]: "r", [MCP_CONTEXT_HEADER]: JSON.stringify({ org: { id: "o" } }) },
      // A caller that fails validation is refused every time, not only the first.
      { [MCP_REQUEST_ID_HEADER]: "r", [MCP_CONTEXT_HEADER]: JSON.stringify(caller) },
      { [MCP_REQUEST_ID_HEADER]: "r2", [MCP_CONTEXT_HEADER]: JSON.stringify(caller) },
      { [MCP_CONTEXT_HEADER]: JSON.stringify({ ...caller, configVersion: -1 }) },
    ];
    for (const headers of attempts) {
      const response = await ping(headers);
      expect(response.status).toBe(400);
      expect(await response.text()).toBe("airlock-mcp-proxy is reached through airlock-router");
    }
  });
});
