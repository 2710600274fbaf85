import { and, eq, gt, isNotNull, isNull } from "drizzle-orm";
import { ulid } from "../../../shared/ids.ts";
import { decodeCursor, iso, toPage } from "../../../shared/api/cursor.ts";
import { limitRoutes } from "../../../shared/api/limits.ts";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { LIMITS, type LimitName, type LimitScope } from "../../../shared/limits/limits.ts";
import { limitsOf } from "../../../shared/limits/rules.ts";
import { windowEnd, windowStart } from "../../../shared/limits/windows.ts";
import { orgState } from "../org-state.ts";
import { scopeOf, type AuthApiApp } from "./app.ts";

const { apiKeys, limitRules, teams, users } = schema;
type RuleRow = typeof limitRules.$inferSelect;
type Limits = Partial<Record<LimitName, number | null>>;

const toUsd = (micros: number | null) => (micros === null ? null : micros / 1e6);
const toMicros = (usd: number | null | undefined) => (usd == null ? usd : Math.round(usd * 1e6));

const serialize = (row: RuleRow) => ({
  id: row.id,
  scope: row.scope,
  scope_id: row.scopeId,
  requests_per_minute: row.requestsPerMinute,
  tokens_per_minute: row.tokensPerMinute,
  usd_per_day: toUsd(row.usdPerDayMicros),
  usd_per_month: toUsd(row.usdPerMonthMicros),
  created_at: iso(row.createdAt),
  updated_at: iso(row.updatedAt),
});

/** The API's limits (dollars) as columns (micro-dollars); undefined leaves a column as it is. */
const columnsOf = (body: Limits) => ({
  requestsPerMinute: body.requests_per_minute,
  tokensPerMinute: body.tokens_per_minute,
  usdPerDayMicros: toMicros(body.usd_per_day),
  usdPerMonthMicros: toMicros(body.usd_per_month),
});

/** The key, user or team a rule names must exist in this org. */
const SCOPE_TABLES = { key: [apiKeys, "API key"], user: [users, "user"], team: [teams, "team"] } as const;

async function assertScopeExists(scope: OrgScope, kind: LimitScope, id: string | null) {
  if (kind === "org" || id === null) return;
  const [table, label] = SCOPE_TABLES[kind];
  const [row] = await scope.db.select({ id: table.id }).from(table).where(scope.where(table, eq(table.id, id))).limit(1);
  if (!row) throw new ProblemError("validation_failed", `No ${label} ${id} in this org`, [{ path: "scope_id", message: `no ${label} with this id in this org` }]);
  // Revoking a key deletes its rules (credentials.ts); a new one could never apply either.
  if (kind === "key") {
    const [revoked] = await scope.db.select({ id: apiKeys.id }).from(apiKeys).where(scope.where(apiKeys, eq(apiKeys.id, id), isNotNull(apiKeys.revokedAt))).limit(1);
    if (revoked) throw new ProblemError("validation_failed", `API key ${id} is revoked`, [{ path: "scope_id", message: "this API key is revoked" }]);
  }
}

async function findRule(scope: OrgScope, id: string): Promise<RuleRow> {
  const row = await scope.db.query.limitRules.findFirst({ where: scope.where(limitRules, eq(limitRules.id, id)) });
  if (!row) throw new ProblemError("not_found", `No limit rule ${id} in this org`);
  return row;
}

