// The policy engine: Cedar over the Airlock schema. Independent of how Cedar was loaded
// (`createEngine` takes the module), so the auth Worker runs it over the `web` build in
// workerd (./index.ts) and the benchmark over the `nodejs` build, the same code.
import type * as CedarModule from "@cedar-policy/cedar-wasm/web";
import type { CedarValueJson, DetailedError, EntityJson, EntityUidJson } from "@cedar-policy/cedar-wasm/web";
import type { Principal } from "../../../shared/principal.ts";
import type { PolicyAction as Action, PolicyDecision as Decision, RequestFacts, ResourceDescriptor } from "../../../shared/policy.ts";
import { airlockSchema, type CedarTypeText } from "./schema.ts";

export type Cedar = Pick<
  typeof CedarModule,
  "validate" | "checkParsePolicySet" | "policySetTextToParts" | "policyToJson" | "preparsePolicySet" | "preparseSchema" | "statefulIsAuthorized"
>;

export interface PolicyError {
  message: string;
  /** The policy's `@id` annotation (or Cedar's `policyN` when it has none). */
  policyId?: string;
  /** Offsets in the policy set text (Cedar's own source locations). */
  start?: number;
  end?: number;
  help?: string;
}

export type Validation = { ok: true; warnings: PolicyError[] } | { ok: false; errors: PolicyError[] };

/** A policy set parsed once into Cedar's per-isolate store; pass it to `decide`. */
export interface PreparedPolicySet {
  readonly org: string;
  readonly version: number;
  /** The `@id` of every policy, in text order. */
  readonly policyIds: readonly string[];
  /** The policy set as `@id` → text (what Cedar holds). */
  readonly policies: Readonly<Record<string, string>>;
  /** Where Cedar holds it: one slot per org, so an isolate keeps one prepared set per org. */
  readonly slot: string;
}

export type { Action, Decision, ResourceDescriptor, RequestFacts };

export interface DecisionRequest extends RequestFacts {
  principal: Principal;
  action: Action;
  resource: ResourceDescriptor;
}

const NS = "Airlock";
const uid = (type: string, id: string): { type: string; id: string } => ({ type: `${NS}::${type}`, id });
const set = (values: Iterable<string>) => [...new Set(values)];

/** `entity uid → the entity`, the slice Cedar needs for one request. */
type Slice = Map<string, EntityJson>;

function put(slice: Slice, type: string, id: string, attrs: Record<string, CedarValueJson>, parents: EntityUidJson[] = []) {
  slice.set(`${type}\u0000${id}`, { uid: uid(type, id), attrs, parents });
}

/** The Cedar principal for an Airlock principal: its user when it has one, else its key. */
export function principalUid(principal: Principal): { type: string; id: string } {
  if (principal.user_id) return uid("User", principal.user_id);
  return uid("ApiKey", principal.credential_id ?? `${principal.kind}:anonymous`);
}

function principalEntities(slice: Slice, principal: Principal) {
  const teamParents = principal.teams.map((t) => uid("Team", t.name));
  for (const t of principal.teams) put(slice, "Team", t.name, { id: t.id });
  if (principal.user_id) {
    put(slice, "User", principal.user_id, { email: principal.email ?? "", teams: set(principal.teams.map((t) => t.name)), roles: set(principal.roles) }, teamParents);
  } else {
    const id = principalUid(principal).id;
    put(slice, "ApiKey", id, { kind: principal.kind, roles: set(principal.roles) }, teamParents);
  }
  const agent: Record<string, CedarValueJson> = { name: principal.client.name };
  if (principal.client.version) agent.version = principal.client.version;
  if (principal.oauth_client) agent.oauth_client = principal.oauth_client.name;
  put(slice, "Agent", principal.client.name, agent);
}

function resourceEntities(slice: Slice, resource: ResourceDescriptor): { type: string; id: string } {
  const server = (s: { id: string; tags?: string[] }) => {
    put(slice, "McpServer", s.id, { name: s.id, tags: set(s.tags ?? []) });
    return [uid("McpServer", s.id)];
  };
  switch (resource.type) {
    case "Model": {
      const p = resource.provider;
      put(slice, "Provider", p.id, { kind: p.kind, consumer: p.consumer });
      put(slice, "Model", resource.id, { name: resource.id, consumer: resource.consumer ?? p.consumer }, [uid("Provider", p.id)]);
      return uid("Model", resource.id);
    }
    case "McpServer":
      server(resource);
      return uid("McpServer", resource.id);
    case "Tool": {
      const id = `${resource.server.id}/${resource.id}`;
      put(slice, "Tool", id, { name: resource.id, tags: set(resource.tags ?? []) }, server(resource.server));
      return uid("Tool", id);
    }
    case "Resource":
      put(slice, "Resource", resource.uri, { uri: resource.uri }, server(resource.server));
      return uid("Resource", resource.uri);
    case "Prompt": {
      const id = `${resource.server.id}/${resource.id}`;
      put(slice, "Prompt", id, { name: resource.id }, server(resource.server));
      return uid("Prompt", id);
    }
    case "AgentTool":
      put(slice, "AgentTool", resource.id, { name: resource.id });
      return uid("AgentTool", resource.id);
    case "Org":
      put(slice, "Org", resource.slug, { slug: resource.slug });
      return uid("Org", resource.slug);
    default: {
      // Descriptors arrive over RPC: a type Airlock does not know goes to Cedar as it is,
      // and Cedar's request validation refuses it (deny, with Cedar's message).
      const unknown = resource as { type: unknown; id?: unknown };
      const id = String(unknown.id ?? "");
      put(slice, String(unknown.type), id, {});
      return uid(String(unknown.type), id);
    }
  }
}

