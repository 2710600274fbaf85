// The auth Worker's policy engine: Cedar (web build, loaded once per isolate) over the
// Airlock schema, and where an org's active policy set comes from.
import * as cedar from "./cedar.ts";
import { createEngine, type PreparedPolicySet } from "./engine.ts";
import { starterPolicySet } from "./templates.ts";

export const engine = createEngine(cedar);

export interface ActivePolicySet {
  version: number;
  text: string;
}

/**
 * The org's active policy set. Until versioned policy sets are stored (D1, the rest of
 * issue 5), every org runs the starter templates as version 0; the versioning work
 * replaces only this function.
 */
export async function activePolicySet(_orgId: string, _configVersion: number): Promise<ActivePolicySet> {
  return { version: 0, text: starterPolicySet() };
}

/** The org's active set, prepared once per isolate per version. */
export async function activePrepared(orgId: string, configVersion: number): Promise<PreparedPolicySet> {
  const active = await activePolicySet(orgId, configVersion);
  return engine.preparePolicySet(orgId, active.version, active.text);
}
