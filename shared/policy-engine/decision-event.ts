// One event per policy decision (one per `authorizeMany` call, not one per resource; a model
// call's decision rides in the call's own event), recorded off the critical path, holding what a replay needs: the principal's entity
// data, the action, the resource(s), the facts policies read, the outcome, the
// determining policies, the version and the mode. `simulate` reads them back from D1.
import { ulid } from "../ids.ts";
import { createEventOutbox } from "../event-outbox.ts";
import { OCSF_VERSION, SEVERITY, STATUS, type AirlockEvent, type EventMessage } from "../events.ts";
import type { PolicyAction, PolicyDecision, RequestFacts, ResourceDescriptor } from "../policy.ts";
import type { Principal } from "../principal.ts";
import type { PolicyMode } from "../rpc.ts";

/** OCSF Authorize Session (IAM), activity Other: an authorization decision. */
export const POLICY_DECISION = { class_uid: 3003, category_uid: 3, activity_id: 99 } as const;
export const DECISION_TYPE_UID = POLICY_DECISION.class_uid * 100 + POLICY_DECISION.activity_id;

/** Past this many resources an `authorizeMany` event keeps the first ones (a log line stays under Logpush's 16 KB). */
export const MAX_RECORDED_RESOURCES = 300;

/** A tool packed as `[server index, tool id, ...tags]`; other resources as they are. */
type PackedResource = [number, string, ...string[]] | ResourceDescriptor;

export interface ReplayRecord {
  principal: Principal;
  action: PolicyAction;
  facts: { now: string; source_ip: string | null; findings: string[]; input?: Record<string, unknown> };
  /** `admit`: the one resource. */
  resource?: ResourceDescriptor;
  /** `authorizeMany`: the resources (tools packed against `servers`), their outcomes by index into `outcomes`. */
  servers?: { id: string; tags?: string[] }[];
  resources?: PackedResource[];
  outcomes?: { decision: "allow" | "deny"; determining: string[] }[];
  outcome_of?: number[];
  /** How many resources the call decided (more than `resources` holds when it was cut). */
  total?: number;
}

export interface PolicyDecisionAttributes {
  /** One resource's decision (a model call's admission, recorded in the call's own event). */
  decision?: "allow" | "deny";
  version: number;
  mode: PolicyMode;
  /** Whether the decision blocks (mode `enforce`); a `log_only` deny is recorded, not enforced. */
  enforced: boolean;
  action: PolicyAction;
  determining: string[];
  errors: string[];
  allowed?: number;
  denied?: number;
  replay: ReplayRecord;
}

/**
 * Tool arguments go into the record only as far as the Airlock schema declares attributes
 * of `context.input` (`inputAttributes`): those are the arguments an org chose to write
 * policies about (a SQL statement, a path), the same values the guardrail inspects; every
 * other argument, where free text and pasted secrets live, is dropped. Without declared
 * attributes nothing of the arguments is kept.
 */
function factsOf(facts: RequestFacts, inputAttributes: ReadonlySet<string>): ReplayRecord["facts"] {
  const input = Object.fromEntries(Object.entries(facts.input ?? {}).filter(([k]) => inputAttributes.has(k)));
  return {
    now: (facts.now ?? new Date()).toISOString(),
    source_ip: facts.sourceIp ?? null,
    findings: facts.findings ?? [],
    ...(Object.keys(input).length > 0 ? { input } : {}),
  };
}

function pack(resources: ResourceDescriptor[]): Pick<ReplayRecord, "servers" | "resources"> {
  const servers: { id: string; tags?: string[] }[] = [];
  const index = new Map<string, number>();
  const packed = resources.map((r): PackedResource => {
    if (r.type !== "Tool") return r;
    const key = JSON.stringify([r.server.id, r.server.tags ?? []]);
    let i = index.get(key);
    if (i === undefined) {
      i = servers.push(r.server.tags?.length ? { id: r.server.id, tags: r.server.tags } : { id: r.server.id }) - 1;
      index.set(key, i);
    }
    return [i, r.id, ...(r.tags ?? [])];
  });
  return { servers, resources: packed };
}

/** The resources an `authorizeMany` record holds, unpacked. */
export function unpack(record: ReplayRecord): ResourceDescriptor[] {
  if (record.resource) return [record.resource];
  return (record.resources ?? []).map((r) => {
    if (!Array.isArray(r)) return r;
    const [i, id, ...tags] = r;
    return { type: "Tool", id, server: record.servers![i]!, tags };
  });
}

