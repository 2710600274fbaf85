import { and, desc, eq, gte, lt } from "drizzle-orm";
import { apiApp, orgOf } from "../../shared/api/app.ts";
import { auditRoutes } from "../../shared/api/audit.ts";
import { decodeCursor, toPage } from "../../shared/api/cursor.ts";
import { database, orgScope, schema } from "../../shared/db/index.ts";
import type { Env } from "./env.ts";

const { auditEvents } = schema;

const admin = apiApp<Env>().basePath("/api/v1");

admin.openapi(auditRoutes.list, async (c) => {
  const scope = orgScope(database(c.env.env.DB), orgOf(c.env.context).id);
  const { limit, cursor, since, request_id } = c.req.valid("query");
  const before = decodeCursor(cursor);
  const rows = await scope.db
    .select({ id: auditEvents.id, event: auditEvents.event })
    .from(auditEvents)
    .where(
      scope.where(
        auditEvents,
        and(
          before ? lt(auditEvents.id, before) : undefined,
          since ? gte(auditEvents.time, Date.parse(since)) : undefined,
          request_id ? eq(auditEvents.requestId, request_id) : undefined,
        ),
      ),
    )
    .orderBy(desc(auditEvents.id))
    .limit(limit + 1);
  return c.json(toPage(rows, limit, (row) => row.event as Record<string, unknown>), 200);
});

export const api = apiApp<Env>();
api.route("/", admin);