export function registerLimits(app: AuthApiApp) {
  app.openapi(limitRoutes.list, async (c) => {
    const scope = scopeOf(c);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const rows = await scope.db
      .select()
      .from(limitRules)
      .where(scope.where(limitRules, after ? gt(limitRules.id, after) : undefined))
      .orderBy(limitRules.id)
      .limit(limit + 1);
    return c.json(toPage(rows, limit, serialize), 200);
  });

  // Registered before /limits/{id}, which would otherwise take `spend` for an id.
  app.openapi(limitRoutes.spend, async (c) => {
    const scope = scopeOf(c);
    const rules = await scope.db.select().from(limitRules).where(scope.where(limitRules)).orderBy(limitRules.id);
    const { now, counters } = await orgState(c.env.env, scope.orgId).spend();
    const data = rules.map((rule) => {
      const scopeId = rule.scope === "org" ? scope.orgId : rule.scopeId;
      const limits = limitsOf(rule);
      const windows = LIMITS.map(({ limit, metric, window: win }) => {
        const start = windowStart(win, now);
        const counter = counters.find((x) => x.scope === rule.scope && x.scope_id === scopeId && x.metric === metric && x.win === win && x.window_start === start);
        const unit = metric === "cost_micros" ? (n: number) => n / 1e6 : (n: number) => n;
        const max = limits[limit];
        return [limit, {
          limit: max === undefined ? null : unit(max),
          used: unit(counter?.used ?? 0),
          reserved: unit(counter?.reserved ?? 0),
          resets_at: iso(windowEnd(win, start)),
        }] as const;
      });
      return { rule_id: rule.id, scope: rule.scope, scope_id: rule.scopeId, ...(Object.fromEntries(windows) as Record<LimitName, (typeof windows)[number][1]>) };
    });
    return c.json({ as_of: iso(now), data }, 200);
  });

  app.openapi(limitRoutes.create, async (c) => {
    const scope = scopeOf(c);
    const body = c.req.valid("json");
    const scopeId = body.scope_id ?? null;
    await assertScopeExists(scope, body.scope, scopeId);
    const clash = await scope.db.query.limitRules.findFirst({
      where: scope.where(limitRules, and(eq(limitRules.scope, body.scope), scopeId === null ? isNull(limitRules.scopeId) : eq(limitRules.scopeId, scopeId))),
    });
    if (clash) throw new ProblemError("conflict", `This ${body.scope} already has a limit rule (${clash.id}); change it with PATCH /limits/${clash.id}`);
    const now = Date.now();
    const columns = columnsOf(body);
    const [row] = await scope.db
      .insert(limitRules)
      .values({
        id: ulid(), orgId: scope.orgId, scope: body.scope, scopeId,
        requestsPerMinute: columns.requestsPerMinute ?? null,
        tokensPerMinute: columns.tokensPerMinute ?? null,
        usdPerDayMicros: columns.usdPerDayMicros ?? null,
        usdPerMonthMicros: columns.usdPerMonthMicros ?? null,
        createdAt: now, updatedAt: now,
      })
      .returning();
    return c.json(serialize(row!), 201);
  });

  app.openapi(limitRoutes.get, async (c) => {
    return c.json(serialize(await findRule(scopeOf(c), c.req.valid("param").id)), 200);
  });

  app.openapi(limitRoutes.update, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    const current = await findRule(scope, id);
    const merged = { ...current, ...Object.fromEntries(Object.entries(columnsOf(c.req.valid("json"))).filter(([, v]) => v !== undefined)) } as RuleRow;
    if (Object.keys(limitsOf(merged)).length === 0) {
      throw new ProblemError("validation_failed", "A rule keeps at least one limit; delete the rule to remove them all", [{ path: "(body)", message: "would remove every limit" }]);
    }
    const [row] = await scope.db
      .update(limitRules)
      .set({
        requestsPerMinute: merged.requestsPerMinute,
        tokensPerMinute: merged.tokensPerMinute,
        usdPerDayMicros: merged.usdPerDayMicros,
        usdPerMonthMicros: merged.usdPerMonthMicros,
        updatedAt: Date.now(),
      })
      .where(scope.where(limitRules, eq(limitRules.id, id)))
      .returning();
    return c.json(serialize(row!), 200);
  });

  app.openapi(limitRoutes.delete, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    const removed = await scope.db.delete(limitRules).where(scope.where(limitRules, eq(limitRules.id, id))).returning();
    if (removed.length === 0) throw new ProblemError("not_found", `No limit rule ${id} in this org`);
    return c.body(null, 204);
  });
}
