import type { SingleDecision } from "../../shared/policy-engine/client.ts";
import type { Org, Principal } from "../../shared/principal.ts";
import type { AlertActor } from "../../shared/rpc.ts";
import type { Env } from "./env.ts";
import type { Registry } from "./registry.ts";

/** Event attributes of one MCP request (`mcp.*`, `gen_ai.*`, `airlock.*`): no content, no secrets. */
export type McpAttributes = Record<string, string | number | boolean>;

/** Everything one client request carries through the gateway. */
export interface Call {
  env: Env;
  waitUntil(promise: Promise<unknown>): void;
  org: Org;
  principal: Principal;
  requestId: string;
  configVersion: number;
  registry: Registry;
  /** `MCP-Protocol-Version` as the client sent it, passed upstream as is. */
  protocolVersion: string | null;
  accept: string | null;
  lastEventId: string | null;
  timeoutMs: number;
  attributes: McpAttributes;
  /** Single-resource decisions made for this request: the request's event carries one; more (a batch) become events of their own. */
  decisions: SingleDecision[];
}

export const actorOf = (call: Call): AlertActor => ({
  user_id: call.principal.user_id,
  email: call.principal.email,
  client: call.principal.client.name,
});

/** Whose session it is: the user when known, else the credential. */
export const principalKey = (principal: Principal) => principal.user_id ?? principal.credential_id ?? principal.kind;
