import { z } from "zod";
import type { AirlockEvent } from "./events.ts";
import type { PolicySource } from "./guardrail-engine/policy/source.ts";
import type { ReservationRequest } from "./limits/limits.ts";
import type { CounterAmount, LeasedHold, OrgAdmission, VersionLease } from "./limits/protocol.ts";
import type { ActivePolicy } from "./policy-engine/authorize.ts";
import type { PolicyDecisionAttributes } from "./policy-engine/decision-event.ts";
import type { AlertMessage, InspectInput, InspectResult, RecordFindingsInput } from "./guardrail.ts";
import type { PolicyAction, PolicyDecision, RequestFacts, ResourceDescriptor } from "./policy.ts";
import type { ProblemCode } from "./problem.ts";
import { OrgSchema, PrincipalSchema, type Org, type Principal } from "./principal.ts";

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
  /**
   * The protected resource the request addresses (`https://<org host>/mcp/<server>` or
   * `…/llm/<provider>`), when it addresses one. OAuth access tokens are accepted only when
   * their audience is exactly this resource; null (admin API) refuses them.
   */
  resource?: string | null;
  /**
   * A config version the caller learned from the org's OrgState (a reservation it asked for
   * there was stale): authenticate at it or a later one, never an older one this isolate still leases.
   */
  min_config_version?: number;
}

export type AuthResult =
  | {
      ok: true;
      org: Org | null;
      principal: Principal;
      /** The org's config version (0 for the operator). */
      configVersion: number;
      /**
       * Epoch ms until which this authentication stays true, so a caller may reuse it for the
       * same credential, resource and user agent. From `authenticate()`: the end of
       * airlock-auth's lease on `configVersion` (an admin write, a revocation among them, is
       * answered only once every such lease has run out) or the credential's own expiry,
       * whichever comes first.
       */
      fresh_until?: number;
    }
  | { ok: false; org: Org | null; code: ProblemCode; detail: string };

/**
 * A model call's admission (the router's, workers/router/admission/): authenticate like
 * `authenticate()`, decide one action under the org's active policy set and, when allowed and
 * asked, reserve rate-limit and budget allowance in the org's OrgState.
 */
export interface AdmitInput extends AuthenticateInput {
  /** The router's request id: names the decision in events and keys the reservation. */
  request_id: string;
  action: PolicyAction;
  resource_entity: ResourceDescriptor;
  facts?: RequestFacts;
  /** Reserve this estimate against every limit and budget that applies (model calls). */
  reserve?: ReservationEstimate;
}

/** What a model call may cost at most, reserved at admission and settled to the real figure after. */
export interface ReservationEstimate {
  /** Prompt tokens (counted or estimated) + the output token ceiling. */
  tokens: number;
  /** The same estimate priced, in micro-dollars. */
  cost_micros: number;
}

/** Why a reservation was refused: the first limit or budget it would overrun. */
export interface LimitRefusal {
  scope: "key" | "user" | "team" | "org";
  scope_id: string;
  limit: "requests_per_minute" | "tokens_per_minute" | "usd_per_day" | "usd_per_month";
  /** Seconds until the window frees enough allowance (the `retry-after` header). */
  retry_after_s: number;
  detail: string;
}

/** How a policy set's decisions apply: `log_only` records them and blocks nothing. */
export type PolicyMode = "enforce" | "log_only";

/** A policy decision with the version and mode of the policy set that made it. */
export type AdmitDecision = PolicyDecision & { policy_version: number; mode: PolicyMode };

/**
 * Authenticated: the identity and the decision (a deny is still `ok: true`; the caller
 * refuses it only when `mode` is `enforce`, in its own protocol, and its event names
 * `decision.determining`). `limited` is set when the decision allowed but a limit refused
 * the reservation (nothing was reserved; answer 429); otherwise, when a reservation was
 * asked, it is held under `request_id` until `settle()`. `reserved` says something was held:
 * when no limit applies to the principal nothing is, and `settle()` may be skipped. `policy`
 * builds the decision's record for the call's event (built when the event is, after the answer).
 */
export type AdmitResult =
  | (AuthResult & { ok: false })
  | (AuthResult & { ok: true; decision: AdmitDecision; limited?: LimitRefusal; reserved?: true; policy?: () => PolicyDecisionAttributes });

/** The real usage of a reserved request; zeros release it (the call failed). Idempotent per request id. */
export interface SettleInput {
  org_id: string;
  request_id: string;
  tokens: number;
  cost_micros: number;
}

/** `AUTH.authorizeMany()`: one principal (already authenticated), one action, many resources. */
export interface AuthorizeManyInput {
  /** The caller's request id, for the decision's event. */
  request_id: string;
  org_id: string;
  configVersion: number;
  principal: Principal;
  action: PolicyAction;
  resources: ResourceDescriptor[];
  facts?: RequestFacts;
}

export interface AuthorizeManyResult {
  policy_version: number;
  mode: PolicyMode;
  /** One per resource, in order. */
  decisions: PolicyDecision[];
}

/** What a Worker serving part of the admin API learns from the router about a request. */
export interface ApiContext {
  requestId: string;
  org: Org | null;
  principal: Principal;
  /** The org's config version when the request was authenticated; caches key on it. */
  configVersion: number;
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
  /** Decide one action over many resources for one principal (filters a whole `tools/list`). */
  authorizeMany(input: AuthorizeManyInput): Promise<AuthorizeManyResult>;
  /** The org's active policy set at this config version or later, for callers that decide in their own isolate (shared/policy-engine/client.ts). */
  activePolicy(orgId: string, configVersion: number): Promise<ActivePolicy>;
  /** SCIM 2.0 provisioning at `/scim/v2/*` (authenticated by the org's SCIM token). */
  scim(request: Request, context: OrgRequestContext): Promise<Response>;
  /** OAuth 2.1 authorization server, its metadata, and the SSO callback (`/.well-known/*`, `/oauth/*`, `/sso/*`). */
  identity(request: Request, context: OrgRequestContext): Promise<Response>;
}