export interface DecisionInput {
  requestId: string;
  org: { id: string; slug: string };
  principal: Principal;
  action: PolicyAction;
  facts: RequestFacts;
  version: number;
  mode: PolicyMode;
  inputAttributes: ReadonlySet<string>;
}

function envelope(input: DecisionInput, denied: boolean, policy: PolicyDecisionAttributes): AirlockEvent {
  const { principal, org } = input;
  const blocked = denied && input.mode === "enforce";
  return {
    ...POLICY_DECISION,
    type_uid: DECISION_TYPE_UID,
    severity_id: blocked ? SEVERITY.low : SEVERITY.informational,
    status_id: blocked ? STATUS.failure : STATUS.success,
    time: Date.now(),
    metadata: {
      uid: ulid(),
      correlation_uid: input.requestId,
      version: OCSF_VERSION,
      product: { name: "Airlock", vendor_name: "Airlock" },
      tenant_uid: org.id,
    },
    actor: {
      ...(principal.user_id || principal.email
        ? { user: { uid: principal.user_id, email_addr: principal.email, groups: principal.teams.map((t) => ({ uid: t.id, name: t.name })) } }
        : {}),
      app_name: principal.client.name,
    },
    src_endpoint: input.facts.sourceIp ? { ip: input.facts.sourceIp } : {},
    airlock: {
      org_id: org.id,
      org_slug: org.slug,
      decision: denied ? "deny" : "allow",
      ...(denied ? { reason: input.mode === "enforce" ? "policy_denied" : "policy_denied_log_only" } : {}),
      credential_kind: principal.kind,
      credential_id: principal.credential_id,
      roles: principal.roles,
      client: principal.client,
      policy,
    },
  };
}

/**
 * One decision on one resource, as a model call's own event records it (`airlock.policy`): one
 * event per call, not a decision event beside it, because each event costs its sender, the
 * queue, the audit writer and D1 more than the decision did.
 */
export function singleDecision(input: DecisionInput, resource: ResourceDescriptor, decision: PolicyDecision): PolicyDecisionAttributes {
  return {
    decision: decision.decision,
    version: input.version,
    mode: input.mode,
    enforced: input.mode === "enforce",
    action: input.action,
    determining: decision.determining,
    errors: decision.errors,
    replay: { principal: input.principal, action: input.action, facts: factsOf(input.facts, input.inputAttributes), resource },
  };
}

/** A single decision as an event of its own, for when no call event can carry it (several in one request). */
export function decisionEvent(input: DecisionInput, resource: ResourceDescriptor, decision: PolicyDecision): AirlockEvent {
  return envelope(input, decision.decision === "deny", singleDecision(input, resource, decision));
}

/** The one event summarising an `authorizeMany()` call. */
export function manyDecisionsEvent(input: DecisionInput, resources: ResourceDescriptor[], decisions: PolicyDecision[]): AirlockEvent {
  const outcomes: { decision: "allow" | "deny"; determining: string[] }[] = [];
  const byKey = new Map<string, number>();
  const recorded = decisions.slice(0, MAX_RECORDED_RESOURCES);
  const outcome_of = recorded.map((d) => {
    const key = `${d.decision}\u0000${d.determining.join("\u0000")}`;
    let i = byKey.get(key);
    if (i === undefined) {
      i = outcomes.push({ decision: d.decision, determining: d.determining }) - 1;
      byKey.set(key, i);
    }
    return i;
  });
  const denied = decisions.filter((d) => d.decision === "deny").length;
  return envelope(input, denied > 0, {
    version: input.version,
    mode: input.mode,
    enforced: input.mode === "enforce",
    action: input.action,
    determining: [...new Set(decisions.flatMap((d) => d.determining))],
    errors: [...new Set(decisions.flatMap((d) => d.errors))].slice(0, 20),
    allowed: decisions.length - denied,
    denied,
    replay: {
      principal: input.principal,
      action: input.action,
      facts: factsOf(input.facts, input.inputAttributes),
      ...pack(resources.slice(0, MAX_RECORDED_RESOURCES)),
      outcomes,
      outcome_of,
      total: resources.length,
    },
  });
}

const outbox = createEventOutbox<AirlockEvent>("policy");

/**
 * One compact JSON line (Logpush ships it) and the same event to the queue (the metrics
 * Worker stores it in the audit log), batched with the isolate's other decisions and built
 * only when the batch goes. A failed send is reported, never thrown: the decision was
 * already made and the log line still carries it.
 */
export function emitDecision(queue: Queue<EventMessage>, event: () => AirlockEvent): Promise<void> {
  return outbox.emit(queue, event);
}
