import { ulid } from "./ids.ts";
import { z } from "zod";
import type { ClientInfo } from "./clients.ts";
import type { PolicyDecisionAttributes } from "./policy-engine/decision-event.ts";
import type { Org, Principal } from "./principal.ts";

/**
 * The one event shape. OCSF-compatible top level (API Activity, class 6003, for every
 * request), OpenTelemetry GenAI/MCP attributes as flat `gen_ai.*` / `mcp.*` keys when a
 * request carries them, and Airlock's own fields under `airlock`. An event never holds a
 * secret, a token, a header value or request content: only ids, names and outcomes.
 */
export const OCSF_VERSION = "1.5.0";
export const API_ACTIVITY = { class_uid: 6003, category_uid: 6 } as const;

export const ACTIVITY = { create: 1, read: 2, update: 3, delete: 4, other: 99 } as const;
export const SEVERITY = { informational: 1, low: 2, medium: 3, high: 4 } as const;
export const STATUS = { success: 1, failure: 2 } as const;

export const DecisionSchema = z.enum(["allow", "deny", "error"]);

export const AirlockEventSchema = z
  .object({
    class_uid: z.number().int(),
    category_uid: z.number().int(),
    activity_id: z.number().int(),
    type_uid: z.number().int(),
    severity_id: z.number().int(),
    status_id: z.number().int(),
    time: z.number().int(),
    metadata: z
      .object({
        uid: z.string(),
        correlation_uid: z.string(),
        version: z.string(),
        product: z.object({ name: z.string(), vendor_name: z.string() }),
        tenant_uid: z.string().optional(),
      })
      .loose(),
    airlock: z
      .object({
        org_id: z.string().nullable(),
        org_slug: z.string().nullable(),
        decision: DecisionSchema,
        reason: z.string().optional(),
      })
      .loose(),
  })
  .loose();
export type AirlockEvent = z.infer<typeof AirlockEventSchema>;

/** One `airlock-events` queue message: events an isolate emitted together (shared/event-outbox.ts). */
export type EventMessage = AirlockEvent[];

export interface RequestRecord {
  requestId: string;
  startedAt: number;
  durationMs: number;
  method: string;
  host: string;
  path: string;
  status: number;
  userAgent: string | null;
  client: ClientInfo;
  sourceIp: string | null;
  /** Which API the request addressed, e.g. `admin.teams.list`, `operator.orgs.create`. */
  operation: string;
  org: Org | null;
  principal: Principal | null;
  /** Stable problem code when the request was refused or failed. */
  reason?: string;
  /** OpenTelemetry GenAI / MCP attributes (`gen_ai.request.model`, `mcp.method.name`, …). */
  attributes?: Record<string, string | number | boolean>;
  /** The policy decision that admitted (or refused) a model call, with what a replay needs. */
  policy?: PolicyDecisionAttributes;
}

const ACTIVITY_BY_METHOD: Record<string, number> = {
  POST: ACTIVITY.create,
  GET: ACTIVITY.read,
  HEAD: ACTIVITY.read,
  PUT: ACTIVITY.update,
  PATCH: ACTIVITY.update,
  DELETE: ACTIVITY.delete,
};

function severityOf(status: number, reason?: string): number {
  if (reason === "credential_wrong_org") return SEVERITY.high;
  if (status >= 500) return SEVERITY.high;
  if (status === 401 || status === 403) return SEVERITY.medium;
  if (status >= 400) return SEVERITY.low;
  return SEVERITY.informational;
}

/** A refusal is a deny even when its protocol answers with a redirect (an OAuth error goes back to the client as a 302). */
function decisionOf(status: number, reason?: string): z.infer<typeof DecisionSchema> {
  if (status >= 500) return "error";
  return status >= 400 || reason !== undefined ? "deny" : "allow";
}

