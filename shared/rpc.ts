import type { AirlockEvent } from "./events.ts";
import type { ProblemCode } from "./problem.ts";
import type { Org, Principal } from "./principal.ts";

/**
 * The typed RPC interfaces of the internal Workers. A caller binds `Service<…>` of these
 * (see `Binding`), never the callee's module, so Workers stay independent.
 */

export type HostTarget = { kind: "org"; slug: string } | { kind: "operator" };

export interface AuthenticateInput {
  host: HostTarget;
  /** The presented secret (bearer token); null when none was sent. */
  credential: string | null;
  userAgent: string | null;
}

export type AuthResult =
  | { ok: true; org: Org | null; principal: Principal }
  | { ok: false; org: Org | null; code: ProblemCode; detail: string };

/** What a Worker serving part of the admin API learns from the router about a request. */
export interface ApiContext {
  requestId: string;
  org: Org | null;
  principal: Principal;
}

export interface Health {
  worker: string;
  ok: boolean;
  detail?: string;
}

export interface HealthRpc {
  health(): Promise<Health>;
}

export interface ApiRpc {
  /** Serve an admin/operator API request the router has authenticated. */
  api(request: Request, context: ApiContext): Promise<Response>;
}

export interface AuthRpc extends HealthRpc, ApiRpc {
  /** The org a host names, or null. Cached per isolate. */
  resolveOrg(slug: string): Promise<Org | null>;
  /** Verify a credential on a host: one call, cached per isolate by config version. */
  authenticate(input: AuthenticateInput): Promise<AuthResult>;
}

export interface MetricsRpc extends HealthRpc, ApiRpc {}
export interface GuardrailRpc extends HealthRpc {}
export interface McpRpc extends HealthRpc {}

/** A service binding as the caller sees it: RPC methods plus `fetch`. */
export type Binding<T> = Fetcher & T;

export type { AirlockEvent };
