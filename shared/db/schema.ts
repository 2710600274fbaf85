import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

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
    /** The id the org's provisioning system (SCIM `externalId`) knows the user by. */
    externalId: text("external_id"),
    /** The IdP's `sub` for this user, set at first SSO sign-in. */
    idpSubject: text("idp_subject"),
    /** Raw SCIM attributes Airlock does not model (name parts, title…), kept so GETs round-trip. */
    scimAttributes: text("scim_attributes", { mode: "json" }).$type<Record<string, unknown>>(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_org_email").on(t.orgId, t.email),
    uniqueIndex("users_org_idp_subject").on(t.orgId, t.idpSubject),
    index("users_org_external_id").on(t.orgId, t.externalId),
  ],
);

export const teams = sqliteTable(
  "teams",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    name: text("name").notNull(),
    description: text("description"),
    /** The group's display name in the IdP or SCIM (`name` is the slug derived from it). */
    displayName: text("display_name"),
    externalId: text("external_id"),
    createdAt: createdAt(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("teams_org_name").on(t.orgId, t.name), index("teams_org_external_id").on(t.orgId, t.externalId)],
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

/**
 * Per-org data keys for secrets at rest (AES-GCM envelope): each org's key is stored
 * wrapped by the master key secret, so rotating the master key rewraps rows, not data.
 */
export const orgKeys = sqliteTable(
  "org_keys",
  {
    orgId: text("org_id").notNull().references(() => orgs.id),
    version: integer("version").notNull(),
    wrappedKey: text("wrapped_key").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.version] })],
);

/** Org guardrail settings; absent row = shipped defaults. */
export const guardrailSettings = sqliteTable("guardrail_settings", {
  orgId: text("org_id").primaryKey().references(() => orgs.id),
  failMode: text("fail_mode", { enum: ["closed", "open"] }).notNull(),
  redaction: text("redaction", { enum: ["placeholder", "mask"] }).notNull(),
  maxScanBytes: integer("max_scan_bytes").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * What to do when a detector fires. `detector` is a detector id, `category:<name>` or `*`;
 * `directions` a JSON array of directions (empty = all). The most specific rule wins.
 */
export const guardrailRules = sqliteTable(
  "guardrail_rules",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    detector: text("detector").notNull(),
    directions: text("directions", { mode: "json" }).$type<string[]>().notNull(),
    action: text("action", { enum: ["block", "redact", "alert", "log", "allow"] }).notNull(),
    threshold: real("threshold").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("guardrail_rules_org").on(t.orgId, t.id)],
);

/** Org-defined detectors: a linear-time-safe regex or a keyword dictionary. */
export const customDetectors = sqliteTable(
  "custom_detectors",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    name: text("name").notNull(),
    kind: text("kind", { enum: ["regex", "keywords"] }).notNull(),
    pattern: text("pattern"),
    keywords: text("keywords", { mode: "json" }).$type<string[]>(),
    caseSensitive: integer("case_sensitive", { mode: "boolean" }).notNull(),
    score: real("score").notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("custom_detectors_org_name").on(t.orgId, t.name)],
);

/** Where alerts go. Secret parts of the config (URLs with tokens, keys) are sealed. */
export const alertDestinations = sqliteTable(
  "alert_destinations",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    name: text("name").notNull(),
    kind: text("kind", { enum: ["slack", "pagerduty", "webhook", "splunk_hec", "datadog"] }).notNull(),
    settings: text("settings", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    sealedSecret: text("sealed_secret").notNull(),
    minSeverity: integer("min_severity").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("alert_destinations_org").on(t.orgId, t.id)],
);

/** Dedup and per-rule rate limiting of alerts: one row per (org, key, window). */
export const alertThrottle = sqliteTable(
  "alert_throttle",
  {
    orgId: text("org_id").notNull(),
    key: text("key").notNull(),
    windowStart: integer("window_start").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.key, t.windowStart] })],
);

/** SCIM bearer tokens (SHA-256 only); rotation revokes the previous one. */
export const scimTokens = sqliteTable(
  "scim_tokens",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    secretHash: text("secret_hash").notNull(),
    hint: text("hint").notNull(),
    createdAt: createdAt(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("scim_tokens_org").on(t.orgId, t.id)],
);

/** The org's OIDC identity provider for SSO. The client secret is sealed. */
export const idpConfigs = sqliteTable("idp_configs", {
  orgId: text("org_id").primaryKey().references(() => orgs.id),
  issuer: text("issuer").notNull(),
  clientId: text("client_id").notNull(),
  sealedClientSecret: text("sealed_client_secret"),
  scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
  /** Claim names: `{ email, name, groups }`. */
  claims: text("claims", { mode: "json" }).$type<Record<string, string>>().notNull(),
  /** IdP group value → team name; unmapped groups are ignored unless `autoCreateTeams`. */
  groupTeams: text("group_teams", { mode: "json" }).$type<Record<string, string>>().notNull(),
  autoCreateTeams: integer("auto_create_teams", { mode: "boolean" }).notNull(),
  enabled: integer("enabled", { mode: "boolean" }).notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** OAuth authorization-server options per org. */
export const oauthSettings = sqliteTable("oauth_settings", {
  orgId: text("org_id").primaryKey().references(() => orgs.id),
  dynamicRegistration: integer("dynamic_registration", { mode: "boolean" }).notNull(),
  clientMetadataDocuments: integer("client_metadata_documents", { mode: "boolean" }).notNull(),
  accessTokenTtlSeconds: integer("access_token_ttl_seconds").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
export * from "./tables/model-gateway.ts";
export * from "./tables/policies.ts";
export * from "./tables/mcp.ts";
export * from "./tables/limits.ts";
export * from "./tables/mcp-oauth.ts";
