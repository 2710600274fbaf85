import { eq, gt } from "drizzle-orm";
import { ulid } from "../../../shared/ids.ts";
import { decodeCursor, iso, toPage } from "../../../shared/api/cursor.ts";
import { guardrailRoutes } from "../../../shared/api/guardrails.ts";
import { orgOf } from "../../../shared/api/app.ts";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import { CATEGORIES, type Direction } from "../../../shared/guardrail.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { policyFor } from "../policy/load.ts";
import { scopeOf, type GuardrailApiApp } from "./app.ts";

const { guardrailRules } = schema;
type RuleRow = typeof guardrailRules.$inferSelect;

const serialize = (row: RuleRow) => ({
  id: row.id,
  detector: row.detector,
  directions: row.directions as Direction[],
  action: row.action,
  threshold: row.threshold,
  enabled: row.enabled,
  created_at: iso(row.createdAt),
  updated_at: iso(row.updatedAt),
});

async function findRule(scope: OrgScope, id: string) {
  const row = await scope.db.query.guardrailRules.findFirst({ where: scope.where(guardrailRules, eq(guardrailRules.id, id)) });
  if (!row) throw new ProblemError("not_found", `No guardrail rule ${id} in this org`);
  return row;
}

export function registerRules(app: GuardrailApiApp) {
  app.openapi(guardrailRoutes.listRules, async (c) => {
    const scope = scopeOf(c);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const rows = await scope.db.select().from(guardrailRules)
      .where(scope.where(guardrailRules, after ? gt(guardrailRules.id, after) : undefined))
      .orderBy(guardrailRules.id).limit(limit + 1);
    return c.json(toPage(rows, limit, serialize), 200);
  });

  app.openapi(guardrailRoutes.createRule, async (c) => {
    const scope = scopeOf(c);
    const body = c.req.valid("json");
    // A rule must name something that exists, or it would silently never apply.
    if (body.detector.startsWith("category:")) {
      if (!(CATEGORIES as readonly string[]).includes(body.detector.slice("category:".length))) {
        throw new ProblemError("validation_failed", `Unknown category in ${body.detector}`, [{ path: "detector", message: `categories: ${CATEGORIES.join(", ")}` }]);
      }
    } else if (body.detector !== "*") {
      const { detectors } = await policyFor(c.env.env.DB, orgOf(c.env.context).id, c.env.context.configVersion);
      if (!detectors.has(body.detector)) {
        throw new ProblemError("validation_failed", `Unknown detector ${body.detector}`, [{ path: "detector", message: "see GET /api/v1/guardrails/detectors" }]);
      }
    }
    const now = Date.now();
    const [row] = await scope.db.insert(guardrailRules).values({
      id: ulid(), orgId: scope.orgId, detector: body.detector, directions: body.directions, action: body.action,
      threshold: body.threshold, enabled: body.enabled, createdAt: now, updatedAt: now,
    }).returning();
    return c.json(serialize(row!), 201);
  });

  app.openapi(guardrailRoutes.getRule, async (c) => c.json(serialize(await findRule(scopeOf(c), c.req.valid("param").id)), 200));

  app.openapi(guardrailRoutes.updateRule, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    await findRule(scope, id);
    const [row] = await scope.db.update(guardrailRules).set({
      ...(body.directions !== undefined ? { directions: body.directions } : {}),
      ...(body.action !== undefined ? { action: body.action } : {}),
      ...(body.threshold !== undefined ? { threshold: body.threshold } : {}),
      ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
      updatedAt: Date.now(),
    }).where(scope.where(guardrailRules, eq(guardrailRules.id, id))).returning();
    return c.json(serialize(row!), 200);
  });

  app.openapi(guardrailRoutes.deleteRule, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    await findRule(scope, id);
    await scope.db.delete(guardrailRules).where(scope.where(guardrailRules, eq(guardrailRules.id, id)));
    return c.body(null, 204);
  });
}
