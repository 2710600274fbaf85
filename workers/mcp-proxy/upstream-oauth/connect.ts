import type { McpRequestContext } from "../../../shared/rpc.ts";
import type { McpAttributes } from "../call.ts";
import type { Env } from "../env.ts";
import { rpcError, RPC, type JsonRpcId } from "../jsonrpc.ts";
import { visibleTo, type Registry, type UpstreamServer, type VirtualServer } from "../registry.ts";
import { OAuthSetupError } from "./client.ts";
import { sealTicket } from "./ticket.ts";
import { accessToken, refreshAccessToken, type VaultKey } from "./vault.ts";

/** The user's upstream authorization is gone (refresh refused): carries the client's connect-required answer. */
export class ConnectRequired extends Error {
  override readonly name = "ConnectRequired";
  readonly connectUrl: string;
  constructor(connectUrl: string) {
    super("connect required");
    this.connectUrl = connectUrl;
  }
}

export function connectRequiredError(id: JsonRpcId | null, server: string, connectUrl: string): Response {
  return rpcError(id, RPC.connectRequired, `MCP server '${server}': connect required: open ${connectUrl} in a browser to connect your account, then retry`, 200, { connect_url: connectUrl });
}

/** The path the router sends to `McpRpc.connectAccount` (no Airlock credential: the browser follows it). */
export const CONNECT_PATH = "/mcp-connect";

async function connectUrl(env: Env, origin: string, key: VaultKey): Promise<string> {
  const ticket = await sealTicket(env, key.orgId, { userId: key.userId, serverId: key.serverId });
  return `${origin}${CONNECT_PATH}/start?ticket=${encodeURIComponent(ticket)}`;
}

/**
 * For a server with `auth_mode: oauth`: the server as this user reaches it (their own upstream
 * token, refreshed once on a 401), or the JSON-RPC answer that stops the call: connect
 * required (with the URL), or no user to connect for.
 */
async function connectedServer(env: Env, context: McpRequestContext, server: UpstreamServer, id: JsonRpcId | null, origin: string): Promise<UpstreamServer | Response> {
  const client = server.oauth!;
  const userId = context.principal.user_id;
  if (!userId) {
    return rpcError(id, RPC.connectRequired, `MCP server '${server.name}' needs each user's own account, and this credential is bound to no user: use a user's API key or sign in with OAuth`, 200);
  }
  const key: VaultKey = { orgId: context.org.id, serverId: server.id, userId };
  let token: string | null;
  try {
    token = await accessToken(env, key, client, server.url, context.configVersion);
  } catch (error) {
    if (!(error instanceof OAuthSetupError)) throw error;
    return rpcError(id, RPC.upstreamUnavailable, `MCP server '${server.name}': ${error.message}`, 502);
  }
  if (!token) return connectRequiredError(id, server.name, await connectUrl(env, origin, key));
  return {
    ...server,
    secret: { header: "authorization", value: `Bearer ${token}` },
    reauthorize: async () => {
      const fresh = await refreshAccessToken(env, key, client, server.url).catch((error: unknown) => {
        if (error instanceof OAuthSetupError) return null;
        throw error;
      });
      if (!fresh) throw new ConnectRequired(await connectUrl(env, origin, key));
      return { header: "authorization", value: `Bearer ${fresh}` };
    },
  };
}

/**
 * This request's view of the registry: the OAuth servers it reaches (the server, or a virtual
 * server's members this principal may see) carry the user's own token. The shared cached
 * registry is never changed; without OAuth servers it is returned as is.
 */
export async function connectedRegistry(
  env: Env, context: McpRequestContext, registry: Registry, target: UpstreamServer | VirtualServer, id: JsonRpcId | null, origin: string, attributes: McpAttributes,
): Promise<Registry | Response> {
  const teams = context.principal.teams.map((t) => t.id);
  const reached = "members" in target
    ? target.members.flatMap((m) => {
        const server = registry.servers.get(m.server);
        return server && visibleTo(server, teams) ? [server] : [];
      })
    : [target];
  const oauth = reached.filter((server) => server.oauth);
  if (oauth.length === 0) return registry;
  const resolved = await Promise.all(oauth.map((server) => connectedServer(env, context, server, id, origin)));
  const servers = new Map(registry.servers);
  for (const server of resolved) {
    if (server instanceof Response) {
      attributes["airlock.reason"] = "connect_required";
      return server;
    }
    servers.set(server.name, server);
  }
  return { ...registry, servers };
}
