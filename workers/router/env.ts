import type { AirlockEvent } from "../../shared/events.ts";
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
  EVENTS: Queue<AirlockEvent>;
}
