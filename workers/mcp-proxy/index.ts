import { WorkerEntrypoint } from "cloudflare:workers";
import type { Health, McpRpc } from "../../shared/rpc.ts";

/** Wired into the mesh now; its capabilities arrive with their own issues. */
export class McpService extends WorkerEntrypoint implements McpRpc {
  async health(): Promise<Health> {
    return { worker: "mcp-proxy", ok: true };
  }
}

export default {
  fetch: () => new Response("airlock-mcp-proxy is reached through airlock-router", { status: 404 }),
} satisfies ExportedHandler;
