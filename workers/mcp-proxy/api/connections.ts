import { and, eq } from "drizzle-orm";
import { iso } from "../../../shared/api/cursor.ts";
import { mcpConnectionRoutes } from "../../../shared/api/mcp-connections.ts";
import { schema } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import type { Principal } from "../../../shared/principal.ts";
import { oauthServer } from "../upstream-oauth/server-config.ts";
import { revokeTokens } from "../upstream-oauth/vault.ts";
import { scopeOf, type McpApiApp } from "./app.ts";

const { mcpOAuthTokens, mcpServers } = schema;

/** Whose connections: an agent credential only ever its own user's; an admin token the named user's (or everyone's, listing). */
function userOf(principal: Principal, asked: string | undefined, required: boolean): string | undefined {
  if (principal.kind === "admin_token") {
    if (required && !asked) throw new ProblemError("validation_failed", "Name the user whose connection to revoke", [{ path: "user_id", message: "required with an admin token" }]);
    return asked;
  }
  if (!principal.user_id) throw new ProblemError("forbidden", "This credential is bound to no user, so it has no connections");
  if (asked && asked !== principal.user_id) throw new ProblemError("forbidden", "A user's credential sees only its own connections");
  return principal.user_id;
}

export function registerConnections(app: McpApiApp) {
  app.openapi(mcpConnectionRoutes.list, async (c) => {
    const scope = scopeOf(c);
    const userId = userOf(c.env.context.principal, c.req.valid("query").user_id, false);
    const rows = await scope.db.select({ token: mcpOAuthTokens, serverName: mcpServers.name }).from(mcpOAuthTokens)
      .innerJoin(mcpServers, and(eq(mcpServers.id, mcpOAuthTokens.serverId), eq(mcpServers.orgId, scope.orgId)))
      .where(scope.where(mcpOAuthTokens, userId ? eq(mcpOAuthTokens.userId, userId) : undefined))
      .orderBy(mcpOAuthTokens.userId, mcpServers.name).limit(500);
    const data = rows.map(({ token, serverName }) => ({
      server_id: token.serverId, server_name: serverName, user_id: token.userId, scope: token.scope,
      expires_at: token.expiresAt === null ? null : iso(token.expiresAt), connected_at: iso(token.createdAt), updated_at: iso(token.updatedAt),
    }));
    return c.json({ data }, 200);
  });

  app.openapi(mcpConnectionRoutes.revoke, async (c) => {
    const scope = scopeOf(c);
    const userId = userOf(c.env.context.principal, c.req.valid("query").user_id, true)!;
    const serverId = c.req.valid("param").server_id;
    const server = await oauthServer(c.env.env, scope.orgId, serverId);
    const deleted = await revokeTokens(c.env.env, { orgId: scope.orgId, serverId, userId }, server?.oauth ?? null);
    if (!deleted) throw new ProblemError("not_found", "No such connection for this user");
    return c.body(null, 204);
  });
}
