import { eq } from "drizzle-orm";
import { database, orgScope, schema } from "../../../shared/db/index.ts";
import type { Direction } from "../../../shared/guardrail.ts";
import { customDetector } from "../detectors/custom.ts";
import { BUILT_IN_DETECTORS } from "../detectors/index.ts";
import type { Detector } from "../detectors/types.ts";
import { DEFAULT_SETTINGS } from "./defaults.ts";
import { compilePolicy, type Policy } from "./policy.ts";

export interface LoadedPolicy {
  policy: Policy;
  detectors: ReadonlyMap<string, Detector>;
}

/**
 * Org id → policy compiled for one config version. Admin writes bump the version, so a
 * rule change applies on the next inspection; in steady state no D1 row is read.
 */
const cache = new Map<string, { version: number; loaded: Promise<LoadedPolicy> }>();

async function load(d1: D1Database, orgId: string): Promise<LoadedPolicy> {
  const scope = orgScope(database(d1), orgId);
  const { guardrailRules, guardrailSettings, customDetectors } = schema;
  const [rules, settingsRow, customs] = await Promise.all([
    scope.db.select().from(guardrailRules).where(scope.where(guardrailRules, eq(guardrailRules.enabled, true))),
    scope.db.query.guardrailSettings.findFirst({ where: scope.where(guardrailSettings) }),
    scope.db.select().from(customDetectors).where(scope.where(customDetectors)),
  ]);
  const detectors = [...BUILT_IN_DETECTORS, ...customs.map(customDetector)];
  const policy = compilePolicy(
    detectors,
    rules.map((r) => ({ detector: r.detector, directions: r.directions as Direction[], action: r.action, threshold: r.threshold })),
    settingsRow ? { failMode: settingsRow.failMode, redaction: settingsRow.redaction, maxScanBytes: settingsRow.maxScanBytes } : DEFAULT_SETTINGS,
  );
  return { policy, detectors: new Map(detectors.map((d) => [d.id, d])) };
}

export function policyFor(d1: D1Database, orgId: string, version: number): Promise<LoadedPolicy> {
  const hit = cache.get(orgId);
  if (hit && hit.version === version) return hit.loaded;
  const loaded = load(d1, orgId);
  loaded.catch(() => cache.delete(orgId));
  if (cache.size > 5_000) cache.clear();
  cache.set(orgId, { version, loaded });
  return loaded;
}
