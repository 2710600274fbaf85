import { createRoute, z } from "@hono/zod-openapi";
import { SELF_SERVICE, Timestamp, commonErrors, json, noContent, notFound } from "./common.ts";

/**
 * A user's connections to upstream MCP servers with `auth_mode: oauth` (their tokens are
 * sealed in the vault and never returned). An agent credential bound to a user (API key,
 * OAuth) sees and revokes its own user's; an admin token any user's.
 */
export const McpConnection = z
  .object({
    server_id: z.string(),
    server_name: z.string(),
    user_id: z.string(),
    scope: z.string().nullable(),
    /** When the current upstream access token expires (it is refreshed as needed). */
    expires_at: Timestamp.nullable(),
    connected_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("McpConnection");

const UserQuery = z.object({ user_id: z.string().min(1).max(64).optional() });
const ServerParam = z.object({ server_id: z.string().min(1).max(64).openapi({ param: { name: "server_id", in: "path" } }) });
const tags = ["MCP connections"];

export const mcpConnectionRoutes = {
  list: createRoute({
    method: "get", path: "/mcp-connections", ...SELF_SERVICE, tags, summary: "List upstream MCP connections (the caller's own, or a user's for an admin)",
    request: { query: UserQuery },
    responses: { 200: json(z.object({ data: z.array(McpConnection) }), "The connections"), ...commonErrors },
  }),
  revoke: createRoute({
    method: "delete", path: "/mcp-connections/{server_id}", ...SELF_SERVICE, tags, summary: "Revoke a connection: the user's upstream tokens are deleted",
    request: { params: ServerParam, query: UserQuery },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
};
