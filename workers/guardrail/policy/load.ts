import { eq } from "drizzle-orm";
import { database, orgScope, schema } from "../../../shared/db/index.ts";
import type { Direction } from "../../../shared/guardrail.ts";
import { DEFAULT_SETTINGS } from "../../../shared/guardrail-engine/policy/defaults.ts";
import { compileSource, type LoadedPolicy, type PolicySource } from "../../../shared/guardrail-engine/policy/source.ts";
import { orgVersionCache } from "../../../shared/org-cache.ts";

/** The org's enabled rules, settings and custom detectors, as stored. */
export async function policySource(d1: D1Database, orgId: string): Promise<PolicySource> {
  const scope = orgScope(database(d1), orgId);
  const { guardrailRules, guardrailSettings, customDetectors } = schema;
  const [rules, settingsRow, customs] = await Promise.all([
    scope.db.select().from(guardrailRules).where(scope.where(guardrailRules, eq(guardrailRules.enabled, true))),
    scope.db.query.guardrailSettings.findFirst({ where: scope.where(guardrailSettings) }),
    scope.db.select().from(customDetectors).where(scope.where(customDetectors)),
  ]);
  return {
    rules: rules.map((r) => ({ detector: r.detector, directions: r.directions as Direction[], action: r.action, threshold: r.threshold })),
    settings: settingsRow ? { failMode: settingsRow.failMode, redaction: settingsRow.redaction, maxScanBytes: settingsRow.maxScanBytes } : DEFAULT_SETTINGS,
    customDetectors: customs.map(({ name, kind, pattern, keywords, caseSensitive, score }) => ({ name, kind, pattern, keywords, caseSensitive, score })),
  };
}

/**
 * Org id → policy compiled for one config version. Admin writes bump the version, so a
 * rule change applies on the next inspection; in steady state no D1 row is read.
 */
const compiledAt = orgVersionCache<LoadedPolicy>();

export function policyFor(d1: D1Database, orgId: string, version: number): Promise<LoadedPolicy> {
  return compiledAt(orgId, version, () => policySource(d1, orgId).then(compileSource));
}
