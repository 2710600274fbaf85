import { eq, gt } from "drizzle-orm";
import { ulid } from "ulid";
import { decodeCursor, iso, toPage } from "../../../shared/api/cursor.ts";
import { mcpServerRoutes } from "../../../shared/api/mcp-servers.ts";
import { database, schema, type OrgScope } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { masterKey, secretBox } from "../../../shared/secret-box.ts";
import { assertPublicUrl, UnsafeUrlError } from "../../../shared/ssrf.ts";
import type { Env } from "../env.ts";
import { scopeOf, type McpApiApp } from "./app.ts";
import { assertMcpNameFree } from "./names.ts";

const { mcpServers } = schema;
export type ServerRow = typeof mcpServers.$inferSelect;

export const secretPurpose = (serverId: string) => `mcp-server:${serverId}`;
const hintOf = (value: string) => (value.length > 8 ? `…${value.slice(-4)}` : "…");

/** Never the sealed secret: its header and hint only. */
function serialize(row: ServerRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    url: row.url,
    transport: row.transport,
    auth_mode: row.authMode,
    secret: row.sealedSecret && row.secretHeader ? { header: row.secretHeader, hint: row.secretHint ?? "…" } : null,
    owner_team_id: row.ownerTeamId,
    visible_team_ids: row.visibleTeamIds,
    tags: row.tags,
    tool_tags: row.toolTags,
    enabled: row.enabled,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

export async function findServer(scope: OrgScope, id: string): Promise<ServerRow> {
  const row = await scope.db.query.mcpServers.findFirst({ where: scope.where(mcpServers, eq(mcpServers.id, id)) });
  if (!row) throw new ProblemError("not_found", `No MCP server ${id} in this org`);
  return row;
}

/** An upstream Airlock may not call is refused when registered, not discovered at the first request. */
function checkUrl(env: Env, url: string) {
  try {
    assertPublicUrl(url, { allowPrivate: env.ALLOW_PRIVATE_UPSTREAMS === "true" });
  } catch (error) {
    if (!(error instanceof UnsafeUrlError)) throw error;
    throw new ProblemError("validation_failed", `The server URL is not allowed: it ${error.message}`, [{ path: "url", message: error.message }]);
  }
}

function checkAuth(authMode: ServerRow["authMode"], hasSecret: boolean) {
  if (authMode === "static" && !hasSecret) {
    throw new ProblemError("validation_failed", "auth_mode static needs a secret", [{ path: "secret", message: "required when auth_mode is static" }]);
  }
  if (authMode === "oauth") {
    throw new ProblemError("validation_failed", "Per-user upstream OAuth is not available yet; use none or static", [{ path: "auth_mode", message: "oauth is not supported yet" }]);
  }
}

async function seal(env: Env, scope: OrgScope, id: string, value: string) {
  const box = secretBox(database(env.DB), await masterKey(env.MASTER_KEY), scope.orgId);
  return box.seal(value, secretPurpose(id));
}

export function registerServers(app: McpApiApp) {
  app.openapi(mcpServerRoutes.list, async (c) => {
    const scope = scopeOf(c);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const rows = await scope.db.select().from(mcpServers)
      .where(scope.where(mcpServers, after ? gt(mcpServers.id, after) : undefined))
      .orderBy(mcpServers.id).limit(limit + 1);
    return c.json(toPage(rows, limit, serialize), 200);
  });

  app.openapi(mcpServerRoutes.create, async (c) => {
    const scope = scopeOf(c);
    const env = c.env.env;
    const body = c.req.valid("json");
    checkUrl(env, body.url);
    checkAuth(body.auth_mode, body.secret !== undefined);
    await assertMcpNameFree(scope, body.name);
    const id = ulid();
    const now = Date.now();
    const secret = body.auth_mode === "static" && body.secret ? body.secret : null;
    const [row] = await scope.db.insert(mcpServers).values({
      id, orgId: scope.orgId, name: body.name, description: body.description ?? null, url: body.url,
      transport: body.transport, authMode: body.auth_mode,
      secretHeader: secret?.header.toLowerCase() ?? null,
      sealedSecret: secret ? await seal(env, scope, id, secret.value) : null,
      secretHint: secret ? hintOf(secret.value) : null,
      ownerTeamId: body.owner_team_id ?? null, visibleTeamIds: body.visible_team_ids, tags: body.tags,
      toolTags: body.tool_tags, enabled: body.enabled, createdAt: now, updatedAt: now,
    }).returning();
    return c.json(serialize(row!), 201);
  });

  app.openapi(mcpServerRoutes.get, async (c) => c.json(serialize(await findServer(scopeOf(c), c.req.valid("param").id)), 200));

  app.openapi(mcpServerRoutes.update, async (c) => {
    const scope = scopeOf(c);
    const env = c.env.env;
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const current = await findServer(scope, id);
    if (body.url !== undefined) checkUrl(env, body.url);
    if (body.name !== undefined && body.name !== current.name) await assertMcpNameFree(scope, body.name);
    const authMode = body.auth_mode ?? current.authMode;
    const keepsSecret = body.secret === undefined ? current.sealedSecret !== null : body.secret !== null;
    checkAuth(authMode, keepsSecret);
    const secretChange =
      authMode !== "static" || body.secret === null
        ? { secretHeader: null, sealedSecret: null, secretHint: null }
        : body.secret
          ? { secretHeader: body.secret.header.toLowerCase(), sealedSecret: await seal(env, scope, id, body.secret.value), secretHint: hintOf(body.secret.value) }
          : {};
    const [row] = await scope.db.update(mcpServers).set({
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.url !== undefined ? { url: body.url } : {}),
      ...(body.transport !== undefined ? { transport: body.transport } : {}),
      authMode,
      ...secretChange,
      ...(body.owner_team_id !== undefined ? { ownerTeamId: body.owner_team_id } : {}),
      ...(body.visible_team_ids !== undefined ? { visibleTeamIds: body.visible_team_ids } : {}),
      ...(body.tags !== undefined ? { tags: body.tags } : {}),
      ...(body.tool_tags !== undefined ? { toolTags: body.tool_tags } : {}),
      ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
      updatedAt: Date.now(),
    }).where(scope.where(mcpServers, eq(mcpServers.id, id))).returning();
    return c.json(serialize(row!), 200);
  });

  app.openapi(mcpServerRoutes.delete, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    await findServer(scope, id);
    await scope.db.batch([
      scope.db.delete(schema.mcpToolPins).where(scope.where(schema.mcpToolPins, eq(schema.mcpToolPins.serverId, id))),
      scope.db.delete(mcpServers).where(scope.where(mcpServers, eq(mcpServers.id, id))),
    ]);
    return c.body(null, 204);
  });
}
