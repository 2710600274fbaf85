// The auth Worker's side of policy: the org's active policy set from D1, cached per isolate
// by the org's config version (every admin write bumps it), so the hot path reads no D1 row,
// and the decisions of `authorizeMany()` under it (shared/policy-engine/).
import { database, orgScope, type Db } from "../../../shared/db/index.ts";
import type { EventMessage } from "../../../shared/events.ts";
import { orgVersionCache } from "../../../shared/org-cache.ts";
import { authorizeWith, prepare, type Prepared } from "../../../shared/policy-engine/authorize.ts";
import type { AuthorizeManyInput, AuthorizeManyResult } from "../../../shared/rpc.ts";
import { readActive, type ActivePolicySet } from "./store.ts";

const activeAt = orgVersionCache<ActivePolicySet>();

/** The org's active policy set (version 0, the starter templates, until the org activates one). */
export function activePolicySet(db: Db, orgId: string, configVersion: number): Promise<ActivePolicySet> {
  return activeAt(orgId, configVersion, () => readActive(orgScope(db, orgId)));
}

/** The org's active set, prepared once per isolate per version, and how its decisions apply. */
export async function activePrepared(db: Db, orgId: string, configVersion: number): Promise<Prepared> {
  return prepare(orgId, await activePolicySet(db, orgId, configVersion));
}

interface Recorder {
  waitUntil(promise: Promise<unknown>): void;
}

/** `authorizeMany()`: one decision per resource, one event for the call. */
export async function authorizeMany(env: { DB: D1Database; EVENTS: Queue<EventMessage> }, ctx: Recorder, input: AuthorizeManyInput): Promise<AuthorizeManyResult> {
  const prepared = await activePrepared(database(env.DB), input.org_id, input.configVersion);
  return authorizeWith(prepared, input, { events: env.EVENTS, waitUntil: (promise) => ctx.waitUntil(promise) });
}
