import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { orgs } from "../schema.ts";

export const LIMIT_SCOPES = ["key", "user", "team", "org"] as const;

/**
 * A rate limit and budget rule (issue 6): one per scope (an API key or OAuth grant, a user,
 * a team, or the org when `scope_id` is null). Dollar limits are micro-dollars. The counters
 * live in the org's OrgState Durable Object, not here.
 */
export const limitRules = sqliteTable(
  "limit_rules",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    scope: text("scope", { enum: LIMIT_SCOPES }).notNull(),
    scopeId: text("scope_id"),
    requestsPerMinute: integer("requests_per_minute"),
    tokensPerMinute: integer("tokens_per_minute"),
    usdPerDayMicros: integer("usd_per_day_micros"),
    usdPerMonthMicros: integer("usd_per_month_micros"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("limit_rules_org_scope").on(t.orgId, t.scope, t.scopeId)],
);
