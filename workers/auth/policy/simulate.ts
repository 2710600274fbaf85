// Replays an org's recorded decisions of a time window under another policy set (a draft
// or a stored version) and reports every decision that would change.
import { and, asc, eq, gte, lt, lte, or, sql } from "drizzle-orm";
import { encodeTime } from "ulid";
import { iso } from "../../../shared/api/cursor.ts";
import { schema, type OrgScope } from "../../../shared/db/index.ts";
import { API_ACTIVITY } from "../../../shared/events.ts";
import type { ResourceDescriptor } from "../../../shared/policy.ts";
import { DECISION_TYPE_UID, unpack, type PolicyDecisionAttributes } from "../../../shared/policy-engine/decision-event.ts";
import type { Engine, PreparedPolicySet } from "../../../shared/policy-engine/engine.ts";

const { auditEvents } = schema;

/** One simulation reads at most this many records and replays at most this many decisions (then says `truncated`). */
const MAX_RECORDS = 5000;
const MAX_DECISIONS = 50_000;

/** How a resource reads in a report: `Tool prod-db/query`. */
export function resourceLabel(r: ResourceDescriptor): string {
  switch (r.type) {
    case "Model": return `Model ${r.provider.id}/${r.id}`;
    case "Tool": return `Tool ${r.server.id}/${r.id}`;
    case "Prompt": return `Prompt ${r.server.id}/${r.id}`;
    case "Resource": return `Resource ${r.uri}`;
    case "Org": return `Org ${r.slug}`;
    default: return `${r.type} ${r.id}`;
  }
}

type Outcome = { decision: "allow" | "deny"; determining: string[] };
type Change = { allow_to_deny: number; deny_to_allow: number };

export async function simulate(scope: OrgScope, engine: Engine, set: PreparedPolicySet, version: number | null, window: { from: number; to: number }, sampleLimit: number) {
  // Audit ids are ULIDs minted when the event was: the (org_id, id) index finds the window.
  const rows = await scope.db
    .select({ id: auditEvents.id, time: auditEvents.time, requestId: auditEvents.requestId, event: auditEvents.event })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.orgId, scope.orgId),
        gte(auditEvents.id, encodeTime(window.from, 10)),
        lt(auditEvents.id, encodeTime(window.to + 1, 10)),
        gte(auditEvents.time, window.from),
        lte(auditEvents.time, window.to),
        // Decision events, and model calls' own events, which carry their admission's decision.
        or(
          eq(auditEvents.typeUid, DECISION_TYPE_UID),
          and(gte(auditEvents.typeUid, API_ACTIVITY.class_uid * 100), lt(auditEvents.typeUid, (API_ACTIVITY.class_uid + 1) * 100), sql`json_type(${auditEvents.event}, '$.airlock.policy') IS NOT NULL`),
        ),
      ),
    )
    .orderBy(asc(auditEvents.id))
    .limit(MAX_RECORDS + 1);

  let truncated = rows.length > MAX_RECORDS;
  let replayed = 0;
  let changed = 0;
  const byAction = new Map<string, Change>();
  const byResource = new Map<string, Change & { action: string; resource: string }>();
  const samples: {
    request_id: string;
    time: string;
    principal: { user_id: string | null; email: string | null; teams: string[] };
    action: string;
    resource: string;
    before: Outcome & { version: number };
    after: Outcome;
  }[] = [];

  for (const row of rows.slice(0, MAX_RECORDS)) {
    const policy = (row.event as { airlock: { policy?: PolicyDecisionAttributes; decision: string } }).airlock.policy;
    if (!policy) continue;
    const { replay } = policy;
    const resources = unpack(replay);
    if (replayed + resources.length > MAX_DECISIONS) {
      truncated = true;
      break;
    }
    const facts = {
      now: new Date(replay.facts.now),
      sourceIp: replay.facts.source_ip,
      findings: replay.facts.findings,
      ...(replay.facts.input ? { input: replay.facts.input } : {}),
    };
    const before: Outcome[] = replay.resource
      ? [{ decision: policy.decision ?? (row.event as { airlock: { decision: "allow" | "deny" } }).airlock.decision, determining: policy.determining }]
      : replay.outcome_of!.map((i) => replay.outcomes![i]!);
    const after = engine.decideMany(set, { ...facts, principal: replay.principal, action: replay.action, resources });
    replayed += resources.length;
    after.forEach((now, i) => {
      const was = before[i]!;
      if (now.decision === was.decision) return;
      changed++;
      const key = now.decision === "deny" ? "allow_to_deny" : "deny_to_allow";
      const action = byAction.get(replay.action) ?? { allow_to_deny: 0, deny_to_allow: 0 };
      action[key]++;
      byAction.set(replay.action, action);
      const label = resourceLabel(resources[i]!);
      const resource = byResource.get(`${replay.action} ${label}`) ?? { action: replay.action, resource: label, allow_to_deny: 0, deny_to_allow: 0 };
      resource[key]++;
      byResource.set(`${replay.action} ${label}`, resource);
      if (samples.length < sampleLimit) {
        samples.push({
          request_id: row.requestId,
          time: iso(row.time),
          principal: { user_id: replay.principal.user_id, email: replay.principal.email, teams: replay.principal.teams.map((t) => t.name) },
          action: replay.action,
          resource: label,
          before: { ...was, version: policy.version },
          after: { decision: now.decision, determining: now.determining },
        });
      }
    });
  }

  const most = <T extends Change>(list: T[]) => list.sort((a, b) => b.allow_to_deny + b.deny_to_allow - (a.allow_to_deny + a.deny_to_allow));
  return {
    from: iso(window.from),
    to: iso(window.to),
    version,
    replayed,
    changed,
    truncated,
    by_action: most([...byAction].map(([action, c]) => ({ action, ...c }))),
    by_resource: most([...byResource.values()]),
    samples,
  };
}