/**
 * Set by a Worker on a response to a request it refused, to the refusal's stable code (an
 * OAuth error such as `invalid_grant`, or an Airlock reason such as `sso_id_token_invalid`),
 * so the router's event names it even when the protocol answers with a redirect. The router
 * removes it before the response leaves.
 */
export const REASON_HEADER = "x-airlock-reason";

/** A request on an org's host that the router has not authenticated (the callee does). */
export interface OrgRequestContext {
  requestId: string;
  org: Org;
}

export interface MetricsRpc extends HealthRpc, ApiRpc {}

export interface GuardrailRpc extends HealthRpc, ApiRpc {
  /** Inspect a prompt, response, tool call or tool description under the org's rules. */
  inspect(input: InspectInput, actor?: AlertActor): Promise<InspectResult>;
  /**
   * The org's rules, settings and custom detectors as they are now, for callers that scan
   * where the bytes are (`shared/guardrail-engine/client.ts`, cached per config version).
   */
  policySource(orgId: string): Promise<PolicySource>;
  /** Findings a caller's own scan made: their events and alerts, as if `inspect` had found them. */
  record(input: RecordFindingsInput, actor?: AlertActor): Promise<void>;
}

export type AlertActor = AlertMessage["actor"];

/** The org's OrgState Durable Object (auth Worker), as other Workers reach it. */
export interface OrgStateRpc {
  configVersion(): Promise<number>;
  bumpConfigVersion(): Promise<number>;
  configLease(): Promise<VersionLease>;
  /** Confirms the caller decided at the current version and, if so and asked, reserves (and may lease allowance). */
  admit(knownVersion: number | null, reservation: ReservationRequest | null, wantAllowance?: boolean): Promise<OrgAdmission>;
  /** A reservation's real usage (zeros release it). Idempotent per request id. */
  settle(requestId: string, tokens: number, costMicros: number): Promise<void>;
  /** An isolate's allowance lease ends: what it used, and its unsettled holds. Idempotent. */
  returnLease(leaseId: string, used: CounterAmount[], holds: LeasedHold[]): Promise<void>;
}

/** A Worker that holds the OrgState binding. */
export interface OrgStateEnv {
  ORG_STATE: DurableObjectNamespace;
}

export function orgStateOf(namespace: DurableObjectNamespace, orgId: string): OrgStateRpc {
  return namespace.getByName(orgId) as unknown as OrgStateRpc;
}
/**
 * Who an MCP request is for, as the router authenticated it: the same on every request of a
 * session, so the gateway validates each distinct value once (workers/mcp-proxy/context.ts).
 */
export const McpCallerSchema = z.object({
  org: OrgSchema,
  principal: PrincipalSchema,
  configVersion: z.number().int().nonnegative(),
});
/** What the MCP gateway learns from the router about a request it has authenticated. */
export type McpRequestContext = z.infer<typeof McpCallerSchema> & { requestId: string };

/**
 * The router's `MCP_PROXY.fetch(request)` carries the request's caller in this header (compact
 * JSON of McpCallerSchema) and its id in MCP_REQUEST_ID_HEADER, both set by the router over
 * whatever a client sent. A service binding's own `fetch` moves the request and answer bodies
 * natively; a `Request` and `Response` passed as JS RPC arguments cost about three times as
 * much per call (measured in workerd).
 */
export const MCP_CONTEXT_HEADER = "x-airlock-mcp-context";
export const MCP_REQUEST_ID_HEADER = "x-airlock-request-id";
/**
 * The client's request headers that reach the MCP gateway: the protocol's own, which is all it
 * reads. The caller's credential, cookies and connection headers stay in the router, and a
 * request of nine headers is cheaper to build and move than a copy of all of them.
 */
export const MCP_FORWARDED_HEADERS = ["accept", "content-type", "mcp-session-id", "mcp-protocol-version", "last-event-id", "mcp-method", "mcp-name"] as const;

/**
 * Set by the MCP gateway on every response to the request's event attributes as compact
 * JSON (`mcp.method.name`, `gen_ai.tool.name`, decision, policy ids, findings count,
 * latency, sizes, `mcp.session.id` hash; never content or secrets). The router moves them
 * onto the request's one event and removes the header.
 */
export const MCP_ATTRIBUTES_HEADER = "x-airlock-mcp";
/** In those attributes: the request's one policy decision (an object, `PolicyDecisionAttributes`), which the router records as `airlock.policy`. */
export const MCP_POLICY_ATTRIBUTE = "airlock.policy";

/** `fetch` (the service binding's own) serves `/mcp/<server>…` for the principal in MCP_CONTEXT_HEADER, in the MCP protocol (JSON-RPC errors). */
export interface McpRpc extends HealthRpc, ApiRpc {
  /** Serve `/mcp-connect/…` on an org's host: a user's browser connecting their upstream account (no Airlock credential). */
  connectAccount(request: Request, context: { requestId: string; orgSlug: string }): Promise<Response>;
}

/** A service binding as the caller sees it: RPC methods plus `fetch`. */
export type Binding<T> = Fetcher & T;

export type { AirlockEvent };
