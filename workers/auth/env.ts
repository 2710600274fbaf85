import type { EventMessage } from "../../shared/events.ts";
import type { OrgState } from "./org-state.ts";

export interface Env {
  DB: D1Database;
  /** `airlock-events`: one event per policy decision (audit log, policy simulation). */
  EVENTS: Queue<EventMessage>;
  ORG_STATE: DurableObjectNamespace<OrgState>;
  /** Platform operator credential for `https://api.<domain>/v1` (a Worker secret). */
  OPERATOR_TOKEN: string;
  /** Wraps each org's data key (the IdP client secret is sealed under it); 32 bytes, base64 (a Worker secret). */
  MASTER_KEY: string;
  /** The OAuth authorization server's store (clients, grants, hashed tokens), one key prefix per org. */
  OAUTH_KV: KVNamespace;
  /** "true" lets an org's IdP live on a loopback or private address over http: local development and tests only. */
  ALLOW_PRIVATE_IDP?: string;
  /** How long (ms) an isolate may decide at a config version without asking the OrgState again; see wrangler.toml. */
  CONFIG_LEASE_MS?: string;
}
