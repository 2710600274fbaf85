import type { ClientInfo } from "../../shared/clients.ts";
import type { Org, Principal } from "../../shared/principal.ts";
import type { HostTarget } from "../../shared/rpc.ts";
import type { Env } from "./env.ts";

/** What the router learns about a request as it passes; the event is built from it. */
export type RouterVariables = {
  requestId: string;
  target: HostTarget | null;
  client: ClientInfo;
  operation: string;
  org: Org | null;
  principal: Principal | null;
  configVersion: number;
  reason: string | undefined;
};

export type RouterEnv = { Bindings: Env; Variables: RouterVariables };
