import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Times are Unix epoch milliseconds. Ids are ULIDs (sortable, so they double as cursors). */
const createdAt = () => integer("created_at").notNull();

export const orgs = sqliteTable("orgs", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  createdAt: createdAt(),
});

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    email: text("email").notNull(),
    name: text("name"),
    status: text("status", { enum: ["active", "deactivated"] }).notNull().default("active"),
    createdAt: createdAt(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("users_org_email").on(t.orgId, t.email)],
);

export const teams = sqliteTable(
  "teams",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    name: text("name").notNull(),
    description: text("description"),
    createdAt: createdAt(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("teams_org_name").on(t.orgId, t.name)],
);

export const teamMemberships = sqliteTable(
  "team_memberships",
  {
    orgId: text("org_id").notNull().references(() => orgs.id),
    teamId: text("team_id").notNull().references(() => teams.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] }), index("memberships_org_user").on(t.orgId, t.userId)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    name: text("name").notNull(),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    secretHash: text("secret_hash").notNull(),
    hint: text("hint").notNull(),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    expiresAt: integer("expires_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("api_keys_org").on(t.orgId, t.id)],
);

export const adminTokens = sqliteTable(
  "admin_tokens",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    name: text("name").notNull(),
    role: text("role", { enum: ["owner", "admin", "auditor"] }).notNull(),
    secretHash: text("secret_hash").notNull(),
    hint: text("hint").notNull(),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    expiresAt: integer("expires_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("admin_tokens_org").on(t.orgId, t.id)],
);

/** Append-only. `org_id` is null for platform events (operator API, unknown hosts). */
export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id"),
    time: integer("time").notNull(),
    requestId: text("request_id").notNull(),
    typeUid: integer("type_uid").notNull(),
    statusId: integer("status_id").notNull(),
    actorUserId: text("actor_user_id"),
    credentialId: text("credential_id"),
    event: text("event", { mode: "json" }).notNull(),
  },
  (t) => [index("audit_events_org_id").on(t.orgId, t.id), index("audit_events_request").on(t.requestId)],
);
