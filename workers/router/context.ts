import type { ClientInfo } from "../../shared/clients.ts";
import type { PolicyDecisionAttributes } from "../../shared/policy-engine/decision-event.ts";
import type { Org, Principal } from "../../shared/principal.ts";
import type { HostTarget } from "../../shared/rpc.ts";
import type { Env } from "./env.ts";

/** What the router learns about a request as it passes; the event is built from it. */
export type RouterVariables = {
  requestId: string;
  /** The request's URL, parsed once (https, as the public URL is, even where a dev proxy hands the Worker http). */
  url: URL;
  target: HostTarget | null;
  client: ClientInfo;
  operation: string;
  org: Org | null;
  principal: Principal | null;
  configVersion: number;
  reason: string | undefined;
  /** The request body, read once by the body middleware (empty for methods without one). */
  body: Uint8Array;
  /** Set by the model and MCP gateways: resolves when the call has ended (a stream, after its last byte) with its event attributes. */
  outcome: Promise<CallOutcome> | undefined;
};

/** What a gateway call (model or MCP) adds to its request's one event. */
export interface CallOutcome {
  attributes: Record<string, string | number | boolean>;
  /** The policy decision that admitted or refused the call (model calls), built with the event. */
  policy?: () => PolicyDecisionAttributes;
  reason?: string;
  /** performance.now() when the call ended (after the stream's last byte). */
  endedAt: number;
}

export type RouterEnv = { Bindings: Env; Variables: RouterVariables };
