import type { AuthRpc, AuthorizeManyInput, AuthorizeManyResult } from "../rpc.ts";
import { authorizeWith, prepare, type ActivePolicy, type DecisionRecorder } from "./authorize.ts";

/**
 * Policy where the request is. The MCP gateway decides its lists and calls in its own
 * isolate: a round trip to airlock-auth per request cost more than the decision. airlock-auth
 * still owns the policies: it hands out an org's active set once per config version
 * (`AUTH.activePolicy`), and decisions are recorded as the same events it records.
 */
export interface PolicyContext extends DecisionRecorder {
  auth: Pick<AuthRpc, "activePolicy">;
}

/** Org id → its active set at a config version (every admin write bumps it). */
const cache = new Map<string, { version: number; active: Promise<ActivePolicy> }>();
const MAX_ORGS = 5_000;

function activeOf(auth: PolicyContext["auth"], orgId: string, configVersion: number): Promise<ActivePolicy> {
  const hit = cache.get(orgId);
  // A request holding an older version than this isolate has seen decides under the newer set.
  if (hit && hit.version >= configVersion) return hit.active;
  const active = auth.activePolicy(orgId, configVersion);
  const entry = { version: configVersion, active };
  if (cache.size >= MAX_ORGS) cache.clear();
  cache.set(orgId, entry);
  // A failed load is not kept: the next request tries again.
  active.catch(() => cache.get(orgId) === entry && cache.delete(orgId));
  return active;
}

/** `AUTH.authorizeMany()`'s answer, decided here under the org's active set. */
export async function authorize(ctx: PolicyContext, input: AuthorizeManyInput): Promise<AuthorizeManyResult> {
  return authorizeWith(prepare(input.org_id, await activeOf(ctx.auth, input.org_id, input.configVersion)), input, ctx);
}
