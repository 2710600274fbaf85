import { createRoute, z } from "@hono/zod-openapi";
import { IdParam, Name, PageQuery, Timestamp, commonErrors, json, jsonBody, noContent, notFound, page } from "./common.ts";

const tags = ["Alert destinations"];

export const DESTINATION_KINDS = ["slack", "pagerduty", "webhook", "splunk_hec", "datadog"] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

/** https only in production; private, loopback and metadata hosts are refused (422). */
const DestinationUrl = z.url({ protocol: /^https?$/ }).max(2048);
const Token = z.string().trim().min(1).max(512);

export const Severity = z.number().int().min(1).max(6).openapi({
  description: "OCSF severity_id: 1 informational, 2 low, 3 medium, 4 high, 5 critical, 6 fatal. Guardrail `alert` findings are 3, `block` findings 4",
});

/*
 * Each kind's configuration, split in two: `settings` are returned as they are; `secret`
 * (webhook URLs, keys, tokens, signing secrets) is sealed at rest and never returned, only a
 * hint of its last characters.
 */
export const SlackSettings = z.strictObject({}).openapi("SlackSettings");
export type SlackSettings = z.infer<typeof SlackSettings>;
export const SlackSecret = z
  .strictObject({ webhook_url: DestinationUrl.openapi({ description: "Incoming webhook URL, `https://hooks.slack.com/services/…`" }) })
  .openapi("SlackSecret");
export type SlackSecret = z.infer<typeof SlackSecret>;

export const PagerDutySettings = z
  .strictObject({
    events_url: DestinationUrl.default("https://events.pagerduty.com/v2/enqueue").openapi({ description: "Events API v2 endpoint" }),
  })
  .openapi("PagerDutySettings");
export type PagerDutySettings = z.infer<typeof PagerDutySettings>;
export const PagerDutySecret = z
  .strictObject({ routing_key: Token.openapi({ description: "Integration key of an Events API v2 integration" }) })
  .openapi("PagerDutySecret");
export type PagerDutySecret = z.infer<typeof PagerDutySecret>;

export const WebhookSettings = z.strictObject({}).openapi("WebhookSettings");
export type WebhookSettings = z.infer<typeof WebhookSettings>;
export const WebhookSecret = z
  .strictObject({
    url: DestinationUrl,
    signing_secret: z.string().min(32).max(512).openapi({
      description: "HMAC-SHA256 key (its UTF-8 bytes). Each request carries `X-Airlock-Signature: t=<unix seconds>,v1=<hex HMAC of \"<t>.<raw body>\">`",
    }),
  })
  .openapi("WebhookSecret");
export type WebhookSecret = z.infer<typeof WebhookSecret>;

export const SplunkHecSettings = z
  .strictObject({
    url: DestinationUrl.openapi({ description: "HEC base URL, e.g. `https://splunk.example.com:8088`; events go to `<url>/services/collector/event`" }),
    index: z.string().trim().min(1).max(80).optional().openapi({ description: "Default: the token's default index" }),
    source: z.string().trim().min(1).max(200).default("airlock"),
    sourcetype: z.string().trim().min(1).max(200).default("airlock:alert"),
  })
  .openapi("SplunkHecSettings");
export type SplunkHecSettings = z.infer<typeof SplunkHecSettings>;
export const SplunkHecSecret = z.strictObject({ token: Token.openapi({ description: "HEC token" }) }).openapi("SplunkHecSecret");
export type SplunkHecSecret = z.infer<typeof SplunkHecSecret>;

export const DATADOG_SITES = [
  "datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "datadoghq.eu", "ap1.datadoghq.com", "ap2.datadoghq.com",
  "uk1.datadoghq.com", "ddog-gov.com", "us2.ddog-gov.com",
] as const;
export const DatadogSettings = z
  .strictObject({
    site: z.enum(DATADOG_SITES).default("datadoghq.com"),
    intake_url: DestinationUrl.optional().openapi({ description: "Overrides the site's `https://http-intake.logs.<site>/api/v2/logs` (a proxy)" }),
    service: z.string().trim().min(1).max(100).default("airlock"),
    tags: z.array(z.string().regex(/^[a-zA-Z][\w\-./:]{0,199}$/, "a Datadog tag, `key:value`")).max(20).default([]),
  })
  .openapi("DatadogSettings");
export type DatadogSettings = z.infer<typeof DatadogSettings>;
export const DatadogSecret = z.strictObject({ api_key: Token.openapi({ description: "Datadog API key" }) }).openapi("DatadogSecret");
export type DatadogSecret = z.infer<typeof DatadogSecret>;

