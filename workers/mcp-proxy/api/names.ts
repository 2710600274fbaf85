import { eq } from "drizzle-orm";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";

const { mcpServers, mcpVirtualServers } = schema;

/** Servers and virtual servers share `/mcp/<name>`, so a name is free only if neither uses it. */
export async function assertMcpNameFree(scope: OrgScope, name: string) {
  const [server, virtual] = await Promise.all([
    scope.db.query.mcpServers.findFirst({ where: scope.where(mcpServers, eq(mcpServers.name, name)) }),
    scope.db.query.mcpVirtualServers.findFirst({ where: scope.where(mcpVirtualServers, eq(mcpVirtualServers.name, name)) }),
  ]);
  const clash = server ?? virtual;
  if (clash) throw new ProblemError("conflict", `An MCP ${server ? "server" : "virtual server"} named ${name} already exists (${clash.id})`);
}