export function apiActivityEvent(record: RequestRecord): AirlockEvent {
  const activity_id = ACTIVITY_BY_METHOD[record.method] ?? ACTIVITY.other;
  const { principal, org } = record;
  const ok = record.status < 400 && record.reason === undefined;
  return {
    ...API_ACTIVITY,
    activity_id,
    type_uid: API_ACTIVITY.class_uid * 100 + activity_id,
    severity_id: severityOf(record.status, record.reason),
    status_id: ok ? STATUS.success : STATUS.failure,
    ...(record.reason ? { status_code: record.reason } : {}),
    time: record.startedAt,
    duration: record.durationMs,
    metadata: {
      uid: ulid(),
      correlation_uid: record.requestId,
      version: OCSF_VERSION,
      product: { name: "Airlock", vendor_name: "Airlock" },
      ...(org ? { tenant_uid: org.id } : {}),
    },
    actor: {
      ...(principal?.user_id || principal?.email
        ? { user: { uid: principal.user_id, email_addr: principal.email, groups: principal.teams.map((t) => ({ uid: t.id, name: t.name })) } }
        : {}),
      app_name: record.client.name,
    },
    src_endpoint: record.sourceIp ? { ip: record.sourceIp } : {},
    http_request: {
      http_method: record.method,
      url: { hostname: record.host, path: record.path },
      ...(record.userAgent ? { user_agent: record.userAgent.slice(0, 256) } : {}),
    },
    http_response: { code: record.status },
    api: { operation: record.operation, request: { uid: record.requestId }, response: { code: record.status } },
    ...record.attributes,
    airlock: {
      org_id: org?.id ?? null,
      org_slug: org?.slug ?? null,
      decision: decisionOf(record.status, record.reason),
      ...(record.reason ? { reason: record.reason } : {}),
      credential_kind: principal?.kind ?? null,
      credential_id: principal?.credential_id ?? null,
      ...(principal?.oauth_client ? { oauth_client: principal.oauth_client } : {}),
      roles: principal?.roles ?? [],
      client: record.client,
      ...(record.policy ? { policy: record.policy } : {}),
    },
  };
}

/** OCSF Detection Finding (class 2004, category Findings), one per guardrail finding. */
export const DETECTION_FINDING = { class_uid: 2004, category_uid: 2 } as const;

const SEVERITY_BY_ACTION: Record<string, number> = {
  block: SEVERITY.high, alert: SEVERITY.medium, redact: SEVERITY.low, log: SEVERITY.informational, allow: SEVERITY.informational,
};
export const severityOfAction = (action: string) => SEVERITY_BY_ACTION[action] ?? SEVERITY.informational;

export interface FindingRecord {
  requestId: string;
  time: number;
  orgId: string;
  direction: string;
  finding: { detector: string; category: string; rule?: string; path?: string; start: number; end: number; score: number; action: string };
  actor?: { user_id: string | null; email: string | null; client: string | null };
}

/** Where and what, never the matched value: detector, direction, action, offsets. */
export function detectionFindingEvent(record: FindingRecord): AirlockEvent {
  const { finding } = record;
  return {
    ...DETECTION_FINDING,
    activity_id: ACTIVITY.create,
    type_uid: DETECTION_FINDING.class_uid * 100 + ACTIVITY.create,
    severity_id: severityOfAction(finding.action),
    status_id: STATUS.success,
    time: record.time,
    metadata: {
      uid: ulid(),
      correlation_uid: record.requestId,
      version: OCSF_VERSION,
      product: { name: "Airlock", vendor_name: "Airlock" },
      tenant_uid: record.orgId,
    },
    finding_info: {
      uid: ulid(),
      title: `${finding.detector} in ${record.direction}`,
      types: [finding.category],
      analytic: { name: finding.detector, ...(finding.rule ? { uid: finding.rule } : {}), type: "Rule" },
    },
    confidence_score: Math.round(finding.score * 100),
    ...(record.actor ? { actor: { user: { uid: record.actor.user_id, email_addr: record.actor.email }, app_name: record.actor.client } } : {}),
    airlock: {
      org_id: record.orgId,
      org_slug: null,
      decision: finding.action === "block" ? "deny" : "allow",
      direction: record.direction,
      detector: finding.detector,
      category: finding.category,
      action: finding.action,
      location: { ...(finding.path !== undefined ? { path: finding.path } : {}), start: finding.start, end: finding.end },
    },
  };
}
