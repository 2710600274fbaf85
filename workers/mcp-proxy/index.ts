import { WorkerEntrypoint } from "cloudflare:workers";
import { REASON_HEADER, type Health, type McpRequestContext, type McpRpc } from "../../shared/rpc.ts";

/** JSON-RPC implementation-defined server error: the addressed MCP server is not registered. */
const SERVER_NOT_FOUND = -32001;

/**
 * The MCP gateway. The router has authenticated the request for this very server (token
 * audience or API key). There is no registry yet (it arrives with its own issue), so no
 * server name is registered and every request is answered with that, in JSON-RPC.
 */
export class McpService extends WorkerEntrypoint implements McpRpc {
  async health(): Promise<Health> {
    return { worker: "mcp-proxy", ok: true };
  }

  async serve(request: Request, context: McpRequestContext): Promise<Response> {
    const server = new URL(request.url).pathname.split("/")[2] ?? "";
    const body = {
      jsonrpc: "2.0",
      id: await requestId(request),
      error: { code: SERVER_NOT_FOUND, message: `No MCP server named '${server}' is registered in org ${context.org.slug}` },
    };
    return new Response(JSON.stringify(body), {
      status: 404,
      headers: { "content-type": "application/json", [REASON_HEADER]: "mcp_server_not_found" },
    });
  }
}

/** The id of the JSON-RPC request being answered; null for a notification, a batch or a body that is not JSON-RPC. */
async function requestId(request: Request): Promise<string | number | null> {
  if (request.method !== "POST") return null;
  try {
    const id = ((await request.json()) as { id?: unknown } | null)?.id;
    return typeof id === "string" || typeof id === "number" ? id : null;
  } catch {
    return null;
  }
}

export default {
  fetch: () => new Response("airlock-mcp-proxy is reached through airlock-router", { status: 404 }),
} satisfies ExportedHandler;
