import { eq, gt } from "drizzle-orm";
import { ulid } from "../../../shared/ids.ts";
import type { z } from "zod";
import { alertDestinationRoutes, type DestinationKind } from "../../../shared/api/alert-destinations.ts";
import { decodeCursor, iso, toPage } from "../../../shared/api/cursor.ts";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import { ProblemError } from "../../../shared/problem.ts";
import { scopeOf, type GuardrailApiApp } from "../api/app.ts";
import type { Env } from "../env.ts";
import { DESTINATIONS } from "./destinations/index.ts";
import type { DestinationConfig } from "./destinations/types.ts";
import { TEST_DETECTOR, type AlertQueueMessage } from "./notification.ts";
import { boxFor, endpointProblem, hintOf, purposeOf, StoredSettings, type DestinationRow } from "./store.ts";

const { alertDestinations } = schema;

/** Never the sealed secret: its hint only. */
function serialize(row: DestinationRow) {
  const stored = StoredSettings.parse(row.settings);
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    settings: stored.settings,
    secret_hint: stored.secret_hint,
    min_severity: row.minSeverity,
    enabled: row.enabled,
    rate_limit_per_minute: stored.rate_limit_per_minute,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

async function findDestination(scope: OrgScope, id: string) {
  const row = await scope.db.query.alertDestinations.findFirst({ where: scope.where(alertDestinations, eq(alertDestinations.id, id)) });
  if (!row) throw new ProblemError("not_found", `No alert destination ${id} in this org`);
  return row;
}

/** A URL Airlock may not call is refused when configured, not discovered at the first alert. */
function assertEndpointAllowed(env: Env, kind: DestinationKind, config: DestinationConfig<unknown, unknown>) {
  const problem = endpointProblem(env, kind, config);
  if (problem) throw new ProblemError("validation_failed", `The destination URL is not allowed: it ${problem.message}`, [problem]);
}

/** PATCH carries settings and secret as free-form objects: they are checked against the stored kind here. */
function parsePart<T>(schema: z.ZodType<T>, value: unknown, part: "settings" | "secret", kind: DestinationKind): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ProblemError(
    "validation_failed",
    `The ${part} do not fit a ${kind} destination`,
    parsed.error.issues.map((issue) => ({ path: [part, ...issue.path].join("."), message: issue.message })),
  );
}

export function registerAlertDestinations(app: GuardrailApiApp) {
  app.openapi(alertDestinationRoutes.list, async (c) => {
    const scope = scopeOf(c);
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const rows = await scope.db.select().from(alertDestinations)
      .where(scope.where(alertDestinations, after ? gt(alertDestinations.id, after) : undefined))
      .orderBy(alertDestinations.id).limit(limit + 1);
    return c.json(toPage(rows, limit, serialize), 200);
  });

  app.openapi(alertDestinationRoutes.create, async (c) => {
    const scope = scopeOf(c);
    const env = c.env.env;
    const body = c.req.valid("json");
    assertEndpointAllowed(env, body.kind, body);
    const id = ulid();
    const now = Date.now();
    const box = await boxFor(env, scope.db, scope.orgId);
    const settings: StoredSettings = { settings: body.settings, rate_limit_per_minute: body.rate_limit_per_minute, secret_hint: hintOf(body.secret) };
    const [row] = await scope.db.insert(alertDestinations).values({
      id, orgId: scope.orgId, name: body.name, kind: body.kind, settings,
      sealedSecret: await box.seal(JSON.stringify(body.secret), purposeOf(id)),
      minSeverity: body.min_severity, enabled: body.enabled, createdAt: now, updatedAt: now,
    }).returning();
    return c.json(serialize(row!), 201);
  });

  app.openapi(alertDestinationRoutes.get, async (c) => c.json(serialize(await findDestination(scopeOf(c), c.req.valid("param").id)), 200));

  app.openapi(alertDestinationRoutes.update, async (c) => {
    const scope = scopeOf(c);
    const env = c.env.env;
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const row = await findDestination(scope, id);
    const destination = DESTINATIONS[row.kind];
    const stored = StoredSettings.parse(row.settings);
    let sealedSecret = row.sealedSecret;
    let secretHint = stored.secret_hint;
    let settings = stored.settings;

    if (body.settings !== undefined || body.secret !== undefined) {
      if (body.settings !== undefined) settings = parsePart(destination.settings, body.settings, "settings", row.kind) as Record<string, unknown>;
      const box = await boxFor(env, scope.db, scope.orgId);
      const current = JSON.parse(await box.open(row.sealedSecret, purposeOf(id))) as Record<string, unknown>;
      // The caller cannot read the secret, so it sends only the fields it rotates.
      const secret = body.secret !== undefined ? parsePart(destination.secret, { ...current, ...body.secret }, "secret", row.kind) : current;
      assertEndpointAllowed(env, row.kind, { settings, secret });
      if (body.secret !== undefined) {
        sealedSecret = await box.seal(JSON.stringify(secret), purposeOf(id));
        secretHint = hintOf(secret as Record<string, unknown>);
      }
    }

    const [updated] = await scope.db.update(alertDestinations).set({
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
      ...(body.min_severity !== undefined ? { minSeverity: body.min_severity } : {}),
      settings: { settings, rate_limit_per_minute: body.rate_limit_per_minute ?? stored.rate_limit_per_minute, secret_hint: secretHint } satisfies StoredSettings,
      sealedSecret,
      updatedAt: Date.now(),
    }).where(scope.where(alertDestinations, eq(alertDestinations.id, id))).returning();
    return c.json(serialize(updated!), 200);
  });

  app.openapi(alertDestinationRoutes.delete, async (c) => {
    const scope = scopeOf(c);
    const { id } = c.req.valid("param");
    await findDestination(scope, id);
    await scope.db.delete(alertDestinations).where(scope.where(alertDestinations, eq(alertDestinations.id, id)));
    return c.body(null, 204);
  });

  app.openapi(alertDestinationRoutes.test, async (c) => {
    const scope = scopeOf(c);
    const { context, env } = c.env;
    const row = await findDestination(scope, c.req.valid("param").id);
    const severity = c.req.valid("json").severity_id ?? Math.max(4, row.minSeverity);
    const { principal } = context;
    const message: AlertQueueMessage = {
      org_id: scope.orgId, request_id: context.requestId, time: Date.now(), direction: "prompt", action: "alert",
      detector: TEST_DETECTOR, category: "custom", score: 1, severity_id: severity, location: { start: 0, end: 0 },
      actor: { user_id: principal.user_id, email: principal.email, client: principal.client.name },
      destination_id: row.id,
    };
    await env.ALERTS.send(message);
    return c.json({ request_id: context.requestId, severity_id: severity }, 202);
  });
}
