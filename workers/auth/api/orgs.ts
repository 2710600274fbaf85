import { eq, gt } from "drizzle-orm";
import { ulid } from "../../../shared/ids.ts";
import { decodeCursor, iso, toPage } from "../../../shared/api/cursor.ts";
import { orgRoutes } from "../../../shared/api/orgs.ts";
import { database, orgScope, schema, type Db } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { forgetUnknownOrg } from "../orgs.ts";
import type { AuthApiApp } from "./app.ts";
import { createAdminToken } from "./credentials.ts";

const { orgs } = schema;
const serialize = (row: typeof orgs.$inferSelect) => ({ id: row.id, slug: row.slug, name: row.name, created_at: iso(row.createdAt) });

async function findOrg(db: Db, slug: string) {
  const row = await db.query.orgs.findFirst({ where: eq(orgs.slug, slug) });
  if (!row) throw new ProblemError("not_found", `No org ${slug}`);
  return row;
}

/** The platform operator's API: the only place that reads across orgs, by design. */
export function registerOrgs(app: AuthApiApp) {
  app.openapi(orgRoutes.list, async (c) => {
    const db = database(c.env.env.DB);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const rows = await db.select().from(orgs).where(after ? gt(orgs.id, after) : undefined).orderBy(orgs.id).limit(limit + 1);
    return c.json(toPage(rows, limit, serialize), 200);
  });

  app.openapi(orgRoutes.create, async (c) => {
    const db = database(c.env.env.DB);
    const body = c.req.valid("json");
    const [row] = await db
      .insert(orgs)
      .values({ id: ulid(), slug: body.slug, name: body.name, createdAt: Date.now() })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new ProblemError("conflict", `An org with slug ${body.slug} already exists`);
    forgetUnknownOrg(row.slug);
    return c.json(serialize(row), 201);
  });

  app.openapi(orgRoutes.get, async (c) => {
    return c.json(serialize(await findOrg(database(c.env.env.DB), c.req.valid("param").slug)), 200);
  });

  app.openapi(orgRoutes.mintAdminToken, async (c) => {
    const db = database(c.env.env.DB);
    const org = await findOrg(db, c.req.valid("param").slug);
    return c.json(await createAdminToken(orgScope(db, org.id), c.req.valid("json"), "operator"), 201);
  });
}
