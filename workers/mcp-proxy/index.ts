import { WorkerEntrypoint } from "cloudflare:workers";
import { apiApp } from "../../shared/api/app.ts";
import type { ApiContext, Health, McpRpc } from "../../shared/rpc.ts";
import { adminApp } from "./api/app.ts";
import { registerConnections } from "./api/connections.ts";
import { registerPins } from "./api/pins.ts";
import { registerServers } from "./api/servers.ts";
import { registerVirtualServers } from "./api/virtual-servers.ts";
import { requestContext } from "./context.ts";
import type { Env } from "./env.ts";
import { serve } from "./serve.ts";
import { serveConnect } from "./upstream-oauth/flow.ts";
import { page } from "./upstream-oauth/page.ts";

const admin = adminApp();
registerServers(admin);
registerPins(admin);
registerVirtualServers(admin);
registerConnections(admin);
const api = apiApp<Env>();
api.route("/", admin);

/**
 * The MCP gateway. The router has authenticated the request for this very server (token
 * audience or API key); here the registry, sessions, policy, pins and inspection apply.
 */
export class McpService extends WorkerEntrypoint<Env> implements McpRpc {
  async health(): Promise<Health> {
    await this.env.DB.prepare("SELECT 1").first();
    return { worker: "mcp-proxy", ok: true };
  }

  /** `/mcp/<server>…` from the router, which authenticated it and says so in MCP_CONTEXT_HEADER. */
  override async fetch(request: Request): Promise<Response> {
    const context = requestContext(request.headers);
    if (!context) return new Response("airlock-mcp-proxy is reached through airlock-router", { status: 400 });
    return serve(this.env, (promise) => this.ctx.waitUntil(promise), request, context);
  }

  async connectAccount(request: Request, context: { requestId: string; orgSlug: string }): Promise<Response> {
    const org = await this.env.AUTH.resolveOrg(context.orgSlug);
    if (!org) return page(404, "Not found", "No org answers at this host.");
    return serveConnect(this.env, request, org);
  }

  api(request: Request, context: ApiContext): Promise<Response> {
    return Promise.resolve(api.fetch(request, { env: this.env, context }, this.ctx));
  }
}

export default {
  fetch: () => new Response("airlock-mcp-proxy is reached through airlock-router", { status: 404 }),
} satisfies ExportedHandler;