const RateLimit = z.number().int().min(1).max(1000).openapi({
  description: "Alerts per minute per detector and direction; beyond it they are counted and one summary is sent per minute",
});

const common = {
  name: Name,
  min_severity: Severity.default(1).openapi({ description: "Alerts below this OCSF severity are not sent here" }),
  enabled: z.boolean().default(true),
  rate_limit_per_minute: RateLimit.default(20),
};

export const CreateAlertDestination = z
  .discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("slack"), ...common, settings: SlackSettings.prefault({}), secret: SlackSecret }),
    z.strictObject({ kind: z.literal("pagerduty"), ...common, settings: PagerDutySettings.prefault({}), secret: PagerDutySecret }),
    z.strictObject({ kind: z.literal("webhook"), ...common, settings: WebhookSettings.prefault({}), secret: WebhookSecret }),
    z.strictObject({ kind: z.literal("splunk_hec"), ...common, settings: SplunkHecSettings, secret: SplunkHecSecret }),
    z.strictObject({ kind: z.literal("datadog"), ...common, settings: DatadogSettings.prefault({}), secret: DatadogSecret }),
  ])
  .openapi("CreateAlertDestination");

export const UpdateAlertDestination = z
  .strictObject({
    name: Name.optional(),
    enabled: z.boolean().optional(),
    min_severity: Severity.optional(),
    rate_limit_per_minute: RateLimit.optional(),
    settings: z.record(z.string(), z.unknown()).optional().openapi({ description: "Replaces the settings; same shape as on create for the destination's kind" }),
    secret: z.record(z.string(), z.unknown()).optional().openapi({
      description: "Rotates secret parts: the fields sent replace the stored ones, the others are kept",
    }),
  })
  .openapi("UpdateAlertDestination");

export const AlertDestination = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(DESTINATION_KINDS),
    settings: z.record(z.string(), z.unknown()),
    secret_hint: z.record(z.string(), z.string()).openapi({ description: "Last characters of each secret field, to recognise it; never usable", example: { webhook_url: "…x9Qz" } }),
    min_severity: Severity,
    enabled: z.boolean(),
    rate_limit_per_minute: z.number().int(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("AlertDestination");

export const TestAlert = z
  .strictObject({
    severity_id: Severity.optional().openapi({
      description: "Default: 4 (high), or the destination's min_severity if higher. Below min_severity the alert is dropped like a real one",
    }),
  })
  .openapi("TestAlert");
export const TestAlertQueued = z
  .object({ request_id: z.string().openapi({ description: "The test alert's request id, as receivers see it" }), severity_id: Severity })
  .openapi("TestAlertQueued");

export const alertDestinationRoutes = {
  list: createRoute({
    method: "get", path: "/alert-destinations", tags, summary: "Where the org's guardrail alerts go",
    request: { query: PageQuery },
    responses: { 200: json(page(AlertDestination), "A page of destinations"), ...commonErrors },
  }),
  create: createRoute({
    method: "post", path: "/alert-destinations", tags, summary: "Add a Slack, PagerDuty, webhook, Splunk HEC or Datadog destination",
    description: "Secret parts are sealed at rest and never returned. URLs must be https and public (private, loopback, link-local and metadata hosts are refused with 422).",
    request: { body: jsonBody(CreateAlertDestination) },
    responses: { 201: json(AlertDestination, "Created"), ...commonErrors },
  }),
  get: createRoute({
    method: "get", path: "/alert-destinations/{id}", tags, summary: "Get a destination (without its secret)",
    request: { params: IdParam },
    responses: { 200: json(AlertDestination, "The destination"), ...commonErrors, ...notFound },
  }),
  update: createRoute({
    method: "patch", path: "/alert-destinations/{id}", tags, summary: "Change or disable a destination, or rotate its secret",
    request: { params: IdParam, body: jsonBody(UpdateAlertDestination) },
    responses: { 200: json(AlertDestination, "Updated"), ...commonErrors, ...notFound },
  }),
  delete: createRoute({
    method: "delete", path: "/alert-destinations/{id}", tags, summary: "Delete a destination",
    request: { params: IdParam },
    responses: { 204: noContent, ...commonErrors, ...notFound },
  }),
  test: createRoute({
    method: "post", path: "/alert-destinations/{id}/test", tags, summary: "Send a test alert to this destination",
    description: "Queues a synthetic alert (detector `airlock_test_alert`) that goes through the same queue, filters, retries and request format as a real one.",
    request: { params: IdParam, body: { content: { "application/json": { schema: TestAlert } }, required: false } },
    responses: { 202: json(TestAlertQueued, "Queued"), ...commonErrors, ...notFound },
  }),
};
