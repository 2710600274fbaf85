import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { orgs } from "../schema.ts";

/** MCP gateway registry (mcp-proxy Worker). Times are epoch milliseconds, ids ULIDs. */

export const mcpServers = sqliteTable(
  "mcp_servers",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    /** URL-safe, unique per org (across servers and virtual servers): `/mcp/<name>`. */
    name: text("name").notNull(),
    description: text("description"),
    url: text("url").notNull(),
    transport: text("transport", { enum: ["streamable_http", "sse"] }).notNull(),
    authMode: text("auth_mode", { enum: ["none", "static", "oauth"] }).notNull(),
    /** Header the static secret is sent in (`authorization`, `x-api-key`…). */
    secretHeader: text("secret_header"),
    /** The static secret's header value, sealed (shared/secret-box.ts); never returned. */
    sealedSecret: text("sealed_secret"),
    secretHint: text("secret_hint"),
    ownerTeamId: text("owner_team_id"),
    /** Team ids that may see the server; empty means every member of the org. */
    visibleTeamIds: text("visible_team_ids", { mode: "json" }).$type<string[]>().notNull(),
    tags: text("tags", { mode: "json" }).$type<string[]>().notNull(),
    /** Extra tags per upstream tool name (e.g. `{ "drop_table": ["destructive"] }`), read by policies. */
    toolTags: text("tool_tags", { mode: "json" }).$type<Record<string, string[]>>().notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("mcp_servers_org_name").on(t.orgId, t.name)],
);

/** One upstream in a virtual server: which server, and how its tools are exposed. */
export interface VirtualMember {
  server: string;
  /** Only these upstream tools (all when absent). */
  tools?: string[];
  /** Upstream tool name → exposed name (default `server__tool`). */
  rename?: Record<string, string>;
  /** Upstream tool name → description shown instead of the upstream's. */
  descriptions?: Record<string, string>;
}

export const mcpVirtualServers = sqliteTable(
  "mcp_virtual_servers",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    name: text("name").notNull(),
    description: text("description"),
    members: text("members", { mode: "json" }).$type<VirtualMember[]>().notNull(),
    visibleTeamIds: text("visible_team_ids", { mode: "json" }).$type<string[]>().notNull(),
    tags: text("tags", { mode: "json" }).$type<string[]>().notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("mcp_virtual_servers_org_name").on(t.orgId, t.name)],
);

/**
 * A tool's pinned definition: sha-256 of canonical (name, description, inputSchema) at
 * first sight. A different definition later is held in `pending*` and the tool is
 * quarantined (hidden, not callable) until an admin approves it.
 */
export const mcpToolPins = sqliteTable(
  "mcp_tool_pins",
  {
    orgId: text("org_id").notNull().references(() => orgs.id),
    serverId: text("server_id").notNull().references(() => mcpServers.id, { onDelete: "cascade" }),
    tool: text("tool").notNull(),
    hash: text("hash").notNull(),
    status: text("status", { enum: ["approved", "quarantined"] }).notNull(),
    /** Why it is quarantined: `changed` (definition drift) or `flagged` (guardrail blocked the description). */
    reason: text("reason"),
    pendingHash: text("pending_hash"),
    pendingDefinition: text("pending_definition", { mode: "json" }).$type<Record<string, unknown>>(),
    firstSeenAt: integer("first_seen_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    approvedBy: text("approved_by"),
  },
  (t) => [primaryKey({ columns: [t.serverId, t.tool] }), index("mcp_tool_pins_org").on(t.orgId, t.serverId)],
);
