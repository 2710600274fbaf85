import { orgVersionCache } from "../org-cache.ts";
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

const activeAt = orgVersionCache<ActivePolicy>();

/** `AUTH.authorizeMany()`'s answer, decided here under the org's active set. */
export async function authorize(ctx: PolicyContext, input: AuthorizeManyInput): Promise<AuthorizeManyResult> {
  const { org_id: orgId, configVersion } = input;
  const active = await activeAt(orgId, configVersion, () => ctx.auth.activePolicy(orgId, configVersion));
  return authorizeWith(prepare(orgId, active), input, ctx);
}
