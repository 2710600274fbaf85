import type { EventMessage } from "../../shared/events.ts";
import type { AuthRpc, Binding, GuardrailRpc } from "../../shared/rpc.ts";

export interface Env {
  DB: D1Database;
  ORG_STATE: DurableObjectNamespace;
  AUTH: Binding<AuthRpc>;
  GUARDRAIL: Binding<GuardrailRpc>;
  EVENTS: Queue<EventMessage>;
  /** Seals upstream secrets; the session-id key is derived from it once per isolate. */
  MASTER_KEY: string;
  /** "true" only in local development: upstreams may be on loopback/private addresses over http. */
  ALLOW_PRIVATE_UPSTREAMS?: string;
  MAX_MESSAGE_BYTES?: string;
  UPSTREAM_TIMEOUT_MS?: string;
  /** How long an upstream stream answering a request may stay silent before the client gets an error. */
  UPSTREAM_IDLE_MS?: string;
}
