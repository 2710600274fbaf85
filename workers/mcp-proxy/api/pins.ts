import { and, eq } from "drizzle-orm";
import { iso } from "../../../shared/api/cursor.ts";
import { mcpServerRoutes } from "../../../shared/api/mcp-servers.ts";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { scopeOf, type McpApiApp } from "./app.ts";
import { findServer } from "./servers.ts";

const { mcpToolPins } = schema;
type PinRow = typeof mcpToolPins.$inferSelect;

const serialize = (row: PinRow) => ({
  server_id: row.serverId,
  tool: row.tool,
  hash: row.hash,
  status: row.status,
  reason: row.reason,
  pending_hash: row.pendingHash,
  pending_definition: row.pendingDefinition,
  first_seen_at: iso(row.firstSeenAt),
  updated_at: iso(row.updatedAt),
  approved_by: row.approvedBy,
});

const pinWhere = (scope: OrgScope, serverId: string, tool: string) =>
  scope.where(mcpToolPins, and(eq(mcpToolPins.serverId, serverId), eq(mcpToolPins.tool, tool)));

async function findPin(scope: OrgScope, serverId: string, tool: string) {
  const row = await scope.db.query.mcpToolPins.findFirst({ where: pinWhere(scope, serverId, tool) });
  if (!row) throw new ProblemError("not_found", `No pin for tool ${tool} on server ${serverId}`);
  return row;
}

export function registerPins(app: McpApiApp) {
  app.openapi(mcpServerRoutes.listPins, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    await findServer(scope, id);
    const rows = await scope.db.select().from(mcpToolPins).where(scope.where(mcpToolPins, eq(mcpToolPins.serverId, id))).orderBy(mcpToolPins.tool);
    return c.json({ data: rows.map(serialize) }, 200);
  });

  app.openapi(mcpServerRoutes.approvePin, async (c) => {
    const scope = scopeOf(c);
    const { id, tool } = c.req.valid("param");
    const pin = await findPin(scope, id, tool);
    if (pin.status !== "quarantined") throw new ProblemError("conflict", `Tool ${tool} is not quarantined`);
    const { principal } = c.env.context;
    const [row] = await scope.db.update(mcpToolPins).set({
      hash: pin.pendingHash ?? pin.hash, status: "approved", reason: null, pendingHash: null, pendingDefinition: null,
      approvedBy: principal.email ?? principal.credential_id, updatedAt: Date.now(),
    }).where(pinWhere(scope, id, tool)).returning();
    return c.json(serialize(row!), 200);
  });

  app.openapi(mcpServerRoutes.deletePin, async (c) => {
    const scope = scopeOf(c);
    const { id, tool } = c.req.valid("param");
    await findPin(scope, id, tool);
    await scope.db.delete(mcpToolPins).where(pinWhere(scope, id, tool));
    return c.body(null, 204);
  });
}
