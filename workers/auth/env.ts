import type { OrgState } from "./org-state.ts";

export interface Env {
  DB: D1Database;
  ORG_STATE: DurableObjectNamespace<OrgState>;
  /** Platform operator credential for `https://api.<domain>/v1` (a Worker secret). */
  OPERATOR_TOKEN: string;
}
