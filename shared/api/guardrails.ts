import { createRoute, z } from "@hono/zod-openapi";
import { ActionSchema, CategorySchema, DirectionSchema, FindingSchema } from "../guardrail.ts";
import { IdParam, PageQuery, Slug, Timestamp, commonErrors, conflict, json, jsonBody, noContent, notFound, page } from "./common.ts";

const tags = ["Guardrails"];

export const Finding = z.object(FindingSchema.shape).openapi("Finding", {
  description: "Where a detector fired: offsets into the string at `path`, never the matched value",
});

export const ScanRequest = z
  .strictObject({
    direction: DirectionSchema,
    text: z.string().optional(),
    messages: z.array(z.unknown()).optional(),
    json: z.unknown().optional(),
    dry_run: z.boolean().default(true).openapi({
      description: "true (default): only report. false: also record the findings and send alerts, as live traffic would (to test the alert pipeline)",
    }),
  })
  .refine((body) => [body.text, body.messages, body.json].filter((v) => v !== undefined).length === 1, {
    message: "send exactly one of text, messages or json",
  })
  .openapi("ScanRequest");

export const ScanResult = z
  .object({
    action: ActionSchema,
    findings: z.array(Finding),
    redacted: z.object({ text: z.string().optional(), messages: z.array(z.unknown()).optional(), json: z.unknown().optional() }).optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .openapi("ScanResult");

export const DetectorInfo = z
  .object({
    id: z.string(),
    category: CategorySchema,
    placeholder: z.string(),
    description: z.string(),
    directions: z.array(DirectionSchema),
  })
  .openapi("Detector");

const RuleTarget = z
  .string()
  .regex(/^(\*|category:[a-z_]+|[a-z0-9_]+)$/, "a detector id, `category:<category>` or `*`")
  .openapi({ example: "credit_card" });
const Threshold = z.number().min(0).max(1);

export const Rule = z
  .object({
    id: z.string(),
    detector: z.string(),
    directions: z.array(DirectionSchema),
    action: ActionSchema,
    threshold: Threshold,
    enabled: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("GuardrailRule");
export const CreateRule = z
  .strictObject({
    detector: RuleTarget,
    directions: z.array(DirectionSchema).max(6).default([]).openapi({ description: "Empty: every direction" }),
    action: ActionSchema,
    threshold: Threshold.default(0.5),
    enabled: z.boolean().default(true),
  })
  .openapi("CreateGuardrailRule");
export const UpdateRule = z
  .strictObject({
    directions: z.array(DirectionSchema).max(6).optional(),
    action: ActionSchema.optional(),
    threshold: Threshold.optional(),
    enabled: z.boolean().optional(),
  })
  .openapi("UpdateGuardrailRule");

export const Settings = z
  .object({
    fail_mode: z.enum(["closed", "open"]).openapi({ description: "closed: content is blocked when inspection itself fails" }),
    redaction: z.enum(["placeholder", "mask"]),
    max_scan_bytes: z.number().int().min(1024).max(16 * 1024 * 1024),
  })
  .openapi("GuardrailSettings");

export const CustomDetector = z
  .object({
    id: z.string(),
    name: z.string(),
    detector_id: z.string(),
    kind: z.enum(["regex", "keywords"]),
    pattern: z.string().nullable(),
    keywords: z.array(z.string()).nullable(),
    case_sensitive: z.boolean(),
    score: z.number(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("CustomDetector");
export const CreateCustomDetector = z
  .strictObject({
    name: Slug,
    kind: z.enum(["regex", "keywords"]),
    pattern: z.string().min(1).max(2000).optional().openapi({ description: "RE2 syntax (linear time): no backreferences or lookaround" }),
    keywords: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
    case_sensitive: z.boolean().default(false),
    score: z.number().min(0).max(1).default(0.9),
  })
  .refine((body) => (body.kind === "regex" ? body.pattern !== undefined && body.keywords === undefined : body.keywords !== undefined && body.pattern === undefined), {
    message: "a regex detector needs `pattern`, a keywords detector needs `keywords`",
  })
  .openapi("CreateCustomDetector");

export const guardrailRoutes = {
  scan: createRoute({
    method: "post", path: "/guardrails/scan", tags, summary: "Inspect content under the org's rules",
    description: "Returns the findings, the resulting action and the redacted content, exactly as live inspection would.",
    request: { body: jsonBody(ScanRequest) },
    responses: { 200: json(ScanResult, "The inspection"), ...commonErrors },
  }),
  detectors: createRoute({
    method: "get", path: "/guardrails/detectors", tags, summary: "Every detector available to the org, built-in and custom",
    responses: { 200: json(z.object({ data: z.array(DetectorInfo) }), "The detectors"), ...commonErrors },
  }),
  listRules: createRoute({
    method: "get", path: "/guardrails/rules", tags, summary: "The org's rules (they override the shipped defaults)",
    request: { query: PageQuery },
    responses: { 200: json(page(Rule), "A page of rules"), ...commonErrors },
  }),
  createRule: createRoute({
    method: "post", path: "/guardrails/rules", tags, summary: "Add a rule: what a detector does in which directions",
    request: { body: jsonBody(CreateRule) },
    responses: { 201: json(Rule, "Created"), ...commonErrors },
  }),
  getRule: createRoute({
    method: "get", path: "/guardrails/rules/{id}", tags, summary: "Get a rule",
    request: { params: IdParam },
    responses: { 200: json(Rule, "The rule"), ...commonErrors, ...notFound },
  }),
  updateRule: createRoute({
    method: "patch", path: "/guardrails/rules/{id}", tags, summary: "Change a rule",
    request: { params: IdParam, body: jsonBody(UpdateRule) },
    responses: { 200: json(Rule, "Updated"), ...commonErrors, ...notFound },
  }),
  deleteRule: createRoute({
    method: "delete", path: "/guardrails/rules/{id}", tags, summary: "Delete a rule",
    request: { params: IdParam },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
  getSettings: createRoute({
    method: "get", path: "/guardrails/settings", tags, summary: "Fail mode, redaction style, inspection size limit",
    responses: { 200: json(Settings, "The settings"), ...commonErrors },
  }),
  putSettings: createRoute({
    method: "put", path: "/guardrails/settings", tags, summary: "Replace the guardrail settings",
    request: { body: jsonBody(Settings.strict()) },
    responses: { 200: json(Settings, "Saved"), ...commonErrors },
  }),
  listCustom: createRoute({
    method: "get", path: "/guardrails/custom-detectors", tags, summary: "The org's own detectors",
    request: { query: PageQuery },
    responses: { 200: json(page(CustomDetector), "A page of custom detectors"), ...commonErrors },
  }),
  createCustom: createRoute({
    method: "post", path: "/guardrails/custom-detectors", tags, summary: "Add a regex or keyword detector",
    request: { body: jsonBody(CreateCustomDetector) },
    responses: { 201: json(CustomDetector, "Created"), ...commonErrors, ...conflict },
  }),
  getCustom: createRoute({
    method: "get", path: "/guardrails/custom-detectors/{id}", tags, summary: "Get a custom detector",
    request: { params: IdParam },
    responses: { 200: json(CustomDetector, "The detector"), ...commonErrors, ...notFound },
  }),
  deleteCustom: createRoute({
    method: "delete", path: "/guardrails/custom-detectors/{id}", tags, summary: "Delete a custom detector",
    request: { params: IdParam },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
};
