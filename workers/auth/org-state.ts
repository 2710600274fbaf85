import { DurableObject } from "cloudflare:workers";
import type { OrgStateRpc } from "../../shared/rpc.ts";
import type { Env } from "./env.ts";

/**
 * One per org. Holds the org's config version: every admin write bumps it, and every
 * isolate cache (credentials now; policies, detectors and registry later) is keyed by
 * it, so a revocation takes effect on the very next request without a D1 read per request.
 */
export class OrgState extends DurableObject<Env> implements OrgStateRpc {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS config (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
    ctx.storage.sql.exec("INSERT OR IGNORE INTO config (id, version) VALUES (1, 1)");
  }

  async configVersion(): Promise<number> {
    return this.ctx.storage.sql.exec<{ version: number }>("SELECT version FROM config WHERE id = 1").one().version;
  }

  async bumpConfigVersion(): Promise<number> {
    return this.ctx.storage.sql
      .exec<{ version: number }>("UPDATE config SET version = version + 1 WHERE id = 1 RETURNING version")
      .one().version;
  }
}

export function orgState(env: { ORG_STATE: DurableObjectNamespace<OrgState> }, orgId: string) {
  return env.ORG_STATE.getByName(orgId);
}
