import { createRoute, z } from "@hono/zod-openapi";
import { IdParam, PageQuery, Timestamp, commonErrors, conflict, json, jsonBody, noContent, notFound, page } from "./common.ts";

export const LimitScope = z.enum(["key", "user", "team", "org"]).openapi({
  description: "`key`: one API key; `user`: every credential of a user; `team`: every member of a team; `org`: everyone",
});

/** At most one billion dollars, in whole micro-dollars (what the counters hold). */
const Usd = z
  .number()
  .positive()
  .max(1e9)
  .refine((usd) => Math.round(usd * 1e6) >= 1, "must be at least $0.000001")
  .openapi({ description: "US dollars; counted in micro-dollars", example: 25 });
const PerMinute = z.number().int().positive().max(1e9);

const limitFields = {
  requests_per_minute: PerMinute.openapi({ description: "Requests started per UTC minute" }),
  tokens_per_minute: PerMinute.openapi({ description: "Tokens (prompt + output, estimated at admission, settled after) per UTC minute" }),
  usd_per_day: Usd.openapi({ description: "Dollars per UTC day" }),
  usd_per_month: Usd.openapi({ description: "Dollars per UTC calendar month" }),
};
const LIMIT_NAMES = ["requests_per_minute", "tokens_per_minute", "usd_per_day", "usd_per_month"] as const;

export const LimitRule = z
  .object({
    id: z.string(),
    scope: LimitScope,
    scope_id: z.string().nullable().openapi({ description: "The key, user or team id; null for the org" }),
    requests_per_minute: z.number().int().nullable(),
    tokens_per_minute: z.number().int().nullable(),
    usd_per_day: z.number().nullable(),
    usd_per_month: z.number().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("LimitRule");

export const CreateLimitRule = z
  .strictObject({
    scope: LimitScope,
    scope_id: z.string().min(1).max(64).nullable().optional(),
    requests_per_minute: limitFields.requests_per_minute.optional(),
    tokens_per_minute: limitFields.tokens_per_minute.optional(),
    usd_per_day: limitFields.usd_per_day.optional(),
    usd_per_month: limitFields.usd_per_month.optional(),
  })
  .superRefine((rule, ctx) => {
    if (rule.scope === "org" && rule.scope_id != null) ctx.addIssue({ code: "custom", path: ["scope_id"], message: "must be null or absent for the org scope" });
    if (rule.scope !== "org" && rule.scope_id == null) ctx.addIssue({ code: "custom", path: ["scope_id"], message: `is required for the ${rule.scope} scope` });
    if (LIMIT_NAMES.every((name) => rule[name] === undefined)) {
      ctx.addIssue({ code: "custom", path: [], message: `set at least one of ${LIMIT_NAMES.join(", ")}` });
    }
  })
  .openapi("CreateLimitRule");

export const UpdateLimitRule = z
  .strictObject({
    requests_per_minute: limitFields.requests_per_minute.nullable().optional(),
    tokens_per_minute: limitFields.tokens_per_minute.nullable().optional(),
    usd_per_day: limitFields.usd_per_day.nullable().optional(),
    usd_per_month: limitFields.usd_per_month.nullable().optional(),
  })
  .openapi("UpdateLimitRule", { description: "Change limits; null removes one (a rule keeps at least one)" });

const Window = (unit: string) =>
  z.object({
    limit: z.number().nullable().openapi({ description: `The rule's limit (${unit}); null when the rule sets none` }),
    used: z.number().openapi({ description: `Settled usage in the current window (${unit})` }),
    reserved: z.number().openapi({ description: `Estimates held by requests in flight (${unit})` }),
    resets_at: Timestamp,
  });

export const ScopeSpend = z
  .object({
    rule_id: z.string(),
    scope: LimitScope,
    scope_id: z.string().nullable(),
    requests_per_minute: Window("requests"),
    tokens_per_minute: Window("tokens"),
    usd_per_day: Window("US dollars"),
    usd_per_month: Window("US dollars"),
  })
  .openapi("ScopeSpend");
export const Spend = z.object({ as_of: Timestamp, data: z.array(ScopeSpend) }).openapi("Spend");

const tags = ["Limits and budgets"];

export const limitRoutes = {
  list: createRoute({
    method: "get", path: "/limits", tags, summary: "List rate limits and budgets",
    request: { query: PageQuery },
    responses: { 200: json(page(LimitRule), "A page of limit rules"), ...commonErrors },
  }),
  spend: createRoute({
    method: "get", path: "/limits/spend", tags, summary: "Current usage and held reservations against every rule, per scope and window",
    responses: { 200: json(Spend, "Spend in the current UTC minute, day and month"), ...commonErrors },
  }),
  create: createRoute({
    method: "post", path: "/limits", tags, summary: "Set limits for a key, user, team or the org (one rule per scope)",
    request: { body: jsonBody(CreateLimitRule) },
    responses: { 201: json(LimitRule, "Created"), ...commonErrors, ...conflict },
  }),
  get: createRoute({
    method: "get", path: "/limits/{id}", tags, summary: "Get a limit rule",
    request: { params: IdParam },
    responses: { 200: json(LimitRule, "The rule"), ...commonErrors, ...notFound },
  }),
  update: createRoute({
    method: "patch", path: "/limits/{id}", tags, summary: "Change a rule's limits",
    request: { params: IdParam, body: jsonBody(UpdateLimitRule) },
    responses: { 200: json(LimitRule, "Updated"), ...commonErrors, ...notFound },
  }),
  delete: createRoute({
    method: "delete", path: "/limits/{id}", tags, summary: "Remove a limit rule (its scope is no longer limited)",
    request: { params: IdParam },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
};
