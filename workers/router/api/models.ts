import { eq, gt } from "drizzle-orm";
import { ulid } from "../../../shared/ids.ts";
import { decodeCursor, iso, toPage } from "../../../shared/api/cursor.ts";
import { modelRoutes } from "../../../shared/api/models.ts";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import type { Deployment, Fallback } from "../../../shared/db/tables/model-gateway.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { PROVIDERS } from "../providers/index.ts";
import { scopeOf, type RouterApiApp } from "./app.ts";

const { llmModels, llmProviders } = schema;
type ModelRow = typeof llmModels.$inferSelect;

const serialize = (row: ModelRow) => ({
  id: row.id,
  name: row.name,
  aliases: row.aliases,
  deployments: row.deployments,
  fallbacks: row.fallbacks,
  price: row.price ?? null,
  created_at: iso(row.createdAt),
  updated_at: iso(row.updatedAt),
});

async function findModel(scope: OrgScope, id: string) {
  const row = await scope.db.query.llmModels.findFirst({ where: scope.where(llmModels, eq(llmModels.id, id)) });
  if (!row) throw new ProblemError("not_found", `No model ${id} in this org`);
  return row;
}

/**
 * Routing must be servable: every provider exists, and all speak one dialect (a route's
 * deployments and fallbacks stand in for each other on the same wire format). Names and
 * aliases are unique across the catalog, so a name always means one model.
 */
async function validate(scope: OrgScope, self: { id?: string; name: string; aliases: string[]; deployments: Deployment[]; fallbacks: Fallback[] }) {
  const providers = new Map((await scope.db.select().from(llmProviders).where(scope.where(llmProviders))).map((p) => [p.id, p]));
  const targets = [...self.deployments.map((d, i) => ({ ...d, path: `deployments.${i}` })), ...self.fallbacks.map((f, i) => ({ ...f, path: `fallbacks.${i}` }))];
  const errors: { path: string; message: string }[] = [];
  const dialects = new Set<string>();
  for (const target of targets) {
    const provider = providers.get(target.provider_id);
    if (!provider) errors.push({ path: `${target.path}.provider_id`, message: `no provider ${target.provider_id} in this org` });
    else dialects.add(PROVIDERS[provider.kind].dialect);
  }
  if (dialects.size > 1) errors.push({ path: "deployments", message: `deployments and fallbacks must share one API dialect (got ${[...dialects].join(", ")})` });
  if (errors.length) throw new ProblemError("validation_failed", "The model's routing is not valid", errors);

  const names = [self.name, ...self.aliases];
  if (new Set(names).size !== names.length) throw new ProblemError("validation_failed", "A model's name and aliases must differ", [{ path: "aliases", message: "duplicate" }]);
  const others = (await scope.db.select().from(llmModels).where(scope.where(llmModels))).filter((m) => m.id !== self.id);
  for (const other of others) {
    const clash = names.find((n) => n === other.name || other.aliases.includes(n));
    if (clash) throw new ProblemError("conflict", `${clash} already names model ${other.name} (${other.id})`);
  }
}

export function registerModels(app: RouterApiApp) {
  app.openapi(modelRoutes.list, async (c) => {
    const scope = scopeOf(c);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const rows = await scope.db.select().from(llmModels)
      .where(scope.where(llmModels, after ? gt(llmModels.id, after) : undefined))
      .orderBy(llmModels.id).limit(limit + 1);
    return c.json(toPage(rows, limit, serialize), 200);
  });

  app.openapi(modelRoutes.create, async (c) => {
    const scope = scopeOf(c);
    const body = c.req.valid("json");
    await validate(scope, body);
    const now = Date.now();
    const [row] = await scope.db.insert(llmModels).values({
      id: ulid(), orgId: scope.orgId, name: body.name, aliases: body.aliases, deployments: body.deployments, fallbacks: body.fallbacks,
      price: body.price, createdAt: now, updatedAt: now,
    }).returning();
    return c.json(serialize(row!), 201);
  });

  app.openapi(modelRoutes.get, async (c) => c.json(serialize(await findModel(scopeOf(c), c.req.valid("param").id)), 200));

  app.openapi(modelRoutes.update, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const current = await findModel(scope, id);
    const next = {
      id,
      name: current.name,
      aliases: body.aliases ?? current.aliases,
      deployments: body.deployments ?? current.deployments,
      fallbacks: body.fallbacks ?? current.fallbacks,
    };
    await validate(scope, next);
    const [row] = await scope.db.update(llmModels).set({
      aliases: next.aliases, deployments: next.deployments, fallbacks: next.fallbacks,
      ...(body.price !== undefined ? { price: body.price } : {}),
      updatedAt: Date.now(),
    }).where(scope.where(llmModels, eq(llmModels.id, id))).returning();
    return c.json(serialize(row!), 200);
  });

  app.openapi(modelRoutes.delete, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    await findModel(scope, id);
    await scope.db.delete(llmModels).where(scope.where(llmModels, eq(llmModels.id, id)));
    return c.body(null, 204);
  });
}