/** The entity slice for one principal and one resource: the entities and the request's uids. */
export function entitiesFor(principal: Principal, resource: ResourceDescriptor) {
  const slice: Slice = new Map();
  principalEntities(slice, principal);
  const resourceUid = resourceEntities(slice, resource);
  return { principal: principalUid(principal), resource: resourceUid, entities: [...slice.values()] };
}

const TOOL_CONTEXT_ACTIONS: ReadonlySet<Action> = new Set(["call_tool", "use_hook"]);

/** Cedar's JSON for a tool argument; Cedar has no null or float, so those stay as strings. */
function cedarValue(value: unknown): CedarValueJson {
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : String(value);
  if (Array.isArray(value)) return value.map(cedarValue);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cedarValue(v)]));
  return String(value);
}

export function contextFor(action: Action, facts: RequestFacts, principal: Principal, inputAttributes: ReadonlySet<string>): Record<string, CedarValueJson> {
  const now = facts.now ?? new Date();
  const context: Record<string, CedarValueJson> = {
    now: { __extn: { fn: "datetime", arg: now.toISOString() } },
    time: { hour: now.getUTCHours(), minute: now.getUTCMinutes(), weekday: now.getUTCDay() },
    agent: { __entity: uid("Agent", principal.client.name) },
    findings: set(facts.findings ?? []),
  };
  if (facts.sourceIp) context.source_ip = { __extn: { fn: "ip", arg: facts.sourceIp } };
  if (TOOL_CONTEXT_ACTIONS.has(action)) {
    const input: Record<string, CedarValueJson> = {};
    for (const [key, value] of Object.entries(facts.input ?? {})) if (inputAttributes.has(key)) input[key] = cedarValue(value);
    context.input = input;
  }
  return context;
}

const errorOf = (e: DetailedError, policyId?: string): PolicyError => {
  const location = e.sourceLocations?.[0];
  return {
    message: e.message,
    ...(policyId ? { policyId } : {}),
    ...(location ? { start: location.start, end: location.end } : {}),
    ...(e.help ? { help: e.help } : {}),
  };
};

export interface EngineOptions {
  /** Attributes of `context.input` (see schema.ts). */
  input?: Record<string, CedarTypeText>;
}

