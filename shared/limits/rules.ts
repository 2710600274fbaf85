import { schema, orgScope, type Db } from "../db/index.ts";
import type { Principal } from "../principal.ts";
import { LIMITS, type LimitName, type LimitScope, type ScopeLimits } from "./limits.ts";

const { limitRules } = schema;
type RuleRow = typeof limitRules.$inferSelect;

/** The limits a rule row sets, by name (dollar limits in micro-dollars). */
export function limitsOf(row: RuleRow): Partial<Record<LimitName, number>> {
  const values: Record<LimitName, number | null> = {
    requests_per_minute: row.requestsPerMinute,
    tokens_per_minute: row.tokensPerMinute,
    usd_per_day: row.usdPerDayMicros,
    usd_per_month: row.usdPerMonthMicros,
  };
  return Object.fromEntries(LIMITS.flatMap(({ limit }) => (values[limit] === null ? [] : [[limit, values[limit]]])));
}

/** An org's rules by `scope:scope_id` (the org rule under `org:`). */
type RuleIndex = Map<string, Partial<Record<LimitName, number>>>;
const keyOf = (scope: LimitScope, scopeId: string | null) => `${scope}:${scopeId ?? ""}`;

/**
 * Org → its limit rules, per isolate, valid while the org's config version is unchanged
 * (limit writes bump it, and admission confirms the version with the OrgState in the same
 * call that reserves): steady state reads no D1 row.
 */
const MAX_CACHED = 10_000;
// Values, not promises: workerd cannot hand one request's pending I/O to another.
const cache = new Map<string, { version: number; rules: RuleIndex }>();

export async function limitRulesOf(db: Db, orgId: string, version: number): Promise<RuleIndex> {
  const hit = cache.get(orgId);
  if (hit?.version === version) return hit.rules;
  const scope = orgScope(db, orgId);
  const rows = await scope.db.select().from(limitRules).where(scope.where(limitRules));
  const rules: RuleIndex = new Map(rows.map((row) => [keyOf(row.scope, row.scopeId), limitsOf(row)] as const));
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(orgId, { version, rules });
  return rules;
}

/** The scopes a principal's request counts against, narrowest first: its key, its user, each of its teams, the org. */
export function scopesFor(rules: RuleIndex, principal: Principal, orgId: string): ScopeLimits[] {
  if (rules.size === 0) return [];
  const candidates: [LimitScope, string | null, string][] = [];
  if (principal.credential_id) candidates.push(["key", principal.credential_id, principal.credential_id]);
  if (principal.user_id) candidates.push(["user", principal.user_id, principal.user_id]);
  for (const team of principal.teams) candidates.push(["team", team.id, team.id]);
  candidates.push(["org", null, orgId]);
  return candidates.flatMap(([scope, ruleId, scopeId]) => {
    const limits = rules.get(keyOf(scope, ruleId));
    return limits ? [{ scope, scope_id: scopeId, limits }] : [];
  });
}
