import { eq, gt } from "drizzle-orm";
import { ulid } from "../../../shared/ids.ts";
import { decodeCursor, iso, toPage } from "../../../shared/api/cursor.ts";
import { guardrailRoutes } from "../../../shared/api/guardrails.ts";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { compileCustomRegex, customDetectorId } from "../../../shared/guardrail-engine/detectors/custom.ts";
import { scopeOf, type GuardrailApiApp } from "./app.ts";

const { customDetectors } = schema;
type Row = typeof customDetectors.$inferSelect;

const serialize = (row: Row) => ({
  id: row.id,
  name: row.name,
  detector_id: customDetectorId(row.name),
  kind: row.kind,
  pattern: row.pattern,
  keywords: row.keywords,
  case_sensitive: row.caseSensitive,
  score: row.score,
  created_at: iso(row.createdAt),
  updated_at: iso(row.updatedAt),
});

async function findCustom(scope: OrgScope, id: string) {
  const row = await scope.db.query.customDetectors.findFirst({ where: scope.where(customDetectors, eq(customDetectors.id, id)) });
  if (!row) throw new ProblemError("not_found", `No custom detector ${id} in this org`);
  return row;
}

export function registerCustomDetectors(app: GuardrailApiApp) {
  app.openapi(guardrailRoutes.listCustom, async (c) => {
    const scope = scopeOf(c);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const rows = await scope.db.select().from(customDetectors)
      .where(scope.where(customDetectors, after ? gt(customDetectors.id, after) : undefined))
      .orderBy(customDetectors.id).limit(limit + 1);
    return c.json(toPage(rows, limit, serialize), 200);
  });

  app.openapi(guardrailRoutes.createCustom, async (c) => {
    const scope = scopeOf(c);
    const body = c.req.valid("json");
    if (body.pattern !== undefined) {
      try {
        compileCustomRegex(body.pattern, body.case_sensitive);
      } catch (error) {
        throw new ProblemError("validation_failed", "The pattern is not valid RE2 syntax", [
          { path: "pattern", message: error instanceof Error ? error.message : String(error) },
        ]);
      }
    }
    const now = Date.now();
    const [row] = await scope.db.insert(customDetectors).values({
      id: ulid(), orgId: scope.orgId, name: body.name, kind: body.kind, pattern: body.pattern ?? null, keywords: body.keywords ?? null,
      caseSensitive: body.case_sensitive, score: body.score, createdAt: now, updatedAt: now,
    }).onConflictDoNothing().returning();
    if (!row) throw new ProblemError("conflict", `A custom detector named ${body.name} already exists`);
    return c.json(serialize(row), 201);
  });

  app.openapi(guardrailRoutes.getCustom, async (c) => c.json(serialize(await findCustom(scopeOf(c), c.req.valid("param").id)), 200));

  app.openapi(guardrailRoutes.deleteCustom, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    await findCustom(scope, id);
    await scope.db.delete(customDetectors).where(scope.where(customDetectors, eq(customDetectors.id, id)));
    return c.body(null, 204);
  });
}