export function createEngine(cedar: Cedar, options: EngineOptions = {}) {
  const schema = airlockSchema(options.input);
  const inputAttributes = new Set(Object.keys(options.input ?? {}));
  const schemaName = "airlock";
  const loaded = cedar.preparseSchema(schemaName, schema);
  if (loaded.type !== "success") throw new Error(`Airlock schema: ${loaded.errors.map((e) => e.message).join("; ")}`);

  /**
   * Splits a policy set into its policies and maps Cedar's positional ids (`policy0`, …,
   * assigned in text order) to each policy's `@id`. Cedar returns the parts sorted by
   * positional id as strings, so sorting the positional ids the same way pairs them up.
   */
  function split(text: string): { ok: true; byPositional: Map<string, string>; policies: Record<string, string>; order: string[] } | { ok: false; errors: PolicyError[] } {
    const parts = cedar.policySetTextToParts(text);
    if (parts.type !== "success") return { ok: false, errors: parts.errors.map((e) => errorOf(e)) };
    if (parts.policy_templates.length > 0) return { ok: false, errors: [{ message: "policy templates (`?principal`, `?resource`) are not supported; write static policies" }] };
    const positional = parts.policies.map((_, i) => `policy${i}`).sort();
    const byPositional = new Map<string, string>();
    const policies: Record<string, string> = {};
    const errors: PolicyError[] = [];
    parts.policies.forEach((policyText, i) => {
      const pos = positional[i]!;
      const json = cedar.policyToJson(policyText);
      const id = (json.type === "success" ? json.json.annotations?.id : undefined) ?? pos;
      if (Object.hasOwn(policies, id)) errors.push({ message: `two policies have @id("${id}")`, policyId: id });
      byPositional.set(pos, id);
      policies[id] = policyText;
    });
    if (errors.length > 0) return { ok: false, errors };
    const order = [...byPositional.entries()].sort((a, b) => Number(a[0].slice(6)) - Number(b[0].slice(6))).map(([, id]) => id);
    return { ok: true, byPositional, policies, order };
  }

  /** Parses and validates a policy set against the Airlock schema (strict mode); errors carry Cedar's positions in `text`. */
  function validatePolicySet(text: string): Validation {
    const parsed = split(text);
    if (!parsed.ok) return parsed;
    const answer = cedar.validate({ schema, policies: { staticPolicies: text }, validationSettings: { mode: "strict" } });
    if (answer.type !== "success") return { ok: false, errors: answer.errors.map((e) => errorOf(e)) };
    const named = (list: { policyId: string; error: DetailedError }[]) =>
      list.map((v) => errorOf(v.error, parsed.byPositional.get(v.policyId) ?? v.policyId));
    if (answer.validationErrors.length > 0) return { ok: false, errors: named(answer.validationErrors) };
    return { ok: true, warnings: [...named(answer.validationWarnings), ...answer.otherWarnings.map((e) => errorOf(e))] };
  }

  /** Prepared sets of this isolate, by org; Cedar holds each under its org's slot. */
  const prepared = new Map<string, PreparedPolicySet>();

  /**
   * The org's policy set at `version`, prepared once per isolate. Validates first: a set
   * that does not validate is never prepared (throws with the errors).
   */
  function preparePolicySet(org: string, version: number, text: string): PreparedPolicySet {
    const current = prepared.get(org);
    if (current && current.version === version) return current;
    const validation = validatePolicySet(text);
    if (!validation.ok) throw new PolicySetInvalid(validation.errors);
    const parsed = split(text);
    if (!parsed.ok) throw new PolicySetInvalid(parsed.errors);
    const set: PreparedPolicySet = { org, version, policyIds: parsed.order, policies: parsed.policies, slot: `org:${org}` };
    load(set);
    prepared.set(org, set);
    return set;
  }

  /** The set Cedar holds in each slot (a slot is reused by the org's next version). */
  const inSlot = new Map<string, PreparedPolicySet>();
  function load(set: PreparedPolicySet) {
    const answer = cedar.preparsePolicySet(set.slot, { staticPolicies: { ...set.policies } });
    if (answer.type !== "success") throw new PolicySetInvalid(answer.errors.map((e) => errorOf(e)));
    inSlot.set(set.slot, set);
  }

  function decideIn(set: PreparedPolicySet, principalEntity: { type: string; id: string }, resourceEntity: { type: string; id: string }, action: Action, context: Record<string, CedarValueJson>, entities: EntityJson[]): Decision {
    // A caller may hold an older version than the slot now has: put its own back first.
    if (inSlot.get(set.slot) !== set) load(set);
    const answer = cedar.statefulIsAuthorized({
      principal: principalEntity,
      action: uid("Action", action),
      resource: resourceEntity,
      context,
      entities,
      preparsedPolicySetId: set.slot,
      preparsedSchemaName: schemaName,
      validateRequest: true,
    });
    if (answer.type !== "success") return { decision: "deny", determining: [], errors: answer.errors.map((e) => e.message) };
    const { decision, diagnostics } = answer.response;
    return {
      decision,
      determining: diagnostics.reason,
      errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
    };
  }

  /** One decision; default deny when no policy permits. */
  function decide(set: PreparedPolicySet, request: DecisionRequest): Decision {
    const slice = entitiesFor(request.principal, request.resource);
    const context = contextFor(request.action, request, request.principal, inputAttributes);
    return decideIn(set, slice.principal, slice.resource, request.action, context, slice.entities);
  }

  /** Decisions for many resources of one principal and action (e.g. every tool of a `tools/list`), in order. */
  function decideMany(set: PreparedPolicySet, request: Omit<DecisionRequest, "resource"> & { resources: ResourceDescriptor[] }): Decision[] {
    const base: Slice = new Map();
    principalEntities(base, request.principal);
    const principalEntity = principalUid(request.principal);
    const context = contextFor(request.action, request, request.principal, inputAttributes);
    const shared = [...base.values()];
    return request.resources.map((resource) => {
      const slice: Slice = new Map();
      const resourceEntity = resourceEntities(slice, resource);
      return decideIn(set, principalEntity, resourceEntity, request.action, context, [...shared, ...slice.values()]);
    });
  }

  return { schema, validatePolicySet, preparePolicySet, decide, decideMany };
}

export type Engine = ReturnType<typeof createEngine>;

export class PolicySetInvalid extends Error {
  readonly errors: PolicyError[];
  constructor(errors: PolicyError[]) {
    super(`policy set does not validate: ${errors.map((e) => e.message).join("; ")}`);
    this.name = "PolicySetInvalid";
    this.errors = errors;
  }
}
