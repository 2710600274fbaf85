import { createRoute, z } from "@hono/zod-openapi";
import { PageQuery, commonErrors, json, page } from "./common.ts";

export const AuditEvent = z
  .record(z.string(), z.unknown())
  .openapi("AuditEvent", { description: "One Airlock event (OCSF top level, `gen_ai.*`/`mcp.*`, `airlock`)" });

export const auditRoutes = {
  list: createRoute({
    method: "get", path: "/audit-events", tags: ["Audit"], summary: "The org's audit log, newest first",
    request: {
      query: PageQuery.extend({
        since: z.iso.datetime().optional().openapi({ description: "Only events at or after this time" }),
        request_id: z.string().max(64).optional().openapi({ description: "Only the event of this request" }),
      }),
    },
    responses: { 200: json(page(AuditEvent), "A page of events"), ...commonErrors },
  }),
};
