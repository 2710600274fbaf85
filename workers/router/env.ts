import type { EventMessage } from "../../shared/events.ts";
import type { AuthRpc, Binding, GuardrailRpc, McpRpc, MetricsRpc } from "../../shared/rpc.ts";

export interface Env {
  /** Orgs answer at `<org>.<BASE_DOMAIN>`; the operator API at `api.<BASE_DOMAIN>`. */
  BASE_DOMAIN: string;
  /** Largest request body accepted, in bytes (default 1 MiB). */
  MAX_BODY_BYTES?: string;
  AUTH: Binding<AuthRpc>;
  GUARDRAIL: Binding<GuardrailRpc>;
  MCP_PROXY: Binding<McpRpc>;
  METRICS: Binding<MetricsRpc>;
  EVENTS: Queue<EventMessage>;
  /** The model gateway's registry (providers, catalog) and sealed provider credentials. */
  DB: D1Database;
  /** The auth Worker's OrgState: the org's config version, bumped by the gateway's admin writes. */
  ORG_STATE: DurableObjectNamespace;
  /** Wraps each org's data key (provider credentials are sealed). */
  MASTER_KEY: string;
  /** "true" only in local development and tests: provider base URLs may be http and private (fixtures on 127.0.0.1). */
  ALLOW_PRIVATE_UPSTREAMS?: string;
}
