import { eq, gt, inArray } from "drizzle-orm";
import { ulid } from "../../../shared/ids.ts";
import { decodeCursor, iso, toPage } from "../../../shared/api/cursor.ts";
import { mcpVirtualServerRoutes } from "../../../shared/api/mcp-servers.ts";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import type { VirtualMember } from "../../../shared/db/tables/mcp.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { scopeOf, type McpApiApp } from "./app.ts";
import { assertMcpNameFree } from "./names.ts";

const { mcpVirtualServers, mcpServers } = schema;
type VirtualRow = typeof mcpVirtualServers.$inferSelect;

const serialize = (row: VirtualRow) => ({
  id: row.id,
  name: row.name,
  description: row.description,
  members: row.members,
  visible_team_ids: row.visibleTeamIds,
  tags: row.tags,
  enabled: row.enabled,
  created_at: iso(row.createdAt),
  updated_at: iso(row.updatedAt),
});

async function findVirtual(scope: OrgScope, id: string) {
  const row = await scope.db.query.mcpVirtualServers.findFirst({ where: scope.where(mcpVirtualServers, eq(mcpVirtualServers.id, id)) });
  if (!row) throw new ProblemError("not_found", `No virtual MCP server ${id} in this org`);
  return row;
}

/** Every member names a registered server, once; exposed tool names are unique. */
async function checkMembers(scope: OrgScope, members: VirtualMember[]) {
  const names = members.map((m) => m.server);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate) throw new ProblemError("validation_failed", `Server ${duplicate} is listed twice`, [{ path: "members", message: "duplicate server" }]);
  const found = await scope.db.select({ name: mcpServers.name }).from(mcpServers).where(scope.where(mcpServers, inArray(mcpServers.name, names)));
  const missing = names.filter((name) => !found.some((row) => row.name === name));
  if (missing.length > 0) {
    throw new ProblemError("validation_failed", `No MCP server named ${missing.join(", ")} in this org`, missing.map((name) => ({ path: "members", message: `unknown server ${name}` })));
  }
  const renamed = members.flatMap((m) => Object.values(m.rename ?? {}));
  const clash = renamed.find((name, i) => renamed.indexOf(name) !== i);
  if (clash) throw new ProblemError("validation_failed", `Two tools are renamed to ${clash}`, [{ path: "members", message: "duplicate exposed name" }]);
}

export function registerVirtualServers(app: McpApiApp) {
  app.openapi(mcpVirtualServerRoutes.list, async (c) => {
    const scope = scopeOf(c);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const rows = await scope.db.select().from(mcpVirtualServers)
      .where(scope.where(mcpVirtualServers, after ? gt(mcpVirtualServers.id, after) : undefined))
      .orderBy(mcpVirtualServers.id).limit(limit + 1);
    return c.json(toPage(rows, limit, serialize), 200);
  });

  app.openapi(mcpVirtualServerRoutes.create, async (c) => {
    const scope = scopeOf(c);
    const body = c.req.valid("json");
    await assertMcpNameFree(scope, body.name);
    await checkMembers(scope, body.members);
    const now = Date.now();
    const [row] = await scope.db.insert(mcpVirtualServers).values({
      id: ulid(), orgId: scope.orgId, name: body.name, description: body.description ?? null, members: body.members,
      visibleTeamIds: body.visible_team_ids, tags: body.tags, enabled: body.enabled, createdAt: now, updatedAt: now,
    }).returning();
    return c.json(serialize(row!), 201);
  });

  app.openapi(mcpVirtualServerRoutes.get, async (c) => c.json(serialize(await findVirtual(scopeOf(c), c.req.valid("param").id)), 200));

  app.openapi(mcpVirtualServerRoutes.update, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const current = await findVirtual(scope, id);
    if (body.name !== undefined && body.name !== current.name) await assertMcpNameFree(scope, body.name);
    if (body.members !== undefined) await checkMembers(scope, body.members);
    const [row] = await scope.db.update(mcpVirtualServers).set({
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.members !== undefined ? { members: body.members } : {}),
      ...(body.visible_team_ids !== undefined ? { visibleTeamIds: body.visible_team_ids } : {}),
      ...(body.tags !== undefined ? { tags: body.tags } : {}),
      ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
      updatedAt: Date.now(),
    }).where(scope.where(mcpVirtualServers, eq(mcpVirtualServers.id, id))).returning();
    return c.json(serialize(row!), 200);
  });

  app.openapi(mcpVirtualServerRoutes.delete, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    await findVirtual(scope, id);
    await scope.db.delete(mcpVirtualServers).where(scope.where(mcpVirtualServers, eq(mcpVirtualServers.id, id)));
    return c.body(null, 204);
  });
}
