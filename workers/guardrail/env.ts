import type { EventMessage } from "../../shared/events.ts";
import type { AlertMessage } from "../../shared/guardrail.ts";

export interface Env {
  DB: D1Database;
  ORG_STATE: DurableObjectNamespace;
  EVENTS: Queue<EventMessage>;
  ALERTS: Queue<AlertMessage>;
  /** Wraps each org's data key; alert destination secrets are sealed under it. */
  MASTER_KEY: string;
  /** "true" only in local development: alert destinations may be on loopback/private addresses. */
  ALLOW_PRIVATE_DESTINATIONS?: string;
}
